"""Euler-Bernoulli beam, simply supported, free vibration in its n-th mode.

    u_tt + u_xxxx = 0,   x in [0, 1],  t in [0, 1],
    u = u_xx = 0 at x = 0 and x = 1,   u(0, x) = sin(n pi x),   u_t(0, x) = 0.

Exact solution: u = sin(n pi x) cos((n pi)^2 t), n = 1.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Beam(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"n": 1.0}

    def conditions(self):
        return {
            "initial": Condition(("u", "u_t"), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u", "u_xx"), self.supported, boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        k = self.p["n"] * math.pi
        return {"u": torch.sin(k * x["x"]) * torch.cos(k**2 * x["t"])}

    def initial(self, d):
        return {**self.misfit(d, "u"), "u_t": d["u_t"]}

    def supported(self, d):
        return {"u": d["u"], "u_xx": d["u_xx"]}

    def residual(self, d):
        return {"u": d["u_tt"] + d["u_xxxx"]}


PROBLEM = Beam
