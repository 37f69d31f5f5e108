"""Viscous Burgers equation (Raissi, Perdikaris & Karniadakis 2019, sec. 3.1).

    u_t + lambda1 u u_x = nu u_xx,   lambda1 = 1,  nu = 0.01 / pi,   x in [-1, 1],  t in [0, 1],
    u(0, x) = -sin(pi x),   u(t, -1) = u(t, 1) = 0.

Conditions: ``initial`` and ``boundary``, each its own loss term, or ``initial_boundary``: the
initial line and both walls in one term, u + sin(pi x) = 0 on all three, with the points shared
in proportion to the faces' lengths (half on t = 0) -- Raissi's N_u data points, drawn from the
initial and boundary data together, one mean square.

(lambda1 and nu are the two coefficients the paper identifies in its inverse run.)

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
    params = {"lambda1": 1.0, "nu": 0.01 / math.pi}
    dataset = "burgers"
    dataset_domain = {"t": (0.0, 1.0), "x": (-1.0, 1.0)}

    def conditions(self):
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.boundary, boundary=("x",)),
            "initial_boundary": Condition(("u",), self.initial, boundary=("t-", "x")),
            "residual": Condition(("u",), self.residual),
        }

    def initial(self, d):
        return {"u": d["u"] + torch.sin(math.pi * d.input("x"))}

    def boundary(self, d):
        return {"u": d["u"]}

    def residual(self, d):
        return {"u": d["u_t"] + self.p["lambda1"] * d["u"] * d["u_x"] - self.p["nu"] * d["u_xx"]}


PROBLEM = Burgers
