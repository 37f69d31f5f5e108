"""Nonlinear Schrodinger equation (Raissi, Perdikaris & Karniadakis 2019, sec. 3.1.1).

    i h_t + 0.5 h_xx + |h|^2 h = 0,   x in [-5, 5],  t in [0, pi/2]
    h(0, x) = 2 sech(x),   h(t, -5) = h(t, 5),   h_x(t, -5) = h_x(t, 5)

The network predicts (u, v) = (Re h, Im h). With h = u + i v the equation
splits into a real and an imaginary part:

    real:  -v_t + 0.5 u_xx + (u^2 + v^2) u = 0
    imag:   u_t + 0.5 v_xx + (u^2 + v^2) v = 0

The paper reports the relative L2 error of |h| (field ``h_abs``, the ``primary_field``).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class NLS(Problem):
    variables = ("t", "x")
    outputs = ("u", "v")
    fields = ("u", "v", "h_abs")
    primary_field = "h_abs"
    dataset = "nls"
    dataset_domain = {"t": (0.0, math.pi / 2), "x": (-5.0, 5.0)}

    def conditions(self):
        (t0, _), (x0, _) = self.domain["t"], self.domain["x"]
        return {
            "initial": Condition(("u", "v"), self.initial, fixed={"t": t0}),
            "boundary": Condition(
                ("u", "v", "u_x", "v_x"), self.periodic("x", ("u", "v", "u_x", "v_x")), fixed={"x": x0}
            ),
            "residual": Condition(("u", "v"), self.residual),
        }

    def initial(self, d):
        h0 = 2.0 / torch.cosh(d.input("x"))  # h(0, x) = 2 sech x, real
        return {"u": d["u"] - h0, "v": d["v"]}

    def residual(self, d):
        sq = d["u"] ** 2 + d["v"] ** 2  # |h|^2
        return {
            "u": -d["v_t"] + 0.5 * d["u_xx"] + sq * d["u"],
            "v": d["u_t"] + 0.5 * d["v_xx"] + sq * d["v"],
        }

    def derived(self, out):
        return {"u": out["u"], "v": out["v"], "h_abs": torch.sqrt(out["u"] ** 2 + out["v"] ** 2)}


PROBLEM = NLS
