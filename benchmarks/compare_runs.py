"""One figure comparing finished runs: each run's learned curve over the truth (1-D problems),
and each run's test loss (or loss, without a test set) and relative L2 error against step.

    python benchmarks/compare_runs.py outputs/multirun/<date>/<time>       # every job of a sweep
    python benchmarks/compare_runs.py RUN_A RUN_B --out docs/img/fit.png

Runs are labelled by their command-line overrides (overrides.yaml). Prints a
table of final metrics, one row per run.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from pinnrun.io import read_metrics  # noqa: E402


def run_dirs(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if (p / "summary.json").exists():
            out.append(p)
        else:  # a multirun directory: its numbered jobs
            out += sorted((d for d in p.iterdir() if (d / "summary.json").exists()), key=lambda d: d.name)
    if not out:
        raise SystemExit(f"compare_runs: no finished run (summary.json) under {', '.join(map(str, paths))}")
    return out


def label(run: Path, common: set[str]) -> str:
    own = [o for o in (yaml.safe_load((run / "overrides.yaml").read_text()) or []) if o not in common]
    return " ".join(own) or run.name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("comparison.png"))
    ap.add_argument("--zoom", type=float, nargs=2, metavar=("LO", "HI"), help="x range of an inset panel")
    args = ap.parse_args()
    runs = run_dirs(args.runs)
    overrides = [set(yaml.safe_load((r / "overrides.yaml").read_text()) or []) for r in runs]
    common = set.intersection(*overrides)
    labels = [label(r, common) for r in runs]

    with h5py.File(runs[0] / "predictions.h5", "r") as f:
        one_d = len(f.attrs["variables"].split(",")) == 1
    panels = 2 + one_d + (one_d and args.zoom is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2))
    ax = iter(axes)
    if one_d:
        curve_axes = [next(ax)] + ([next(ax)] if args.zoom else [])
        for i, (run, name) in enumerate(zip(runs, labels)):
            with h5py.File(run / "predictions.h5", "r") as f:
                var = f.attrs["variables"].split(",")[0]
                field = f.attrs["fields"].split(",")[0]
                x, pred = f[f"grid/{var}"][()], f[f"pred/{field}"][()]
                ref = f[f"ref/{field}"][()] if f"ref/{field}" in f else None
            for a in curve_axes:
                if i == 0 and ref is not None:
                    a.plot(x, ref, color="k", lw=0.8, label="truth")
                a.plot(x, pred, lw=0.8, alpha=0.8, label=name)
        for a in curve_axes:
            a.set_xlabel(var)
            a.legend(fontsize=7)
        curve_axes[0].set_title("learned curves over the truth")
        if args.zoom:
            curve_axes[1].set_xlim(*args.zoom)
            curve_axes[1].set_title(f"zoom: {args.zoom[0]} to {args.zoom[1]}")
    loss_ax, l2_ax = next(ax), next(ax)
    print("| run | steps | final loss | test loss | l2 |")
    print("| --- | --- | --- | --- | --- |")
    for run, name in zip(runs, labels):
        m = read_metrics(run / "metrics.csv")
        key = "test_loss" if "test_loss" in m else "loss"
        ok = np.isfinite(m[key])
        loss_ax.semilogy(m["step"][ok], m[key][ok], label=name)
        l2_keys = [k for k in m if k.startswith("l2/")]
        if l2_keys:
            ok = np.isfinite(m[l2_keys[0]])
            l2_ax.semilogy(m["step"][ok], m[l2_keys[0]][ok], label=f"{name} ({l2_keys[0]})")
        s = json.loads((run / "summary.json").read_text())
        fin = s["final"]
        l2 = next((f"{v:.3e}" for k, v in fin.items() if k.startswith("l2/")), "-")
        test = f"{fin['test_loss']:.3e}" if "test_loss" in fin else "-"
        print(f"| {name} | {s['steps']} | {fin['loss']:.3e} | {test} | {l2} |")
    loss_ax.set_title("test loss" if key == "test_loss" else "loss")
    l2_ax.set_title("relative L2 error")
    for a in (loss_ax, l2_ax):
        a.set_xlabel("step")
        a.grid(True, which="both", alpha=0.3)
        a.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
