"""Fixed-seed runs whose metrics.csv a change that only moves code must leave as they are.

    python benchmarks/same_numbers.py runs OUT              # the nine runs into OUT/<case>/
    python benchmarks/same_numbers.py compare OLD NEW       # every metrics.csv cell but time_s

Run it at the commit before a restructuring and at the one after (``git stash`` or a second
clone) with the same data directory (``PINNRUN_DATA_DIR``: the L2 columns read its reference
files), then compare: it prints one line per case (rows, columns, IDENTICAL or the first cells
that differ) and exits 1 if any differs. The cases cover a PINN with Adam then L-BFGS, NTK
weights, causal training, RAD, an inverse problem, SIP, hard constraints on a geometry, Neumann
and Robin conditions on the annulus and the compiled step; each trains in this process with one
thread, for 20 to 40 steps (about a minute in all on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

SMALL = ["model.width=16", "model.depth=2"]
LOG = ["trainer.progress=false", "trainer.plots=false", "trainer.log_every=5", "trainer.eval_every=10"]
CASES = {
    "pinn": ["equation=burgers", *SMALL, "equation.points.residual=300"]
    + ["optimizer.phases.0.steps=30", "optimizer.phases.1.steps=10"],
    "ntk": ["equation=wave", "weighting=ntk", "weighting.update_every=10", *SMALL, "equation.points.residual=200"]
    + ["trainer.max_steps=30"],
    "causal": ["experiment=jaxpi_allen_cahn_cpu", "model.width=16", "model.fourier_features=16"]
    + ["equation.points.residual=256", "equation.points.initial=64", "weighting.causal.chunks=8"]
    + ["optimizer.phases.0.steps=30"],
    "rad": ["equation=burgers", "sampler.rad.conditions=[residual]", "sampler.resample_every=10", *SMALL]
    + ["equation.points.residual=200", "trainer.max_steps=30"],
    "inverse": ["experiment=raissi_burgers_inverse", "model.width=10", "model.depth=2"]
    + ["equation.points.residual=300", "equation.observations.count=300", "trainer.max_steps=30"],
    "sip": ["experiment=holl_sip_synthetic", "trainer.max_steps=20"],
    "holes_hard": ["equation=poisson_holes", "model.hard_constraints=true", *SMALL, "equation.points.residual=200"]
    + ["trainer.max_steps=20"],
    "annulus": ["equation=poisson_annulus", *SMALL, "equation.points.residual=200", "trainer.max_steps=20"],
    "compiled": ["equation=burgers", "trainer.compile=true", *SMALL, "equation.points.residual=200"]
    + ["trainer.max_steps=20"],
}


def runs(out: Path) -> None:
    import pinnrun

    shutil.rmtree(out, ignore_errors=True)
    for name, overrides in CASES.items():
        engine = [] if "trainer.compile=true" in overrides else ["trainer.compile=false"]
        run = pinnrun.run([*overrides, *LOG, *engine, "trainer.threads=1"], out / name, quiet=True)
        print(f"{name}: {run.status}")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def compare(old: Path, new: Path) -> int:
    differ = 0
    for name in CASES:
        a, b = rows(old / name), rows(new / name)
        if len(a) != len(b) or a[0].keys() != b[0].keys():
            print(f"{name}: DIFFER (rows {len(a)} against {len(b)}, or other columns)")
            differ += 1
            continue
        cells = [(r["step"], k) for r, s in zip(a, b) for k in r if k != "time_s" and r[k] != s[k]]
        print(f"{name}: {len(a)} rows, {len(a[0])} columns, " + (f"DIFFER at {cells[:5]}" if cells else "IDENTICAL"))
        differ += bool(cells)
    return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="verb", required=True)
    sub.add_parser("runs").add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = ap.parse_args()
    if args.verb == "runs":
        runs(args.out)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
