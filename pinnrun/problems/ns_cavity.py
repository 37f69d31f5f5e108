"""PINNacle's NS2d-C: the lid-driven cavity, steady incompressible Navier-Stokes with a lid
velocity 4x(1 - x) (Hao et al. 2024, "PINNacle: A Comprehensive Benchmark of Physics-Informed
Neural Networks for Solving PDEs", NeurIPS Datasets and Benchmarks; repository i207M/PINNacle,
MIT, ``src/pde/ns.py``, class ``NS2D_LidDriven``, lines 130-202, at commit 6f8d69c):

    u u_x + v u_y + p_x - nu (u_xx + u_yy) = 0
    u v_x + v v_y + p_y - nu (v_xx + v_yy) = 0          in  [0, 1]^2
    u_x + v_y = 0

    u = a x (1 - x),  v = 0      on the lid y = 1 (part ``lid``)
    u = 0,  v = 0                on the other three walls (part ``walls``)
    p(0, 0) = 0                  (the pressure's constant)

with a = 4 and nu = 1/100 (Re = 1/nu = 100 for the unit cavity and the lid's peak speed 1).

Where each piece comes from (ns.py): a = 4, nu = 1/100 and the box [0, 1]^2 (132, 137-138); the
outputs u, v, p (135); the momentum and continuity residuals (141-160: no density, the kinematic
viscosity nu); the lid is the boundary at y = 1 (168-169) with u = a x (1 - x) and v = 0
(174-183), the rest of the boundary has u = v = 0 (171-172, 184-193); the pressure is pinned by a
point set of the one point (0, 0) with value 0 (194-198). The reference (132, 165) is COMSOL's
solution on a 101 x 101 grid of nodes, ``ref/lid_driven_a4.dat`` (columns ``u @ Re=100`` ...),
copied to ``<data>/pinnacle/lid_driven_a4.dat`` here; its walls hold u = v = 0 and p(0, 0) = 0
exactly, its lid nodes 4x(1 - x) to 2.7e-4 and v = 0 to 1.3e-4 (COMSOL's weak Dirichlet data).

Here the box is a geometry (a rectangle whose face y = 1 is the part ``lid`` and the other three
``walls``) so that each condition names its part. The pressure condition ``pressure`` takes its
points on the walls and evaluates p at the corner (lower x, lower y) of the domain, (0, 0): every
point of it is PINNacle's one point, so its loss term is PINNacle's p(0, 0)^2 whatever the count.
"""

from __future__ import annotations

import torch

from pinnrun.problems import Condition, Problem


def navier_stokes(d, nu: float) -> dict[str, torch.Tensor]:
    """The steady incompressible Navier-Stokes residuals (PINNacle's ns.py:141-160, 240-259) of
    the outputs u, v, p at the points of ``d``, kinematic viscosity ``nu``."""
    u, v = d["u"], d["v"]
    return {
        "momentum_x": u * d["u_x"] + v * d["u_y"] + d["p_x"] - nu * (d["u_xx"] + d["u_yy"]),
        "momentum_y": u * d["v_x"] + v * d["v_y"] + d["p_y"] - nu * (d["v_xx"] + d["v_yy"]),
        "continuity": d["u_x"] + d["v_y"],
    }


class NSCavity(Problem):
    variables = ("x", "y")
    outputs = ("u", "v", "p")
    fields = ("u", "v", "p")
    params = {"nu": 0.01, "a": 4.0}
    reference_file = "pinnacle/lid_driven_a4.dat"

    def conditions(self):
        return {
            "residual": Condition(("momentum_x", "momentum_y", "continuity"), self.residual),
            "lid": Condition(("u", "v"), self.lid, on="lid"),
            "walls": Condition(("u", "v"), lambda d: {"u": d["u"], "v": d["v"]}, on="walls"),
            "pressure": Condition(("p",), self.pressure, on="walls"),
        }

    def lid_velocity(self, x):
        """The lid's horizontal velocity a x (1 - x) (ns.py:176), of a tensor or array ``x``."""
        return self.p["a"] * x * (1 - x)

    @property
    def gauge(self) -> dict[str, float]:
        """Where the pressure is pinned to 0: the corner (lower x, lower y), (0, 0) (ns.py:196)."""
        return {"x": self.domain["x"][0], "y": self.domain["y"][0]}

    def residual(self, d):
        return navier_stokes(d, self.p["nu"])

    def lid(self, d):
        return {"u": d["u"] - self.lid_velocity(d.input("x")), "v": d["v"]}

    def pressure(self, d):
        return {"p": d.at(**self.gauge)["p"]}


PROBLEM = NSCavity
