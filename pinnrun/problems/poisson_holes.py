"""PINNacle's Poisson2d-C ("Poisson 2d classic"): Laplace's equation on a square with four disk
holes, u = 1 on the outer square and u = 0 on the holes (Hao et al. 2024, "PINNacle: A
Comprehensive Benchmark of Physics-Informed Neural Networks for Solving PDEs", NeurIPS Datasets
and Benchmarks; repository i207M/PINNacle, MIT, ``src/pde/poisson.py``, class
``Poisson2D_Classic``, lines 39-91, at commit 6f8d69c):

    u_xx + u_yy = 0        in  Omega = [-1/2, 1/2]^2 minus the disks |(x, y) - c_k| < 1/10,
    u = 1                  on the four edges of the square (part ``outer``),
    u = 0                  on the four circles (part ``holes``),

    c_k = (0.3, 0.3), (-0.3, 0.3), (0.3, -0.3), (-0.3, -0.3).

Where each piece comes from (poisson.py): the square [-scale/2, scale/2]^2 with scale = 1 (41,
46-47); the centres and the radius 0.1, times scale (48), each disk cut out of the square (49-51);
the residual u_xx + u_yy (54-58); u = 1 where the point is on the square's edges (69-72, 77-81)
and u = 0 on the rest of the boundary, the circles (74-75, 82-87). There is no source term and
no constant. The reference (poisson.py:41, 67) is COMSOL's solution on 1246 mesh nodes,
``ref/poisson1_cg_data.dat``, copied to ``<data>/pinnacle/poisson1_cg_data.dat`` here (the
coordinates scaled by ``scale``, 63-65, which is the identity for scale = 1); its nodes hold u = 1
on the square's edges and u = 0 on the circles exactly.

The domain is the config's ``difference`` of a rectangle (part ``outer``) and four disks (part
``holes``); other sizes and holes are a config away, the boundary values stay PINNacle's.
"""

from __future__ import annotations

from pinnrun.problems import Condition, Problem


class PoissonHoles(Problem):
    variables = ("x", "y")
    outputs = ("u",)
    fields = ("u",)
    reference_file = "pinnacle/poisson1_cg_data.dat"

    #: the Dirichlet value on the outer square (poisson.py:79) and on the holes (poisson.py:84)
    outer_value = 1.0
    hole_value = 0.0

    def conditions(self):
        return {
            "residual": Condition(("u",), lambda d: {"u": d["u_xx"] + d["u_yy"]}),
            "outer": Condition(("u",), lambda d: {"u": d["u"] - self.outer_value}, on="outer"),
            "holes": Condition(("u",), lambda d: {"u": d["u"] - self.hole_value}, on="holes"),
        }

    def hard_constraint(self):
        """u = A + B N with A = 1 on the square and 0 on the holes, B = 0 on both (the geometry's
        distance functions, :meth:`Problem.dirichlet`): no boundary term is left, the residual alone trains."""
        return self.dirichlet({"outer": {"u": self.outer_value}, "holes": {"u": self.hole_value}})


PROBLEM = PoissonHoles
