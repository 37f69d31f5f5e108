"""Poisson's equation in 3-D on a cube with a spherical hole: Dirichlet data on the cube's faces, a
Neumann condition on the sphere, against an exact solution (a test of normal derivatives on a
curved surface in 3-D; made for pinnrun, not from a paper).

    -(u_xx + u_yy + u_zz) = f              in  Omega = [0, 1]^3 minus the ball |(x, y, z) - c| < r
    u = g                                  on the six faces of the cube (part ``outer``)
    du/dn = n . grad u*                    on the sphere |(x, y, z) - c| = r (part ``hole``;
                                           n the outward normal of Omega, pointing into the hole)

with c = (1/2, 1/2, 1/2), r = 1/4 (the config's), and f, g from the exact solution

    u*(x, y, z) = sin(pi x) sin(pi y) sin(pi z) + exp(x + y) cos(sqrt(2) z),
    f = 3 pi^2 sin(pi x) sin(pi y) sin(pi z)

(the second term is harmonic: 1 + 1 - 2 = 0). Neither term is radial about c, so the flux
through the sphere varies over it and a normal pointing the wrong way fails the condition.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem

SQRT2 = math.sqrt(2.0)


class PoissonBall3d(Problem):
    variables = ("x", "y", "z")
    outputs = ("u",)
    fields = ("u",)

    def conditions(self):
        return {
            "residual": Condition(("u",), self.residual),
            "outer": Condition(("u",), self.matches_exact(), on="outer"),
            "hole": Condition(("u",), lambda d: {"u": d.normal("u") - self.flux(d)}, on="hole"),
        }

    def exact(self, x):
        return {"u": self.wave(x) + self.harmonic(x)}

    @staticmethod
    def wave(x) -> torch.Tensor:
        """sin(pi x) sin(pi y) sin(pi z)."""
        return torch.sin(math.pi * x["x"]) * torch.sin(math.pi * x["y"]) * torch.sin(math.pi * x["z"])

    @staticmethod
    def harmonic(x) -> torch.Tensor:
        """exp(x + y) cos(sqrt(2) z)."""
        return torch.exp(x["x"] + x["y"]) * torch.cos(SQRT2 * x["z"])

    def gradient(self, x) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(u*_x, u*_y, u*_z) of the exact solution at the points ``x[var]``."""
        pi = math.pi
        sx, sy, sz = (torch.sin(pi * x[v]) for v in "xyz")
        cx, cy, cz = (torch.cos(pi * x[v]) for v in "xyz")
        e = torch.exp(x["x"] + x["y"])
        return (
            pi * cx * sy * sz + e * torch.cos(SQRT2 * x["z"]),
            pi * sx * cy * sz + e * torch.cos(SQRT2 * x["z"]),
            pi * sx * sy * cz - SQRT2 * e * torch.sin(SQRT2 * x["z"]),
        )

    def flux(self, d) -> torch.Tensor:
        """n . grad u* at the boundary points of ``d``, n their outward normals (``d.normals``)."""
        grad = self.gradient({v: d.input(v) for v in self.variables})
        return sum(d.normals[:, j] * g for j, g in enumerate(grad))

    def residual(self, d):
        x = {v: d.input(v) for v in self.variables}
        f = 3 * math.pi**2 * self.wave(x)
        return {"u": -(d["u_xx"] + d["u_yy"] + d["u_zz"]) - f}


PROBLEM = PoissonBall3d
