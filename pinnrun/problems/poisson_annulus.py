"""Poisson's equation on an annulus with a Neumann condition on the hole and a Robin condition on
the outer circle, against an exact solution (a test of normal derivatives on curved boundaries).

    -(u_xx + u_yy) = -1                    in  0.4 < |(x, y)| < 1
    du/dn = g_N                            on the hole,  |(x, y)| = 0.4 (n points into the hole)
    du/dn + alpha u = g_R                  on the outer circle, |(x, y)| = 1

with n the outward normal of the annulus, and g_N, g_R taken from the exact solution

    u(x, y) = exp(x) sin(y) + (x^2 + y^2) / 4      (harmonic part plus |x|^2/4: Laplacian 1).
"""

from __future__ import annotations

import torch

from pinnrun.problems import Condition, Problem


class PoissonAnnulus(Problem):
    variables = ("x", "y")
    outputs = ("u",)
    fields = ("u",)
    params = {"alpha": 1.0}

    def conditions(self):
        return {
            "residual": Condition(("u",), lambda d: {"u": d["u_xx"] + d["u_yy"] - 1.0}),
            "hole": Condition(("u",), lambda d: {"u": d.normal("u") - self.flux(d)}, on="hole"),
            "outer": Condition(("u",), self.robin, on="outer"),
        }

    def exact(self, x):
        return {"u": torch.exp(x["x"]) * torch.sin(x["y"]) + (x["x"] ** 2 + x["y"] ** 2) / 4}

    def flux(self, d) -> torch.Tensor:
        """n . grad u of the exact solution at the points of ``d`` (on the boundary)."""
        x, y = d.input("x"), d.input("y")
        ux = torch.exp(x) * torch.sin(y) + x / 2
        uy = torch.exp(x) * torch.cos(y) + y / 2
        return d.normals[:, 0] * ux + d.normals[:, 1] * uy

    def robin(self, d):
        a = self.p["alpha"]
        target = self.flux(d) + a * self.exact({"x": d.input("x"), "y": d.input("y")})["u"]
        return {"u": d["u_n"] + a * d["u"] - target}


PROBLEM = PoissonAnnulus
