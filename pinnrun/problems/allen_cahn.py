"""Allen-Cahn equation (Raissi, Perdikaris & Karniadakis 2019, sec. 4.1.2), continuous time.

    u_t - eps u_xx + a u^3 - a u = 0,   eps = 1e-4,  a = 5,   x in [-1, 1] periodic,  t in [0, 1],
    u(0, x) = x^2 cos(pi x),   u and u_x periodic.

Reference: data/allen_cahn.h5, pinnrun's Fourier/ETDRK4 solution (512 modes)
on the published 201 x 512 grid; it agrees with the published AC.mat to 4.3e-11.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, HardConstraint, Problem


class AllenCahn(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"eps": 1e-4, "a": 5.0}
    dataset = "allen_cahn"
    dataset_domain = {"t": (0.0, 1.0), "x": (-1.0, 1.0)}

    def conditions(self):
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u", "u_x"), self.periodic("x", ("u", "u_x")), fixed={"x": self.domain["x"][0]}),
            "residual": Condition(("u",), self.residual),
        }

    def initial(self, d):
        return {"u": d["u"] - self.u0(d.input("x"))}

    @staticmethod
    def u0(x):
        return x**2 * torch.cos(math.pi * x)

    def hard_constraint(self):
        """u = x^2 cos(pi x) + (t - t0) N: the initial condition for every network N. Not
        periodic in x with its derivative (d/dx x^2 cos(pi x) is 2 at x = -1, -2 at x = 1), so
        not with model.periodic."""
        t0 = self.domain["t"][0]
        return HardConstraint(("initial",), lambda x: {"u": self.u0(x["x"])}, lambda x: {"u": x["t"] - t0})

    def residual(self, d):
        u, a = d["u"], self.p["a"]
        return {"u": d["u_t"] - self.p["eps"] * d["u_xx"] + a * u**3 - a * u}


PROBLEM = AllenCahn
