"""u_t = kappa u_xx on [0, 1]^2, u = 0 at x = 0, 1, u(0, x) = sin(pi x)."""

import math

import torch

from pinnrun.problems import Condition, Problem


class Heat(Problem):
    variables = ("t", "x")  # input variables, in this order
    outputs = ("u",)  # network outputs
    fields = ("u",)  # what is evaluated and compared with the reference
    params = {"kappa": 0.1}  # constants, overridable as equation.params.kappa=...

    def conditions(self):
        t0 = self.domain["t"][0]
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": t0}),
            "boundary": Condition(("u",), self.boundary, boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):  # optional: gives the reference and the L2 errors
        k = self.p["kappa"] * math.pi**2
        return {"u": torch.exp(-k * x["t"]) * torch.sin(math.pi * x["x"])}

    def initial(self, d):  # d: the derivatives at the condition's points
        return {"u": d["u"] - torch.sin(math.pi * d.input("x"))}

    def boundary(self, d):
        return {"u": d["u"]}

    def residual(self, d):
        return {"u": d["u_t"] - self.p["kappa"] * d["u_xx"]}
