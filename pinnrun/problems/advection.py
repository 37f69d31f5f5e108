"""Linear advection (Wang, Wang & Perdikaris 2023, "An expert's guide to training
physics-informed neural networks", arXiv:2308.08468; the authors' code: jaxpi, examples/adv).

    u_t + c u_x = 0,   c = 80,   t in [0, 1],   x in [0, 2 pi] periodic,
    u(t0, x) = sin x,   u periodic in x.

Exact solution: u = sin(x - c (t - t0)), the initial wave carried at speed c: c / (2 pi) ~ 12.7
periods in t at each x by t = 1. jaxpi's examples/adv/train.py sets c = 80 (its README says
100, its eval.py 50); its reference (utils.get_dataset) is this solution on 200 times x 128
positions, linspace(0, 1) x linspace(0, 2 pi), the grid used here: ~16 points per period in t.
"""

from __future__ import annotations

import math

import torch

from pinnrun.config import ConfigError
from pinnrun.problems import Condition, HardConstraint, Problem


class Advection(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"c": 80.0}
    grid_points = {"t": 200, "x": 128}  # jaxpi's reference grid

    def check(self, domain, params):
        super().check(domain, params)
        lo, hi = (float(b) for b in domain["x"])
        periods = (hi - lo) / (2 * math.pi)
        if round(periods) < 1 or abs(periods - round(periods)) > 1e-9:
            raise ConfigError(
                f"equation.domain.x: u(t0, x) = sin x is periodic only on an interval whose length is a "
                f"multiple of 2 pi, got [{lo}, {hi}]"
            )

    def conditions(self):
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.periodic("x", ("u",)), fixed={"x": self.domain["x"][0]}),
            "residual": Condition(("u",), self.residual),
        }

    def initial(self, d):
        return {"u": d["u"] - torch.sin(d.input("x"))}

    def residual(self, d):
        return {"u": d["u_t"] + self.p["c"] * d["u_x"]}

    def exact(self, x):
        return {"u": torch.sin(x["x"] - self.p["c"] * (x["t"] - self.domain["t"][0]))}

    def hard_constraint(self):
        """u = sin x + (t - t0) N: the initial condition for every network N. A and B are periodic
        in x over the domain (its length is a multiple of 2 pi), so with model.periodic=[x] u is
        periodic too and both conditions hold."""
        t0 = self.domain["t"][0]
        return HardConstraint(
            ("initial",), lambda x: {"u": torch.sin(x["x"])}, lambda x: {"u": x["t"] - t0}, periodic_in=("x",)
        )


PROBLEM = Advection
