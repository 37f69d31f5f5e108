"""PINNacle's Burgers1d-C (Hao et al. 2024, "PINNacle: A Comprehensive Benchmark of
Physics-Informed Neural Networks for Solving PDEs", NeurIPS Datasets and Benchmarks; repository
i207M/PINNacle, MIT, ``src/pde/burgers.py``, class ``Burgers1D``, lines 8-50, at commit 6f8d69c):
the viscous Burgers problem of :mod:`pinnrun.problems.burgers`,

    u_t + u u_x = nu u_xx,   nu = 0.01 / pi,   x in [-1, 1],  t in [0, 1],
    u(0, x) = -sin(pi x),   u(t, -1) = u(t, 1) = 0,

(burgers.py:10 nu, 15-18 the domain, 21-25 the residual, 34-41 the initial line sin(-pi x),
42-47 the walls) compared with PINNacle's reference instead of pinnrun's: COMSOL's solution on 101
x-nodes at the 11 times t = 0, 0.1, ..., 1 (1111 points), ``ref/burgers1d.dat``, read into
``<data>/pinnacle/burgers1d.dat`` (burgers.py:31).
"""

from __future__ import annotations

from pinnrun.problems.burgers import Burgers


class Burgers1d(Burgers):
    dataset = ""
    dataset_domain = {}
    reference_file = "pinnacle/burgers1d.dat"


PROBLEM = Burgers1d
