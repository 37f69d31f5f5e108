"""PINNacle's Heat2d-LT: a 2-D heat equation with a nonlinear, time-periodic source over a long
time, t in [0, 100] against x, y in [0, 1] (Hao et al. 2024, "PINNacle: A Comprehensive
Benchmark of Physics-Informed Neural Networks for Solving PDEs", NeurIPS Datasets and
Benchmarks; repository i207M/PINNacle, MIT, ``src/pde/heat.py``, class ``Heat2D_LongTime``,
lines 198-246, at commit 6f8d69c):

    u_t = 0.001 (u_xx + u_yy) + 5 sin(k u^2) (1 + 2 sin(pi t / 4)) sin(m1 pi x) sin(m2 pi y)
                                              in  [0, 1]^2 x [0, 100],
    u(x, y, 0) = sin(4 pi x) sin(3 pi y),
    u = 0                                     on the four edges x = 0, 1 and y = 0, 1, for all t,

with k = 1, m1 = 4, m2 = 2.

Where each piece comes from (heat.py): the box [0, 1]^2 x [0, 100] and k, m1, m2 (200, 205-208);
the initial modes 4 pi and 3 pi (211-212); the residual u_t - 0.001 (u_xx + u_yy) - 5 sin(k u^2)
(1 + 2 sin(pi t / 4)) sin(m1 pi x) sin(m2 pi y) (214-222); the initial condition (230-237); u = 0
on the whole spatial boundary (238-243). The reference (200, 227) is COMSOL's solution,
``ref/heat_longtime.dat``, copied to ``<data>/pinnacle/heat_longtime.dat`` here: 192 nodes (the
cell centres of a 16 x 12 grid, none on the boundary) at 501 times t = 0, 0.2, ..., 100, columns
``u (K) @ t=...``, read as 96192 (x, y, t) rows; at t = 0 it holds sin(4 pi x) sin(3 pi y) to
7e-4. There is no exact solution.

PINNacle's three loss terms [pde, ic, bc] are the conditions ``residual``, ``initial`` and
``boundary``. The variables are PINNacle's input columns in order, (x, y, t); time is not
rescaled. The constants k, m1, m2 are ``equation.params`` (PINNacle's constructor arguments); the
diffusivity 0.001, the amplitude 5 and the initial modes are fixed in heat.py and here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pinnrun.problems import Condition, Problem


class HeatLongTime(Problem):
    variables = ("x", "y", "t")
    outputs = ("u",)
    fields = ("u",)
    #: heat.py:200: k=1, m1=4, m2=2
    params = {"k": 1.0, "m1": 4.0, "m2": 2.0}
    reference_file = "pinnacle/heat_longtime.dat"

    #: fixed in heat.py: the diffusivity and the source's amplitude (220), the initial modes (211-212)
    diffusivity = 0.001
    amplitude = 5.0
    initial_modes = (4.0, 3.0)
    #: per axis, the grid the run predicts on while the reference file is not in place (no errors)
    plain_grid = {"x": 33, "y": 25, "t": 101}

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), lambda d: {"u": d["u"]}, boundary=("x", "y")),
        }

    def initial_value(self, x, y):
        """u(x, y, 0) = sin(4 pi x) sin(3 pi y) (heat.py:211-212, 230-231), of tensors or arrays."""
        mx, my = self.initial_modes
        sin = torch.sin if isinstance(x, torch.Tensor) else np.sin
        return sin(mx * math.pi * x) * sin(my * math.pi * y)

    def source(self, u, x, y, t):
        """5 sin(k u^2) (1 + 2 sin(pi t / 4)) sin(m1 pi x) sin(m2 pi y) (heat.py:220-221)."""
        k, m1, m2 = self.p["k"], self.p["m1"], self.p["m2"]
        return (
            self.amplitude
            * torch.sin(k * u**2)
            * (1 + 2 * torch.sin(math.pi * t / 4))
            * torch.sin(m1 * math.pi * x)
            * torch.sin(m2 * math.pi * y)
        )

    def initial(self, d):
        return {"u": d["u"] - self.initial_value(d.input("x"), d.input("y"))}

    def residual(self, d):
        f = self.source(d["u"], d.input("x"), d.input("y"), d.input("t"))
        return {"u": d["u_t"] - self.diffusivity * (d["u_xx"] + d["u_yy"]) - f}

    def reference(self):
        """The reference file; while it is not in place, predictions on the coarse grid
        ``plain_grid`` with no fields to compare (not the 201^3 grid of a box without reference)."""
        ref = super().reference()
        if ref is None:
            return {v: np.linspace(lo, hi, self.plain_grid[v]) for v, (lo, hi) in self.domain.items()}, {}
        return ref


PROBLEM = HeatLongTime
