"""Side-by-side comparisons of model variants over seeds, each a real `pinnrun` run.

    python benchmarks/variants.py mscale_pde           # MscaleDNN vs MLP on the multi-scale PDEs
    python benchmarks/variants.py ipinn_rogue ipinn_nls  # adaptive activations (IPINN) vs the plain PINN
    python benchmarks/variants.py mscale_pde --equations poisson_multiscale --seeds 0 --jobs 1
    python benchmarks/variants.py ipinn_rogue --seeds 0 -- trainer.max_steps=200   # overrides for every job

A suite is equations x variants x seeds. Every variant of a suite trains with
the same recipe for the same steps. In `mscale_pde` every network has (within
2 %) the plain MLP's parameter count and the MscaleDNN variants change one
thing at a time from a base (scaled first layer, scales 1..8, sin): the
structure, the scale set, the activation.

Jobs run two at a time, one thread each, under --out (a finished job is not
run again). The table of relative L2 errors (mean, min and max over the seeds,
and the mean at a few steps along the way) is printed in Markdown; results
are kept in docs/variants.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pinnrun.io import read_metrics

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "docs" / "variants.json"

MSCALE = ["model=mscale", "model.n_scales=8"]
NLS_REDUCED = ["experiment=raissi_nls", "optimizer.phases.0.steps=1000", "optimizer.phases.1.steps=1000"]
SUITES = {
    "mscale_pde": {
        # poisson_multiscale's two boundary points are swamped by its residual (f ~ 2.5e3) with unit
        # weights; a fixed boundary weight holds u there for every network (the comparison is about
        # the interior's high frequency)
        "equations": {"poisson_multiscale": ["equation=poisson_multiscale", "+weighting.weights.boundary_u=10000"],
                      "heat_multiscale": ["equation=heat_multiscale"]},
        "variants": {
            "mlp (tanh)": ["model=mlp"],
            "mscale scaled, 1..8, sin": [*MSCALE, "model.activation=sin"],
            "mscale subnets, 1..8, sin": [*MSCALE, "model.activation=sin", "model.structure=subnets",
                                          "model.width=176"],
            "mscale scaled, 1..128 (powers of 2), sin": [*MSCALE, "model.activation=sin",
                                                         "model.scale_kind=powers2"],
            "mscale scaled, 1..8, s2relu": [*MSCALE, "model.activation=s2relu"],
            "mscale scaled, 1..8, srelu": [*MSCALE, "model.activation=srelu"],
        },
        "seeds": [0, 1, 2],
        "at_steps": [500, 1000, 2000],
    },
    "ipinn_rogue": {
        "equations": {"nls_rogue": ["equation=nls_rogue", "trainer.eval_every=100"]},
        "variants": {"PINN (tanh)": [], "IPINN (neuron-wise adaptive tanh, n = 10)": ["model.adaptive=neuron"]},
        "seeds": [0, 1, 2],
        "at_steps": [500, 1000, 2000],
    },
    "ipinn_nls": {
        "equations": {"raissi_nls (1000 Adam + 1000 L-BFGS)": [*NLS_REDUCED, "trainer.eval_every=100"]},
        "variants": {"PINN (tanh)": [], "IPINN (neuron-wise adaptive tanh, n = 10)": ["model.adaptive=neuron"]},
        "seeds": [0],
        "at_steps": [500, 1000, 1500, 2000],
    },
}


def slug(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text).split())


def run_job(out: Path, suite: str, equation: str, variant: str, seed: int, extra: list[str]) -> dict:
    spec = SUITES[suite]
    run = out / suite / slug(equation) / slug(variant) / f"seed{seed}"
    summary = run / "summary.json"
    if not summary.is_file():
        cmd = [sys.executable, "-m", "pinnrun", *spec["equations"][equation], *spec["variants"][variant],
               f"seed={seed}", "trainer.progress=false", *extra, f"hydra.run.dir={run}"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"FAILED {equation} / {variant} / seed {seed}: {proc.stderr.strip()[-300:]}", flush=True)
            return {}
        print(f"{equation} / {variant} / seed {seed}: {time.time() - t0:.0f} s", flush=True)
    s = json.loads(summary.read_text())
    field = f"l2/{s['primary_field']}"
    cols = read_metrics(run / "metrics.csv")
    curve = {int(k): float(v) for k, v in zip(cols["step"], cols[field]) if v == v}  # NaN: not evaluated
    return {"suite": suite, "equation": equation, "variant": variant, "seed": seed, "field": s["primary_field"],
            "l2": s["final"][field], "l2_at": {str(k): curve[k] for k in spec["at_steps"] if k in curve},
            "parameters": s["parameters"], "steps": s["steps"], "wall_time_s": s["wall_time_s"],
            "run_dir": str(run.relative_to(ROOT)) if run.is_relative_to(ROOT) else str(run)}


def table(results: list[dict], suite: str) -> str:
    spec, lines = SUITES[suite], []
    at = spec["at_steps"]
    for equation in spec["equations"]:
        rows = [r for r in results if r["suite"] == suite and r["equation"] == equation]
        if not rows:
            continue
        lines += [f"**{equation}** (`{' '.join(spec['equations'][equation])}`), relative L2 of "
                  f"{rows[0]['field']}, {rows[0]['steps']} steps", "",
                  "| network | parameters | final: mean | min | max | " + " | ".join(f"mean at {k}" for k in at)
                  + " | seeds | time per run |",
                  "|---" * (7 + len(at)) + "|"]
        for variant in spec["variants"]:
            v = [r for r in rows if r["variant"] == variant]
            if not v:
                continue
            l2 = [r["l2"] for r in v]
            along = [[r["l2_at"].get(str(k), math.nan) for r in v] for k in at]
            lines.append(f"| {variant} | {v[0]['parameters']} | {statistics.mean(l2):.3g} | {min(l2):.3g} | "
                         f"{max(l2):.3g} | " + " | ".join(f"{statistics.mean(a):.3g}" for a in along)
                         + f" | {len(v)} | {statistics.mean(r['wall_time_s'] for r in v):.0f} s |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suites", nargs="+", choices=list(SUITES))
    ap.add_argument("--equations", nargs="+", help="only these equations of the suites")
    ap.add_argument("--variants", nargs="+", help="only these variants of the suites")
    ap.add_argument("--seeds", nargs="+", type=int, help="instead of the suites' seeds")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "variants")
    ap.add_argument("--store", type=Path, default=STORE, help="results kept here (JSON)")
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = ap.parse_args(argv[:cut]), argv[cut + 1:]   # after --: overrides for every job
    jobs = [(suite, e, v, s) for suite in args.suites for e in SUITES[suite]["equations"]
            for v in SUITES[suite]["variants"] for s in (args.seeds or SUITES[suite]["seeds"])
            if (not args.equations or e in args.equations) and (not args.variants or v in args.variants)]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = [r for r in pool.map(lambda j: run_job(args.out, *j, extra), jobs) if r]
    kept = json.loads(args.store.read_text()) if args.store.is_file() else []
    key = lambda r: (r["suite"], r["equation"], r["variant"], r["seed"])  # noqa: E731
    new = {key(r) for r in results}
    kept = [r for r in kept if key(r) not in new] + results
    args.store.write_text(json.dumps(kept, indent=1) + "\n")
    for suite in args.suites:
        print(table(kept, suite))
    return 0 if len(results) == len(jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
