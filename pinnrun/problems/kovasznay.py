"""Kovasznay flow: steady incompressible Navier-Stokes at Re = 20 (Kovasznay 1948).

    u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    u_x + v_y = 0,          (x, y) in [-0.5, 1] x [-0.5, 1.5]

Exact solution, lam = Re/2 - sqrt(Re^2/4 + 4 pi^2):
u = 1 - exp(lam x) cos(2 pi y),  v = lam / (2 pi) exp(lam x) sin(2 pi y),
p = (1 - exp(2 lam x)) / 2.
Velocities are given on the whole boundary, the pressure on the outlet
x = 1 (which fixes its constant).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Kovasznay(Problem):
    variables = ("x", "y")
    outputs = ("u", "v", "p")
    fields = ("u", "v", "p")
    params = {"re": 20.0}

    @property
    def lam(self) -> float:
        re = self.p["re"]
        return re / 2 - math.sqrt(re**2 / 4 + 4 * math.pi**2)

    def conditions(self):
        return {
            "boundary": Condition(("u", "v"), self.matches_exact("u", "v"), boundary=("x", "y")),
            "outlet": Condition(("p",), self.matches_exact("p"), fixed={"x": self.domain["x"][1]}),
            "residual": Condition(("momentum_x", "momentum_y", "continuity"), self.residual),
        }

    def exact(self, x):
        lam, x, y = self.lam, x["x"], x["y"]
        e = torch.exp(lam * x)
        return {
            "u": 1 - e * torch.cos(2 * math.pi * y),
            "v": lam / (2 * math.pi) * e * torch.sin(2 * math.pi * y),
            "p": (1 - e**2) / 2,
        }

    def residual(self, d):
        u, v, nu = d["u"], d["v"], 1.0 / self.p["re"]
        return {
            "momentum_x": u * d["u_x"] + v * d["u_y"] + d["p_x"] - nu * (d["u_xx"] + d["u_yy"]),
            "momentum_y": u * d["v_x"] + v * d["v_y"] + d["p_y"] - nu * (d["v_xx"] + d["v_yy"]),
            "continuity": d["u_x"] + d["v_y"],
        }


PROBLEM = Kovasznay
