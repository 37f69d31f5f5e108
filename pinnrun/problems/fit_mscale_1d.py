"""Function fitting with low and high frequencies (the MscaleDNN fitting example).

    f(x) = sin(x) + sin(3x) + 1                        x in [-pi, 0]
    f(x) = sin(23x) + sin(137x) + sin(203x) + 1        x in (0, pi]

A plain network learns the left half and the mean of the right half and then
stalls (the frequency principle); MscaleDNN's scaled neurons reach the
oscillations. Liu, Cai & Xu, Commun. Comput. Phys. 28 (2020).
"""

from __future__ import annotations

import torch

from pinnrun.problems import FunctionFit


class FitMscale1D(FunctionFit):
    variables = ("x",)
    outputs = ("u",)
    fields = ("u",)
    grid_points = 8001  # 203 rad per unit: about 20 points per period on [-pi, pi]

    def exact(self, x):
        x = x["x"]
        left = torch.sin(x) + torch.sin(3 * x) + 1
        right = torch.sin(23 * x) + torch.sin(137 * x) + torch.sin(203 * x) + 1
        return {"u": torch.where(x <= 0, left, right)}


PROBLEM = FitMscale1D
