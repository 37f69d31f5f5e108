"""Steady heat in a plate with two holes: Laplace's equation, the temperature given on the outer
edge, the heat flux through the holes' walls given as a Neumann condition.

    u_xx + u_yy = 0                in the unit square minus two disks
    u = g                          on the outer edge
    du/dn = n . grad g             on the holes (n: the outward normal of the plate)

with g = sin(pi x) sinh(pi y) / sinh(pi), harmonic, so that g is the exact solution.
"""

import math

import torch

from pinnrun.problems import Condition, Problem


class Plate(Problem):
    variables = ("x", "y")  # the geometry in equation.domain spans both
    outputs = ("u",)
    fields = ("u",)

    def conditions(self):
        return {
            "outer": Condition(("u",), self.matches_exact("u"), on="outer"),  # a part named in the YAML
            "holes": Condition(("u",), self.flux, on="holes"),
            "residual": Condition(("u",), lambda d: {"u": d["u_xx"] + d["u_yy"]}),
        }

    def exact(self, x):
        return {"u": torch.sin(math.pi * x["x"]) * torch.sinh(math.pi * x["y"]) / math.sinh(math.pi)}

    def flux(self, d):
        x, y, k = d.input("x"), d.input("y"), math.pi / math.sinh(math.pi)
        gx = k * torch.cos(math.pi * x) * torch.sinh(math.pi * y)
        gy = k * torch.sin(math.pi * x) * torch.cosh(math.pi * y)
        return {"u": d.normal("u") - (d.normals[:, 0] * gx + d.normals[:, 1] * gy)}
