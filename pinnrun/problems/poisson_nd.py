"""PINNacle's PNd: Poisson's equation in five dimensions on the unit hypercube, with Dirichlet data
from the exact solution on its whole boundary (Hao et al. 2024, "PINNacle: A Comprehensive
Benchmark of Physics-Informed Neural Networks for Solving PDEs", NeurIPS Datasets and
Benchmarks; repository i207M/PINNacle, MIT, ``src/pde/poisson.py``, class ``PoissonND`` with
dim=5, lines 277-315, at commit 6f8d69c):

    -(u_x1x1 + ... + u_x5x5) = (pi^2 / 4) sum_i sin(pi x_i / 2)     in  [0, 1]^5,
    u = u*                                                          on its boundary (all 10 faces),

    u*(x) = sum_i sin(pi x_i / 2).

Where each piece comes from (poisson.py): dim = 5 and len = 1 (279), the hypercube
[0, len]^dim (284-285); the residual u_x1x1 + ... + u_x5x5 + f with
f = (pi^2/4) sum_i sin(pi x_i / 2) (288-296); the exact solution ``ref_sol`` (302-303) as the
Dirichlet data on the whole boundary (307-312). PINNacle evaluates on the exact solution (no data
file).

PINNacle's two loss terms [pde, bc] are the conditions ``residual`` and ``boundary``. The
variables are x1, ..., x5 (PINNacle's input columns 0..4); with names longer than a letter a
residual reads the derivatives as ``d.diff("u", "x1", "x1")``. The reference is the exact
solution on a grid of ``grid_points`` = 9 values per axis (59049 points, the boundary included);
PINNacle's own test set is the 8^5 interior points {k/9, k = 1..8}^5, which
``equation.reference_interior.points=20000`` gives (the ``pinnacle_pnd`` preset sets it).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class PoissonND(Problem):
    variables = ("x1", "x2", "x3", "x4", "x5")
    outputs = ("u",)
    fields = ("u",)
    grid_points = 9  # per axis: 9^5 = 59049 points

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "boundary": Condition(("u",), self.matches_exact(), boundary=self.variables),
        }

    def exact(self, x):
        return {"u": sum(torch.sin(math.pi / 2 * x[v]) for v in self.variables)}

    def source(self, x) -> torch.Tensor:
        """f = -Laplace(u*) = (pi^2/4) sum_i sin(pi x_i / 2) at the points ``x[var]`` (poisson.py:293-294)."""
        return math.pi**2 / 4 * sum(torch.sin(math.pi / 2 * x[v]) for v in self.variables)

    def residual(self, d):
        laplacian = sum(d.diff("u", v, v) for v in self.variables)
        return {"u": laplacian + self.source({v: d.input(v) for v in self.variables})}


PROBLEM = PoissonND
