"""Allen-Cahn equation (Raissi, Perdikaris & Karniadakis 2019, sec. 4.1.2), continuous time.

    u_t - eps u_xx + a u^3 - a u = 0,   eps = 1e-4,  a = 5,   x in [-1, 1] periodic,  t in [0, 1],
    u(0, x) = x^2 cos(pi x),   u and u_x periodic.

Reference: data/allen_cahn.h5, pinnrun's Fourier/ETDRK4 solution (512 modes)
on the published 201 x 512 grid; it agrees with the published AC.mat to 4.3e-11.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


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
        x = d.input("x")
        return {"u": d["u"] - x**2 * torch.cos(math.pi * x)}

    def residual(self, d):
        u, a = d["u"], self.p["a"]
        return {"u": d["u_t"] - self.p["eps"] * d["u_xx"] + a * u**3 - a * u}


PROBLEM = AllenCahn
