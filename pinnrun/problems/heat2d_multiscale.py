"""PINNacle's Heat2d-MS: a 2-D heat equation whose diffusion differs by a factor 500^2 between x
and y, from an initial state that oscillates 10 times faster in x than in y (Hao et al. 2024,
"PINNacle: A Comprehensive Benchmark of Physics-Informed Neural Networks for Solving PDEs",
NeurIPS Datasets and Benchmarks; repository i207M/PINNacle, MIT, ``src/pde/heat.py``, class
``Heat2D_Multiscale``, lines 71-119, at commit 6f8d69c):

    u_t = kappa_x u_xx + kappa_y u_yy         in  [0, 1]^2 x [0, 5],
    u(x, y, 0) = sin(k_x pi x) sin(k_y pi y),
    u = 0                                     on the four edges x = 0, 1 and y = 0, 1, for all t,

with kappa_x = 1/(500 pi)^2, kappa_y = 1/pi^2, k_x = 20, k_y = 1. The exact solution is one
decaying mode,

    u = sin(k_x pi x) sin(k_y pi y) exp(-(kappa_x (k_x pi)^2 + kappa_y (k_y pi)^2) t)
      = sin(20 pi x) sin(pi y) exp(-1.0016 t).

Where each piece comes from (heat.py): the box [0, 1]^2 x [0, 5] and the coefficients
pde_coef = (1/(500 pi)^2, 1/pi^2), init_coef = (20 pi, pi) (75-77, 83-86: PINNacle's
init_coef is k pi here); the residual u_t - pde_coef[0] u_xx - pde_coef[1] u_yy (88-93); the
exact solution ``ref_sol`` (98-102), which is also the initial condition (106-110); u = 0 on the
whole spatial boundary (111-116). PINNacle evaluates on the exact solution (no data file).

PINNacle's three loss terms [pde, ic, bc] are the conditions ``residual``, ``initial`` and
``boundary``. The variables are PINNacle's input columns in order, (x, y, t). The reference here
is the exact solution on a grid of ``grid_points`` (201 x-values: 20 per period of sin(20 pi x));
PINNacle's own test set is 8 x 8 interior (x, y) points at 313 times (20032 points), which
``equation.reference_interior`` gives (points 20000, time t; the ``pinnacle_heat2d_ms`` preset
sets it).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Heat2dMultiscale(Problem):
    variables = ("x", "y", "t")
    outputs = ("u",)
    fields = ("u",)
    #: heat.py:76-77: pde_coef = (1/(500 pi)^2, 1/pi^2), init_coef = (20 pi, pi) = (k_x pi, k_y pi)
    params = {"kappa_x": 1.0 / (500.0 * math.pi) ** 2, "kappa_y": 1.0 / math.pi**2, "k_x": 20.0, "k_y": 1.0}
    grid_points = {"x": 201, "y": 21, "t": 26}

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "initial": Condition(("u",), self.matches_exact(), fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), lambda d: {"u": d["u"]}, boundary=("x", "y")),
        }

    @property
    def decay(self) -> float:
        """The exact solution's decay rate kappa_x (k_x pi)^2 + kappa_y (k_y pi)^2 (heat.py:100)."""
        p = self.p
        return p["kappa_x"] * (p["k_x"] * math.pi) ** 2 + p["kappa_y"] * (p["k_y"] * math.pi) ** 2

    def exact(self, x):
        kx, ky = self.p["k_x"] * math.pi, self.p["k_y"] * math.pi
        return {"u": torch.sin(kx * x["x"]) * torch.sin(ky * x["y"]) * torch.exp(-self.decay * x["t"])}

    def residual(self, d):
        return {"u": d["u_t"] - self.p["kappa_x"] * d["u_xx"] - self.p["kappa_y"] * d["u_yy"]}


PROBLEM = Heat2dMultiscale
