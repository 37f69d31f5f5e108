"""Sampling on a geometry: interior and boundary points with normals on a square minus 17 disks.

    python benchmarks/geometry.py                # 1e5 interior + 1e4 boundary points, 5 repeats
    python benchmarks/geometry.py --interior 200000 --boundary 20000

One CPU thread (numpy and torch pinned to one). The domain is a plate with 17 holes: the unit
square minus disks of radius 0.04 on a 4 x 4 lattice and one at the centre (0.05), the shape of
PINNacle's many-hole plates. Each repeat draws fresh points with a new seed through pinnrun's own
sampling path (:func:`pinnrun.sampling.geometry_points`: Sobol draws, rejection, exact counts, the
normals as columns); the best and median times are printed. Target: under 1 s for 1e5 + 1e4.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pinnrun.config import SamplerMethod  # noqa: E402
from pinnrun.problems import Condition, Problem  # noqa: E402
from pinnrun.sampling import geometry_points  # noqa: E402


def plate() -> dict:
    holes = [
        {"disk": {"center": [0.2 + 0.2 * i, 0.2 + 0.2 * j], "radius": 0.04, "name": "holes"}}
        for i in range(4)
        for j in range(4)
    ]
    holes.append({"disk": {"center": [0.5, 0.5], "radius": 0.05, "name": "holes"}})
    return {"difference": [{"rectangle": {"lower": [0, 0], "upper": [1, 1], "name": "outer"}}, *holes]}


class Plate(Problem):
    variables, outputs, fields = ("x", "y"), ("u",), ("u",)

    def conditions(self):
        return {
            "residual": Condition(("u",), lambda d: {"u": d["u_xx"] + d["u_yy"]}),
            "walls": Condition(("u",), lambda d: {"u": d["u_n"]}, on="boundary"),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interior", type=int, default=100_000)
    ap.add_argument("--boundary", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    p = Plate({"geometry": plate()})
    conds = p.conditions()
    p.geometry.measure, p.geometry.boundary_measure()  # the one-off QMC estimates, outside the timing
    times = []
    for seed in range(args.repeats):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        inner = geometry_points(p, (), {}, SamplerMethod.sobol, args.interior, False, rng)
        walls = geometry_points(p, conds["walls"].on, {}, SamplerMethod.sobol, args.boundary, False, rng)
        times.append(time.perf_counter() - t0)
        assert inner.shape == (args.interior, 2) and walls.shape == (args.boundary, 4)
        assert p.geometry.inside(inner).all() and p.geometry.on_boundary(walls[:, :2], tol=1e-9).all()
    print(
        f"square minus 17 disks: {args.interior} interior + {args.boundary} boundary points with normals, "
        f"one thread: best {min(times):.3f} s, median {statistics.median(times):.3f} s ({args.repeats} repeats); "
        f"area {p.geometry.measure:.4f}, boundary length {p.geometry.boundary_measure():.4f}"
    )


if __name__ == "__main__":
    main()
