"""PINNacle's HInv: the diffusivity a(x, y) of a 2-D heat equation found from noisy observations of
the temperature u (Hao et al. 2024, "PINNacle: A Comprehensive Benchmark of Physics-Informed
Neural Networks for Solving PDEs", NeurIPS Datasets and Benchmarks; repository i207M/PINNacle,
MIT, ``src/pde/inverse.py``, class ``HeatInv``, lines 91-167, at commit 6f8d69c):

    u_t = div(a grad u) + f = a (u_xx + u_yy) + a_x u_x + a_y u_y + f     in  [-1, 1]^2 x [0, 1],
    a = a*                                                                 on the four edges, for all t,
    u = u* + noise                                                         at 2500 observed points,

with the exact solution u* = exp(-t) sin(pi x) sin(pi y), a* = 2 + sin(pi x) sin(pi y), and the
source f that makes it one,

    f = exp(-t) ((4 pi^2 - 1) sin(pi x) sin(pi y)
                 + pi^2 (2 sin^2(pi x) sin^2(pi y) - cos^2(pi x) sin^2(pi y) - sin^2(pi x) cos^2(pi y))).

The network has two outputs, u and a; a is a field learned with u, not a constant. There is no
initial condition and no condition on u at the walls: u is known only through the data.

Where each piece comes from (inverse.py): the outputs u, a (95); the box [-1, 1]^2 x [0, 1]
(97-100); f (102-114); u* and a* (116-122); the residual u_t - d(a u_x)/dx - d(a u_y)/dy - f
(129-136); the data: the points of ``ref/heatinv_points.dat`` (2500 rows of x, y, t) with u* plus
Gaussian noise of standard deviation 0.1 (150-158), which the equation's ``observations``
settings give here (``at``, ``outputs: [u]``, ``noise_sd: 0.1``; the terms ``data_u``); a = a*
on the spatial boundary (159-163; a* = 2 there); 4 x the default point counts (167).

PINNacle's loss terms [pde, data_loss, bc_a] are the condition ``residual`` (component ``u``),
the observations' ``data_u`` and the condition ``boundary`` (component ``a``). The error is
PINNacle's: the relative L2 error pooled over u and a (``l2/all``) on PINNacle's own test points,
which the equation's ``reference_interior`` settings give (20000 points of the space-time box:
17 x 17 interior (x, y) points at 71 times; src/utils/callbacks.py:136-145).
"""

from __future__ import annotations

import math

from pinnrun.problems import Condition, Problem


class HeatInverse(Problem):
    variables = ("x", "y", "t")
    outputs = ("u", "a")
    fields = ("u", "a")

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "boundary": Condition(
                ("a",), lambda d: {"a": d["a"] - self.diffusivity(d.input("x"), d.input("y"))}, boundary=("x", "y")
            ),
        }

    @staticmethod
    def diffusivity(x, y):
        """a* = 2 + sin(pi x) sin(pi y) (inverse.py:120-122)."""
        return 2 + (x * math.pi).sin() * (y * math.pi).sin()

    def source(self, x, y, t):
        """f (inverse.py:102-114)."""
        p = math.pi
        sx, sy, cx, cy = (p * x).sin(), (p * y).sin(), (p * x).cos(), (p * y).cos()
        return (-t).exp() * ((4 * p**2 - 1) * sx * sy + p**2 * (2 * sx**2 * sy**2 - cx**2 * sy**2 - sx**2 * cy**2))

    def exact(self, x):
        s = (math.pi * x["x"]).sin() * (math.pi * x["y"]).sin()
        return {"u": (-x["t"]).exp() * s, "a": 2 + s}

    def residual(self, d):
        x, y, t = d.input("x"), d.input("y"), d.input("t")
        flux = d["a"] * (d["u_xx"] + d["u_yy"]) + d["a_x"] * d["u_x"] + d["a_y"] * d["u_y"]
        return {"u": d["u_t"] - flux - self.source(x, y, t)}


PROBLEM = HeatInverse
