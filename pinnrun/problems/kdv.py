"""Korteweg-de Vries equation (Raissi, Perdikaris & Karniadakis 2019, sec. 4.2.2), continuous time.

    u_t + lambda1 u u_x + lambda2 u_xxx = 0,   lambda1 = 1,  lambda2 = 0.0025,
    x in [-1, 1] periodic,  t in [0, 1],   u(0, x) = cos(pi x),   u, u_x, u_xx periodic.

Reference: data/kdv.h5, pinnrun's Fourier/ETDRK4 solution (512 modes) on the
published 201 x 512 grid; it agrees with the published KdV.mat to 1.8e-11.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class KdV(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"lambda1": 1.0, "lambda2": 0.0025}
    dataset = "kdv"
    dataset_domain = {"t": (0.0, 1.0), "x": (-1.0, 1.0)}

    def conditions(self):
        periodic = ("u", "u_x", "u_xx")
        return {
            "initial": Condition(("u",), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(periodic, self.periodic("x", periodic), fixed={"x": self.domain["x"][0]}),
            "residual": Condition(("u",), self.residual),
        }

    def initial(self, d):
        return {"u": d["u"] - torch.cos(math.pi * d.input("x"))}

    def residual(self, d):
        return {"u": d["u_t"] + self.p["lambda1"] * d["u"] * d["u_x"] + self.p["lambda2"] * d["u_xxx"]}


PROBLEM = KdV
