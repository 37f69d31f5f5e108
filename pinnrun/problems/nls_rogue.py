"""The NLS equation with the Peregrine rogue wave (Pu, Li & Chen 2021 study such localized waves).

    i h_t + 0.5 h_xx + |h|^2 h = 0,   x in [-5, 5],  t in [-1.5, 1.5],
    h = (1 - 4 (1 + 2 i t) / (1 + 4 x^2 + 4 t^2)) exp(i t)   (exact),

with the exact h as initial data at the first time and as Dirichlet data at
x = -5 and x = 5. Outputs (u, v) = (Re h, Im h); the primary field is |h|, which
peaks at 3 at (0, 0).
"""

from __future__ import annotations

import torch

from pinnrun.problems import Condition
from pinnrun.problems.nls import NLS


class NLSRogue(NLS):
    dataset = ""

    def conditions(self):
        return {
            "initial": Condition(("u", "v"), self.matches_exact(), fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u", "v"), self.matches_exact(), boundary=("x",)),
            "residual": Condition(("u", "v"), self.residual),
        }

    def exact(self, x):
        t, x = x["t"], x["x"]
        den = 1 + 4 * x**2 + 4 * t**2
        re, im = 1 - 4 / den, -8 * t / den  # 1 - 4 (1 + 2 i t) / den
        c, s = torch.cos(t), torch.sin(t)
        return {"u": re * c - im * s, "v": re * s + im * c}


PROBLEM = NLSRogue
