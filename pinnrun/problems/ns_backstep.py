"""PINNacle's NS2d-CG: steady incompressible Navier-Stokes in a back-step channel, an L-shaped
domain (Hao et al. 2024, "PINNacle: A Comprehensive Benchmark of Physics-Informed Neural
Networks for Solving PDEs", NeurIPS Datasets and Benchmarks; repository i207M/PINNacle, MIT,
``src/pde/ns.py``, class ``NS2D_BackStep``, lines 205-307, at commit 6f8d69c):

    u u_x + v u_y + p_x - nu (u_xx + u_yy) = 0
    u v_x + v v_y + p_y - nu (v_xx + v_yy) = 0          in  Omega = [0, 4] x [0, 2] minus [0, 2] x (1, 2]
    u_x + v_y = 0

    u = 4 y (1 - y),  v = 0      on the inlet x = 0, 0 <= y <= 1 (part ``inlet``)
    p = 0                        on the outlet x = 4, 0 <= y <= 2 (part ``outlet``)
    u = 0,  v = 0                on the other edges (part ``walls``: the bottom, the top of the
                                 narrow channel, the step's face x = 2, the top of the wide one)

with nu = 1/100. The flow enters the channel of height 1 with the parabola of peak speed 1 and
widens past the step x = 2 to height 2; the outlet's velocity is free.

Where each piece comes from (ns.py): nu = 1/100 and the box [0, 4] x [0, 2] (210-211, 223-224);
no obstacle (216; 229-237 adds none); the step, the rectangle [0 - eps, 2] x [1, 2 + eps] cut out
of the box (222, 225-226), eps = 1e-5 so that the cut runs through the box's edges and the
L-shape is left; the outputs u, v, p (220); the momentum and continuity residuals (240-259); the
inlet is the boundary at x = 0 (267-268) with u = 4 y (1 - y) (276-277; written for the inlet
0 <= y <= 1, not taken from the box) and v = 0 (279-288); the outlet is the boundary at x = 4
(270-271) with p = 0 (289-293); the rest (273-274) has u = v = 0 (294-303). The reference (209,
264) is COMSOL's solution on 12910 mesh nodes, ``ref/ns_0_obstacle.dat``, copied to
``<data>/pinnacle/ns_0_obstacle.dat`` here. Its inlet nodes hold 4 y (1 - y) and v = 0 to
rounding and its walls u = v = 0 exactly; its outlet pressure is not 0 everywhere (|p| up to
0.024 where the flow turns back, y > 1.5, against a pressure range of 0.36): COMSOL's outlet was
not a pointwise p = 0.

The domain is the config's polygon with its edges named ``inlet``, ``outlet`` and ``walls``.
"""

from __future__ import annotations

from pinnrun.problems import Condition, Problem
from pinnrun.problems.ns_cavity import navier_stokes


class NSBackstep(Problem):
    variables = ("x", "y")
    outputs = ("u", "v", "p")
    fields = ("u", "v", "p")
    params = {"nu": 0.01}
    reference_file = "pinnacle/ns_0_obstacle.dat"

    #: the pressure on the outlet (ns.py:291)
    outlet_pressure = 0.0

    def conditions(self):
        return {
            "residual": Condition(("momentum_x", "momentum_y", "continuity"), self.residual),
            "inlet": Condition(("u", "v"), self.inlet, on="inlet"),
            "outlet": Condition(("p",), lambda d: {"p": d["p"] - self.outlet_pressure}, on="outlet"),
            "walls": Condition(("u", "v"), lambda d: {"u": d["u"], "v": d["v"]}, on="walls"),
        }

    def inlet_velocity(self, y):
        """The inflow's horizontal velocity 4 y (1 - y) (ns.py:276-277), of a tensor or array ``y``."""
        return 4 * y * (1 - y)

    def residual(self, d):
        return navier_stokes(d, self.p["nu"])

    def inlet(self, d):
        return {"u": d["u"] - self.inlet_velocity(d.input("y")), "v": d["v"]}


PROBLEM = NSBackstep
