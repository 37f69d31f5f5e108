"""PINNacle's Poisson2d-CG ("Poisson-Boltzmann", complex geometry): a screened Poisson equation
with a smooth source on a square with four disk holes, u = 0.2 on the square and u = 1 on the
holes (Hao et al. 2024, "PINNacle: A Comprehensive Benchmark of Physics-Informed Neural Networks
for Solving PDEs", NeurIPS Datasets and Benchmarks; repository i207M/PINNacle, MIT,
``src/pde/poisson.py``, class ``PoissonBoltzmann2D``, lines 95-150, at commit 6f8d69c):

    -(u_xx + u_yy) + k^2 u = f     in  Omega = [-1, 1]^2 minus the disks |(x, y) - c_j| < r_j,
    u = 0.2                        on the four edges of the square (part ``outer``),
    u = 1                          on the four circles (part ``holes``),

    f(x, y) = A (mu1^2 + x^2 + mu2^2 + y^2) sin(mu1 pi x) sin(mu2 pi y),
    k = 8, (mu1, mu2) = (1, 4), A = 10,
    (c_j, r_j) = ((0.5, 0.5), 0.2), ((0.4, -0.4), 0.4), ((-0.2, -0.7), 0.1), ((-0.6, 0.5), 0.3).

Despite the name the equation is linear: a screened Poisson (modified Helmholtz) problem.

Where each piece comes from (poisson.py): k, mu, A, the box [-1, 1]^2 and the disks (97); each
disk cut out of the square in that order (104-108); the source f (115-118) and the residual
-(u_xx + u_yy) + k^2 u - f (120); u = 0.2 where the point is on the square's edges (128-129,
135-140, PINNacle's term ``rec``) and u = 1 on the rest of the boundary, the circles (131-132,
141-146, term ``circ``). The reference (97, 125) is COMSOL's solution on 3236 mesh nodes,
``ref/poisson_boltzmann2d.dat`` (columns X, Y, u), copied to
``<data>/pinnacle/poisson_boltzmann2d.dat`` here; its 200 nodes on the square hold u = 0.2 and
its 172 nodes on the circles u = 1.

PINNacle's three loss terms [pde, rec, circ] are the conditions ``residual``, ``outer`` and
``holes``. The domain is the config's ``difference`` of a rectangle (part ``outer``) and four
disks (part ``holes``); the constants are ``equation.params`` (k, mu1, mu2, and a for PINNacle's
A), the boundary values stay PINNacle's.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class PoissonBoltzmann(Problem):
    variables = ("x", "y")
    outputs = ("u",)
    fields = ("u",)
    #: poisson.py:97: k=8, mu=(1, 4), A=10
    params = {"k": 8.0, "mu1": 1.0, "mu2": 4.0, "a": 10.0}
    reference_file = "pinnacle/poisson_boltzmann2d.dat"

    #: the Dirichlet value on the outer square (poisson.py:138) and on the holes (poisson.py:144)
    outer_value = 0.2
    hole_value = 1.0

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "outer": Condition(("u",), lambda d: {"u": d["u"] - self.outer_value}, on="outer"),
            "holes": Condition(("u",), lambda d: {"u": d["u"] - self.hole_value}, on="holes"),
        }

    def source(self, x, y):
        """f = A (mu1^2 + x^2 + mu2^2 + y^2) sin(mu1 pi x) sin(mu2 pi y) (poisson.py:115-118), of
        tensors ``x``, ``y``."""
        mu1, mu2, a = self.p["mu1"], self.p["mu2"], self.p["a"]
        return a * (mu1**2 + x**2 + mu2**2 + y**2) * torch.sin(mu1 * math.pi * x) * torch.sin(mu2 * math.pi * y)

    def residual(self, d):
        f = self.source(d.input("x"), d.input("y"))
        return {"u": -(d["u_xx"] + d["u_yy"]) + self.p["k"] ** 2 * d["u"] - f}


PROBLEM = PoissonBoltzmann
