"""Viscous Burgers equation (Raissi, Perdikaris & Karniadakis 2019, sec. 3.1).

    u_t + u u_x = nu u_xx,   nu = 0.01 / pi,   x in [-1, 1],  t in [0, 1],
    u(0, x) = -sin(pi x),   u(t, -1) = u(t, 1) = 0.

A shock forms at x = 0 near t = 0.5. Reference: data/burgers.h5, pinnrun's
Cole-Hopf/Gauss-Hermite solution on the published 100 x 256 grid
(t in [0, 0.99]); it agrees with the published burgers_shock.mat to 4e-11.
"""
from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Burgers(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"nu": 0.01 / math.pi}
    dataset = "burgers"
    dataset_domain = {"t": (0.0, 1.0), "x": (-1.0, 1.0)}

    def conditions(self):
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.boundary, boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def initial(self, pts, net):
        d = net(pts)
        return {"u": d["u"] + torch.sin(math.pi * d.input("x"))}

    def boundary(self, pts, net):
        return {"u": net(pts)["u"]}

    def residual(self, pts, net):
        d = net(pts)
        return {"u": d["u_t"] + d["u"] * d["u_x"] - self.p["nu"] * d["u_xx"]}

    def reference(self):
        # the dataset is made for nu = 0.01 / pi only
        return super().reference() if math.isclose(self.p["nu"], 0.01 / math.pi) else None


PROBLEM = Burgers
