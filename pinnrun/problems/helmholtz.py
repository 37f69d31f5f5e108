"""2D Helmholtz equation (Wang, Teng & Perdikaris 2021, sec. 2.3).

    u_xx + u_yy + k^2 u = q(x, y),   (x, y) in (-1, 1)^2,   u = 0 on the boundary,
    q = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y),   k = 1, a1 = 1, a2 = 4.

Exact solution: u = sin(a1 pi x) sin(a2 pi y).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Helmholtz(Problem):
    variables = ("x", "y")
    outputs = ("u",)
    fields = ("u",)
    params = {"k": 1.0, "a1": 1.0, "a2": 4.0}

    def conditions(self):
        return {
            "boundary": Condition(("u",), self.matches_exact(), boundary=("x", "y")),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        a1, a2 = self.p["a1"] * math.pi, self.p["a2"] * math.pi
        return {"u": torch.sin(a1 * x["x"]) * torch.sin(a2 * x["y"])}

    def residual(self, d):
        k, a1, a2 = self.p["k"], self.p["a1"] * math.pi, self.p["a2"] * math.pi
        q = (k**2 - a1**2 - a2**2) * torch.sin(a1 * d.input("x")) * torch.sin(a2 * d.input("y"))
        return {"u": d["u_xx"] + d["u_yy"] + k**2 * d["u"] - q}


PROBLEM = Helmholtz
