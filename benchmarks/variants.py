"""Side-by-side comparisons of model variants over seeds, each a real `pinnrun` run.

    python benchmarks/variants.py mscale_pde           # MscaleDNN vs MLP on the multi-scale PDEs
    python benchmarks/variants.py ipinn_rogue ipinn_nls  # adaptive activations (IPINN) vs the plain PINN
    python benchmarks/variants.py mscale_pde --equations poisson_multiscale --seeds 0 --jobs 1
    python benchmarks/variants.py ipinn_rogue --seeds 0 -- trainer.max_steps=200   # overrides for every job
    python benchmarks/variants.py sip_synthetic sip_heat --figure docs/img/variants   # SIP against Adam and GD
    python benchmarks/variants.py ipinn_rogue --no-run --docs   # tables from docs/variants.json only
    python benchmarks/variants.py allen_cahn_ablation           # the expert's guide's parts, one removed at a time
    python benchmarks/variants.py burgers_rad                   # RAD against the default sampler, six seeds

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
#: the xi of the authors' sweep (tum-pbs/SIP, sin_characterization/plot_sin.py:33)
SIP_XI = (1, 3, 5, 10, 20, 32, 48, 64)

SUITES = {
    "mscale_pde": {
        # poisson_multiscale's two boundary points are swamped by its residual (f ~ 2.5e3) with unit
        # weights; a fixed boundary weight holds u there for every network (the comparison is about
        # the interior's high frequency)
        "equations": {
            "poisson_multiscale": ["equation=poisson_multiscale", "+weighting.weights.boundary_u=10000"],
            "heat_multiscale": ["equation=heat_multiscale"],
        },
        "variants": {
            "mlp (tanh)": ["model=mlp"],
            "mscale scaled, 1..8, sin": [*MSCALE, "model.activation=sin"],
            "mscale subnets, 1..8, sin": [
                *MSCALE,
                "model.activation=sin",
                "model.structure=subnets",
                "model.width=176",
            ],
            "mscale scaled, 1..128 (powers of 2), sin": [*MSCALE, "model.activation=sin", "model.scale_kind=powers2"],
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
    # learned inverse problems (Holl, Koltun & Thuerey 2022): the same network and steps for every
    # mode. sip_synthetic as the authors' code (github.com/tum-pbs/SIP, sin_characterization):
    # the xi of plot_sin.py:33; SIP and Adam at lr 1e-3, GD at 1e-2 / xi^2 (train_sin.py:10-12),
    # constant; Adam also at 1e-2, so it does not lose by the authors' choice of lr. Error: the
    # mean distance to the nearest solution (the authors' x_dist, train_sin.py:119)
    # the expert's guide's Algorithm 1 on Allen-Cahn at the CPU budget, each part removed in turn as
    # jaxpi's README ablation does (examples/allen_cahn/configs: no_fourier_feature, no_rwf,
    # no_grad_norm, no_causal, plain: all four removed, the periodic embedding kept)
    "allen_cahn_ablation": {
        "equations": {"allen_cahn (jaxpi_allen_cahn_cpu)": ["experiment=jaxpi_allen_cahn_cpu"]},
        "variants": {
            "full method": [],
            "no Fourier features": ["model.fourier_features=0"],
            "no weight factorisation": ["model.factorize=false"],
            "no grad-norm weights": ["weighting.name=fixed"],
            "no causal training": ["weighting.causal.chunks=0"],
            "plain (none of the four)": [
                "model.fourier_features=0",
                "model.factorize=false",
                "weighting.name=fixed",
                "weighting.causal.chunks=0",
            ],
        },
        "seeds": [0],
        "at_steps": [2000, 5000, 10000],
    },
    # residual-based adaptive sampling (Wu et al. 2023) against the default sampler, Burgers at the
    # default budget (500 Adam + 2500 L-BFGS steps, 2000 residual points)
    "burgers_rad": {
        "equations": {"burgers (default budget)": ["equation=burgers"]},
        "variants": {
            "default sampler (Latin hypercube, drawn once)": [],
            "sampler=rad (every 500 steps, k = 1, c = 1)": ["sampler=rad"],
        },
        "seeds": [0, 1, 2, 3, 4, 5],
        "at_steps": [500, 1500, 2500],
    },
    "sip_synthetic": {
        "equations": {f"xi = {xi}": ["experiment=holl_sip_synthetic", f"equation.params.xi={xi}"] for xi in SIP_XI},
        "vars": {f"xi = {xi}": {"gd_lr": f"{1e-2 / xi**2:.6g}"} for xi in SIP_XI},
        "variants": {
            "sip (Adam, lr 1e-3)": ["optimizer=sip", "optimizer.phases.0.steps=5000"],
            **{
                f"adam (lr {lr})": [
                    "optimizer=adam",
                    "optimizer.phases.0.steps=5000",
                    f"optimizer.phases.0.lr={lr}",
                    "optimizer.phases.0.decay_rate=1",
                ]
                for lr in ("1e-3", "1e-2")
            },
            "gd (lr 1e-2 / xi^2)": ["optimizer=gd", "optimizer.phases.0.steps=5000", "optimizer.phases.0.lr={gd_lr}"],
        },
        "seeds": [0],
        "at_steps": [1000, 2500],
        "metric": "dist/x",
        "also": ["l2/x", "l2/y"],
    },
    "sip_heat": {
        "equations": {f"T = {T}": ["experiment=holl_sip_heat", f"equation.params.T={T}"] for T in ("0.02", "0.1")},
        "variants": {
            "sip (Adam, lr 1e-3)": ["optimizer=sip", "optimizer.phases.0.steps=3000"],
            **{
                f"adam (lr {lr})": [
                    "optimizer=adam",
                    "optimizer.phases.0.steps=3000",
                    f"optimizer.phases.0.lr={lr}",
                    "optimizer.phases.0.decay_rate=1",
                ]
                for lr in ("1e-3", "1e-4")
            },
            **{
                f"gd (lr {lr})": ["optimizer=gd", "optimizer.phases.0.steps=3000", f"optimizer.phases.0.lr={lr}"]
                for lr in ("1e-1", "1e-2", "1e-3")
            },
        },
        "seeds": [0],
        "at_steps": [250, 1000],
        "fields": ["x", "y"],
    },
}


def slug(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text).split())


def run_job(out: Path, suite: str, equation: str, variant: str, seed: int, extra: list[str]) -> dict:
    spec = SUITES[suite]
    run = out / suite / slug(equation) / slug(variant) / f"seed{seed}"
    summary = run / "summary.json"
    if not summary.is_file():
        values = spec.get("vars", {}).get(equation)  # an equation's values of the variants' {fields}
        variant_args = [o.format(**values) for o in spec["variants"][variant]] if values else spec["variants"][variant]
        cmd = [
            sys.executable,
            "-m",
            "pinnrun",
            *spec["equations"][equation],
            *variant_args,
            f"seed={seed}",
            "trainer.progress=false",
            *extra,
            f"hydra.run.dir={run}",
        ]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode not in (0, 3):  # 3: the run diverged, its summary.json says so
            print(f"FAILED {equation} / {variant} / seed {seed}: {proc.stderr.strip()[-300:]}", flush=True)
            return {}
        print(f"{equation} / {variant} / seed {seed}: {time.time() - t0:.0f} s", flush=True)
    s = json.loads(summary.read_text())
    field = metric_of(spec, s["primary_field"])
    cols = read_metrics(run / "metrics.csv")
    curve = {int(k): float(v) for k, v in zip(cols["step"], cols[field]) if v == v}  # NaN: not evaluated
    return {
        "suite": suite,
        "equation": equation,
        "variant": variant,
        "seed": seed,
        "field": s["primary_field"],
        "status": s["status"],
        "l2": s["final"].get(field, math.nan),
        "metric": field,
        "final": {k: v for k, v in s["final"].items() if k.startswith(("l2/", "dist/"))},
        "l2_at": {str(k): curve[k] for k in spec["at_steps"] if k in curve},
        "parameters": s["parameters"],
        "steps": s["steps"],
        "wall_time_s": s["wall_time_s"],
        "run_dir": str(run.relative_to(ROOT)) if run.is_relative_to(ROOT) else str(run),
    }


def metric_of(spec: dict, primary_field: str) -> str:
    """The suite's main metric: ``metric``, or the relative L2 error of the primary field."""
    return spec.get("metric", f"l2/{primary_field}")


def also_of(spec: dict, field: str) -> list[str]:
    """The suite's other metrics (final mean in the table): ``also``, or l2/ of its other ``fields``."""
    return spec.get("also", [f"l2/{f}" for f in spec.get("fields", [field]) if f != field])


NAMES = {"l2/": "relative L2 of ", "dist/": "mean distance to the nearest solution of "}


def describe(metric: str) -> str:
    kind, field = metric.split("/", 1)
    return NAMES.get(kind + "/", kind + " of ") + field


def table(results: list[dict], suite: str) -> str:
    """Markdown: per equation, a row per variant (mean, min, max over seeds of the final main
    metric (relative L2 of the primary field unless the suite names one), its mean at some steps,
    the other metrics' final mean, time per step)."""
    spec, lines = SUITES[suite], []
    at = spec["at_steps"]
    for equation in spec["equations"]:
        rows = [r for r in results if r["suite"] == suite and r["equation"] == equation]
        if not rows:
            continue
        field = rows[0]["field"]
        metric, also = metric_of(spec, field), also_of(spec, field)
        lines += [
            f"**{equation}** (`{' '.join(spec['equations'][equation])}`), {describe(metric)}",
            "",
            "| variant | parameters | final: mean | min | max | "
            + " | ".join(f"mean at {k}" for k in at)
            + "".join(f" | final {f}" for f in also)
            + " | seeds | steps | time per step |",
            "|---" * (8 + len(at) + len(also)) + "|",
        ]
        for variant in spec["variants"]:
            v = [r for r in rows if r["variant"] == variant]
            if not v:
                continue
            l2 = [r["l2"] for r in v]
            # mean over the seeds that got there (L-BFGS may end a run early)
            along = [[r["l2_at"][str(k)] for r in v if str(k) in r["l2_at"]] or [math.nan] for k in at]
            other = [statistics.mean(r.get("final", {}).get(f, math.nan) for r in v) for f in also]
            diverged = sum(r.get("status") == "diverged" for r in v)
            lines.append(
                f"| {variant} | {v[0]['parameters']} | {statistics.mean(l2):.3g} | {min(l2):.3g} | "
                f"{max(l2):.3g} | "
                + " | ".join(f"{statistics.mean(a):.3g}" for a in along)
                + "".join(f" | {o:.3g}" for o in other)
                + f" | {len(v)}{f' ({diverged} diverged)' if diverged else ''} | {steps(v)} | "
                f"{1e3 * statistics.mean(r['wall_time_s'] / max(r['steps'], 1) for r in v):.2f} ms |"
            )
        lines.append("")
    return "\n".join(lines)


def into_docs(suite: str, text: str) -> None:
    doc = ROOT / "docs" / "REPRODUCTION.md"
    body = doc.read_text()
    begin, end = f"<!-- {suite}:begin -->", f"<!-- {suite}:end -->"
    if begin not in body or end not in body:
        raise SystemExit(f"variants: {doc} has no {begin} ... {end} markers")
    head, rest = body.split(begin, 1)
    doc.write_text(head + begin + "\n" + text.strip() + "\n" + end + rest.split(end, 1)[1])


def steps(v: list[dict]) -> str:
    lo, hi = min(r["steps"] for r in v), max(r["steps"] for r in v)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def figure(results: list[dict], suite: str, png: Path) -> Path:
    """The final main and other metrics of every variant. Over several equations (an ordered sweep,
    e.g. xi): a line per variant across them, the mean over the seeds, each seed a dot. On one
    equation (an ablation, a comparison of samplers): a horizontal bar per variant, the mean over
    the seeds with its value written at the bar's end, each seed a dot on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = SUITES[suite]
    rows = [r for r in results if r["suite"] == suite]
    metric = metric_of(spec, rows[0]["field"])
    fields = [metric, *also_of(spec, rows[0]["field"])]
    eqs = [e for e in spec["equations"] if any(r["equation"] == e for r in rows)]
    if len(eqs) == 1:
        return _bars(plt, rows, suite, eqs[0], fields, png)
    fig, axes = plt.subplots(1, len(fields), figsize=(6.5 * len(fields), 4.5), squeeze=False)
    for ax, f in zip(axes[0], fields):
        for k, variant in enumerate(spec["variants"]):
            seeds = [
                [r.get("final", {}).get(f, math.nan) for r in rows if r["equation"] == e and r["variant"] == variant]
                for e in eqs
            ]
            y = [statistics.mean(v or [math.nan]) for v in seeds]
            if not any(math.isfinite(v) for v in y):
                continue
            (line,) = ax.semilogy(range(len(eqs)), y, "o-", label=variant)
            shift = 0.04 * (k - (len(spec["variants"]) - 1) / 2)  # the variants' dots side by side
            for i, v in enumerate(seeds):
                if len(v) > 1:
                    ax.plot([i + shift] * len(v), v, ".", color=line.get_color(), alpha=0.5)
        ax.set_xticks(range(len(eqs)), eqs)
        ax.set_xlim(-0.5, len(eqs) - 0.5)
        ax.set_ylabel(f"final {describe(f)}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(suite)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def _bars(plt, rows: list[dict], suite: str, equation: str, fields: list[str], png: Path) -> Path:
    """One equation: a horizontal bar per variant (top to bottom in the suite's order), from zero."""
    variants = [v for v in SUITES[suite]["variants"] if any(r["variant"] == v for r in rows)]
    height = 1.8 + 0.45 * len(variants)
    fig, axes = plt.subplots(1, len(fields), figsize=(7.5 * len(fields), height), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, f in zip(axes[0], fields):
        for i, variant in enumerate(variants):
            seeds = [r.get("final", {}).get(f, math.nan) for r in rows if r["variant"] == variant]
            seeds = [v for v in seeds if math.isfinite(v)]
            if not seeds:
                continue
            mean = statistics.mean(seeds)
            ax.barh(i, mean, color=colors[i % len(colors)], alpha=0.85)
            if len(seeds) > 1:
                ax.plot(seeds, [i] * len(seeds), "k.", alpha=0.6)
            end = max(mean, *seeds)
            ax.annotate(f"{mean:.3g}", (end, i), xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(range(len(variants)), variants, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, ax.get_xlim()[1] * 1.12)  # room for the values
        seeds_note = " (bar: mean over the seeds, dots: each seed)" if len({r["seed"] for r in rows}) > 1 else ""
        ax.set_xlabel(f"final {describe(f)}{seeds_note}")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"{suite}: {equation}", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suites", nargs="+", choices=list(SUITES))
    ap.add_argument("--equations", nargs="+", help="only these equations of the suites")
    ap.add_argument("--variants", nargs="+", help="only these variants of the suites")
    ap.add_argument("--seeds", nargs="+", type=int, help="instead of the suites' seeds")
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "variants")
    ap.add_argument("--store", type=Path, default=STORE, help="results kept here (JSON)")
    ap.add_argument("--figure", type=Path, help="a figure per suite: <FIGURE>_<suite>.png")
    ap.add_argument(
        "--no-run", action="store_true", help="run nothing: tables (and figures) from the results kept in --store"
    )
    ap.add_argument(
        "--docs",
        action="store_true",
        help="also write each suite's table into docs/REPRODUCTION.md between its markers "
        "<!-- <suite>:begin --> and <!-- <suite>:end -->",
    )
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = ap.parse_args(argv[:cut]), argv[cut + 1 :]  # after --: overrides for every job
    jobs = [
        (suite, e, v, s)
        for suite in args.suites
        for e in SUITES[suite]["equations"]
        for v in SUITES[suite]["variants"]
        for s in (args.seeds or SUITES[suite]["seeds"])
        if (not args.equations or e in args.equations) and (not args.variants or v in args.variants)
    ]
    if args.no_run:
        jobs = []
    with ThreadPoolExecutor(args.jobs) as pool:
        results = [r for r in pool.map(lambda j: run_job(args.out, *j, extra), jobs) if r]
    kept = json.loads(args.store.read_text()) if args.store.is_file() else []
    key = lambda r: (r["suite"], r["equation"], r["variant"], r["seed"])  # noqa: E731
    new = {key(r) for r in results}
    kept = [r for r in kept if key(r) not in new] + results
    args.store.write_text(json.dumps(kept, indent=1) + "\n")
    for suite in args.suites:
        print(table(kept, suite))
        if args.docs:
            into_docs(suite, table(kept, suite))
        if args.figure and any(r["suite"] == suite for r in kept):
            print("figure:", figure(kept, suite, args.figure.with_name(f"{args.figure.name}_{suite}.png")))
    return 0 if len(results) == len(jobs) else 1


if __name__ == "__main__":
    sys.exit(main())
