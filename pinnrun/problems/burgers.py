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

from pinnrun.config import ConfigError
from pinnrun.problems import Condition, HardConstraint, Problem


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

    def hard_constraint(self):
        """u = -sin(pi x) + (t - t0)(x - x0)(x1 - x) / ((t1 - t0)((x1 - x0)/2)^2) N: the initial
        line and both walls (so ``initial_boundary`` too) for every network N; B in [0, 1]. Only
        where -sin(pi x) vanishes at the walls (else the corners' data disagree)."""
        (t0, t1), (x0, x1) = self.domain["t"], self.domain["x"]
        if max(abs(math.sin(math.pi * x0)), abs(math.sin(math.pi * x1))) > 1e-12:
            raise ConfigError(
                f"model.hard_constraints: burgers' u(t0, x) = -sin(pi x) is not 0 at the walls of "
                f"equation.domain.x=[{x0}, {x1}] (where u = 0), so no u meets both; set model.hard_constraints=false"
            )
        scale = (t1 - t0) * ((x1 - x0) / 2) ** 2
        return HardConstraint(
            ("initial", "boundary", "initial_boundary"),
            lambda x: {"u": -torch.sin(math.pi * x["x"])},
            lambda x: {"u": (x["t"] - t0) * (x["x"] - x0) * (x1 - x["x"]) / scale},
        )

    def boundary(self, d):
        return {"u": d["u"]}

    def residual(self, d):
        return {"u": d["u_t"] + self.p["lambda1"] * d["u"] * d["u_x"] - self.p["nu"] * d["u_xx"]}


PROBLEM = Burgers
