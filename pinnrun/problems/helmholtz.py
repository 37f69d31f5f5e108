"""2D Helmholtz equation (Wang, Teng & Perdikaris 2021, sec. 2.3).

    u_xx + u_yy + k^2 u = q(x, y),   (x, y) in (-1, 1)^2,   u = 0 on the boundary,
    q = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y),   k = 1, a1 = 1, a2 = 4.

Exact solution: u = sin(a1 pi x) sin(a2 pi y).
"""

from __future__ import annotations

import math

import torch

from pinnrun.config import ConfigError
from pinnrun.problems import Condition, HardConstraint, Problem


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

    def hard_constraint(self):
        """u = (x - x0)(x1 - x)(y - y0)(y1 - y) / (((x1 - x0)/2)^2 ((y1 - y0)/2)^2) N: u = 0 on the
        four edges for every network N -- the boundary condition where the exact solution vanishes
        there (a1 x and a2 y integers on the edges, as for the defaults); else a ConfigError."""
        (x0, x1), (y0, y1) = self.domain["x"], self.domain["y"]
        s = torch.linspace(0.0, 1.0, 65, dtype=torch.float64)
        edges = [(x0 + 0 * s, y0 + (y1 - y0) * s), (x1 + 0 * s, y0 + (y1 - y0) * s)]
        edges += [(x0 + (x1 - x0) * s, y0 + 0 * s), (x0 + (x1 - x0) * s, y1 + 0 * s)]
        if max(float(self.exact({"x": x, "y": y})["u"].abs().max()) for x, y in edges) > 1e-12:
            raise ConfigError(
                "model.hard_constraints: helmholtz's boundary values sin(a1 pi x) sin(a2 pi y) are not 0 on the "
                f"edges of this equation.domain and params (a1={self.p['a1']}, a2={self.p['a2']}); "
                "set model.hard_constraints=false"
            )
        scale = ((x1 - x0) / 2) ** 2 * ((y1 - y0) / 2) ** 2
        return HardConstraint(
            ("boundary",),
            lambda x: {"u": 0 * x["x"]},
            lambda x: {"u": (x["x"] - x0) * (x1 - x["x"]) * (x["y"] - y0) * (y1 - x["y"]) / scale},
        )

    def residual(self, d):
        k, a1, a2 = self.p["k"], self.p["a1"] * math.pi, self.p["a2"] * math.pi
        q = (k**2 - a1**2 - a2**2) * torch.sin(a1 * d.input("x")) * torch.sin(a2 * d.input("y"))
        return {"u": d["u_xx"] + d["u_yy"] + k**2 * d["u"] - q}


PROBLEM = Helmholtz
