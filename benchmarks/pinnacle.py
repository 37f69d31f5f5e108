"""PINNacle's tasks, pinnrun's vanilla preset and pinnrun's recipe, next to the published table.

    python benchmarks/pinnacle.py                          # every task, both variants, seed 0, full budget
    python benchmarks/pinnacle.py ns2d_c wave1d_c          # chosen tasks
    python benchmarks/pinnacle.py --steps 2000 --seeds 0 1 # a reduced budget (recorded as such), two seeds
    python benchmarks/pinnacle.py --variants recipe        # only pinnrun's recipe
    python benchmarks/pinnacle.py --list                   # the tasks, the published numbers, the recipes
    python benchmarks/pinnacle.py --docs                   # rewrite docs/PINNACLE.md from the stored rows

Each run is `pinnrun experiment=pinnacle_<task>` (the vanilla PINN as PINNacle's benchmark.py
sets it up, docs/PRESETS.md), or that with the task's recipe below, in its own process with one
thread; `--jobs` runs go side by side (default 2: this project's CPU machines have 2 cores).
Every run adds its row to docs/pinnacle.json as soon as it ends (one per task, variant, seed and
budget; rerunning replaces it; a batch cut short keeps what finished). At the end of the batch
docs/PINNACLE.md is rewritten from all the rows, each task's field
figure (reference, prediction, error on the reference points) is copied to
docs/img/pinnacle/<task>.png from the recipe's run (else the vanilla one), and
docs/img/pinnacle/summary.png draws every task's numbers on one log axis.

`--steps N` scales every optimizer phase of both variants to N steps in all (the phases keep
their proportions) and marks the rows "reduced"; the published numbers are at 20000.
The reference files come from the data directory (fetched on first use; PINNRUN_DATA_DIR).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STORE = DOCS / "pinnacle.json"
FIGURES = DOCS / "img" / "pinnacle"
OUT = ROOT / "outputs" / "pinnacle"
#: PINNacle's iteration budget (benchmark.py:61-72, --iter 20000)
BUDGET = 20000


@dataclass(frozen=True)
class Task:
    """A PINNacle task: its name in the paper, the published vanilla PINN and best method (L2RE),
    and pinnrun's recipe (overrides of the vanilla preset) with the reason for each choice."""

    paper: str
    vanilla: float | None
    best: tuple[str, float | None]
    recipe: tuple[str, ...]
    why: str


#: inputs onto [-1, 1], gradient-norm weights every 100 steps; with 64 Fourier features of scale 2
GRADNORM = ("model.inputs=bounds", "weighting=gradnorm", "weighting.update_every=100")
FOURIER_GRADNORM = (*GRADNORM, "model.fourier_features=64", "model.fourier_scale=2.0")

#: The published numbers: Table 3 of Hao et al. (arXiv:2306.08827), vanilla PINN and the best
#: method, as secondary summaries quote them; they could not be checked against the paper's PDF
#: here (see docs/PINNACLE.md). Heat2d-LT: every method near 1; Heat2d-MS: best not found; HInv: the
#: summaries give the best as about 5e-2 without naming the method.
TASKS: dict[str, Task] = {
    "burgers1d_c": Task(
        "Burgers1d-C",
        1.45e-2,
        ("L-BFGS", 1.33e-2),
        (
            "model.inputs=bounds",
            "model.hard_constraints=true",
            "optimizer.phases=[{kind:adam,steps:10000,lr:1.0e-3},{kind:lbfgs,steps:10000}]",
        ),
        "the initial line and the walls held exactly (no loss terms), inputs onto [-1, 1], Adam then L-BFGS",
    ),
    "poisson2d_c": Task(
        "Poisson2d-C",
        6.94e-1,
        ("NTK", 1.23e-2),
        FOURIER_GRADNORM,
        "Fourier features (scale 2) and gradient-norm weights: the vanilla network settles at u = 0.5, "
        "between the square's 1 and the holes' 0",
    ),
    "poisson2d_cg": Task(
        "Poisson2d-CG",
        6.36e-1,
        ("NTK", 1.43e-2),
        FOURIER_GRADNORM,
        "as Poisson2d-C: Fourier features (scale 2) and gradient-norm weights",
    ),
    "ns2d_c": Task(
        "NS2d-C",
        4.70e-2,
        ("LAAF", 3.60e-2),
        GRADNORM,
        "gradient-norm weights between the momentum, continuity and wall terms",
    ),
    "ns2d_cg": Task(
        "NS2d-CG",
        1.19e-1,
        ("LAAF", 8.24e-2),
        GRADNORM,
        "gradient-norm weights between the momentum, continuity and inlet, outlet and wall terms",
    ),
    "wave1d_c": Task(
        "Wave1d-C",
        5.88e-1,
        ("NTK", 9.79e-2),
        ("model.inputs=bounds", "weighting=ntk", "weighting.update_every=100"),
        "NTK weights (Wang, Yu & Perdikaris 2022: this wave is their example)",
    ),
    "heat2d_ms": Task(
        "Heat2d-MS",
        6.21e-2,
        ("-", None),
        (
            "model.inputs=bounds",
            "model.fourier_features=64",
            "model.fourier_scale=10.0",
            "weighting=gradnorm_mean",
            "weighting.update_every=100",
        ),
        "Fourier features of scale 10 for the sin(20 pi x) initial line (the tanh network stays at u = 0), "
        "gradient-norm weights",
    ),
    "heat2d_lt": Task(
        "Heat2d-LT",
        None,
        ("-", None),
        (
            "model.inputs=bounds",
            "model.fourier_features=64",
            "model.fourier_scale=3.0",
            "weighting=gradnorm",
            "weighting.update_every=100",
        ),
        "inputs onto [-1, 1] (t spans [0, 100]), Fourier features for sin(4 pi x) sin(3 pi y), gradient-norm weights",
    ),
    "pnd": Task(
        "PNd",
        3.04e-3,
        ("LRA", 4.58e-4),
        ("model.inputs=bounds", "optimizer.phases=[{kind:adam,steps:10000,lr:1.0e-3},{kind:lbfgs,steps:10000}]"),
        "a smooth solution: Adam then L-BFGS, inputs onto [-1, 1]",
    ),
    "hinv": Task(
        "HInv",
        1.57,
        ("unnamed", 5.0e-2),
        (
            *GRADNORM,
            "optimizer.phases=[{kind:adam,steps:10000,lr:1.0e-3},{kind:lbfgs,steps:10000}]",
        ),
        "gradient-norm weights lift the data and a's wall terms over the PDE's (f up to 4 pi^2), then L-BFGS "
        "(300-step trials: vanilla 1.25, grad-norm 0.824, grad-norm then L-BFGS 0.573)",
    ),
}
VARIANTS = ("vanilla", "recipe")


def scaled_phases(overrides: list[str], task: str, steps: int) -> list[str]:
    """``overrides`` with every optimizer phase scaled to ``steps`` in all (in proportion)."""
    from pinnrun.api import compose

    cfg, _ = compose([f"experiment=pinnacle_{task}", *overrides])
    phases = [p.steps for p in cfg.optimizer.phases]
    left, out = steps, []
    for i, n in enumerate(phases):
        k = left if i == len(phases) - 1 else max(1, round(n * steps / sum(phases)))
        left -= k
        out.append(f"optimizer.phases.{i}.steps={k}")
    return [*overrides, *out]


def overrides_of(task: str, variant: str, steps: int | None) -> list[str]:
    """The overrides of a run (composed here: Hydra's compose API is not for threads)."""
    overrides = list(TASKS[task].recipe) if variant == "recipe" else []
    return overrides if steps is None else scaled_phases(overrides, task, steps)


def run(task: str, variant: str, seed: int, steps: int | None, plots: bool, overrides: list[str]) -> dict:
    budget = "full" if steps is None or steps == BUDGET else "reduced"
    run_dir = OUT / f"{task}-{variant}-seed{seed}-{steps or BUDGET}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    cmd = [
        sys.executable,
        "-m",
        "pinnrun",
        f"experiment=pinnacle_{task}",
        *overrides,
        f"seed={seed}",
        "trainer.progress=false",
        "trainer.threads=1",
        f"trainer.plots={str(plots).lower()}",
        f"hydra.run.dir={run_dir}",
    ]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True)
    if proc.returncode != 0:
        row = {"task": task, "variant": variant, "seed": seed, "budget": budget, "overrides": overrides}
        return {**row, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return {**row_of(run_dir, task, variant), "process_s": round(time.time() - t0, 1)}


def row_of(run_dir: Path, task: str, variant: str) -> dict:
    """The stored row of a finished run directory."""
    summary = json.loads((run_dir / "summary.json").read_text())
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    overrides = yaml.safe_load((run_dir / "overrides.yaml").read_text()) or []
    field = cfg["published"]["field"]
    return {
        "task": task,
        "variant": variant,
        "seed": cfg["seed"],
        "budget": "full" if summary["steps"] == BUDGET else "reduced",
        "overrides": [o for o in overrides if not o.startswith(("experiment=", "seed=", "trainer.", "hydra."))],
        "field": field,
        "l2": summary["final"].get(f"l2/{field}"),
        "steps": summary["steps"],
        "wall_time_s": round(summary["wall_time_s"], 1),
        "device": summary["device"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, one thread per run",
        "date": dt.date.today().isoformat(),
        "run_dir": str(run_dir.resolve().relative_to(ROOT)),
    }


def key(row: dict) -> tuple:
    return (row["task"], row["variant"], row["seed"], row["steps"] if "steps" in row else None)


def stored() -> list[dict]:
    """The rows in docs/pinnacle.json (none before the first run)."""
    return json.loads(STORE.read_text()) if STORE.exists() else []


def store(rows: list[dict]) -> list[dict]:
    """``rows`` merged into the stored ones (a failed run is not stored; a rerun replaces its own
    row); all the rows."""
    old = stored()
    new = {key(r): r for r in rows if "error" not in r}
    merged = [r for r in old if key(r) not in new] + list(new.values())
    merged.sort(key=lambda r: (list(TASKS).index(r["task"]) if r["task"] in TASKS else 99, r["variant"], r["steps"]))
    STORE.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


def fmt(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.3g}"


def mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def at_budget(rows: list[dict], task: str, variant: str, steps: int) -> list[dict]:
    """The rows of a task and variant at one budget (all its seeds)."""
    return [r for r in rows if r["task"] == task and r["variant"] == variant and r["steps"] == steps]


def latest(rows: list[dict], task: str, variant: str) -> list[dict]:
    """The rows of the largest budget measured for a task and variant (all its seeds)."""
    top = max((r["steps"] for r in rows if r["task"] == task and r["variant"] == variant), default=None)
    return [] if top is None else at_budget(rows, task, variant, top)


def figures(rows: list[dict]) -> None:
    """Each task's field figure from its run directory, and the summary figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGURES.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        for variant in ("recipe", "vanilla"):
            runs = latest(rows, task, variant)
            src = [ROOT / r["run_dir"] / "plots" / "fields.png" for r in runs]
            src = [p for p in src if p.is_file()]
            if src:
                shutil.copyfile(src[0], FIGURES / f"{task}.png")
                break
    names = [t for t in TASKS if latest(rows, t, "vanilla") or latest(rows, t, "recipe")]
    if not names:
        return
    series = {
        "PINNacle vanilla": [TASKS[t].vanilla for t in names],
        "PINNacle best": [TASKS[t].best[1] for t in names],
        "pinnrun vanilla": [mean([r["l2"] for r in latest(rows, t, "vanilla")]) for t in names],
        "pinnrun recipe": [mean([r["l2"] for r in latest(rows, t, "recipe")]) for t in names],
    }
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 4))
    w = 0.8 / len(series)
    for i, (label, vals) in enumerate(series.items()):
        xs = [j + (i - 1.5) * w for j, v in enumerate(vals) if v is not None]
        ax.bar(xs, [v for v in vals if v is not None], width=w, label=label)

    def tick(task: str) -> str:
        """The task's name, and each variant's steps where they differ (the largest budget of each)."""
        top = {v: max((r["steps"] for r in latest(rows, task, v)), default=None) for v in VARIANTS}
        if len(set(top.values())) == 1:
            return TASKS[task].paper
        return f"{TASKS[task].paper}\n" + ", ".join(f"{v} {n}" for v, n in top.items() if n is not None)

    ax.set_xticks(range(len(names)), [tick(t) for t in names], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("relative L2 error")
    steps = sorted({r["steps"] for t in names for v in VARIANTS for r in latest(rows, t, v)})
    ax.set_title(f"PINNacle: {BUDGET} steps (published); pinnrun: {', '.join(map(str, steps))} steps", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(FIGURES / "summary.png", dpi=120)
    plt.close(fig)


def write_docs(rows: list[dict]) -> None:
    """docs/PINNACLE.md's table: a line per task and budget measured (a reduced budget next to the
    full one), or one "not run" line."""
    head = [
        "| task | PINNacle vanilla PINN | PINNacle best (method, L2RE) | pinnrun vanilla | pinnrun recipe "
        "| recipe settings | budget (steps) | seeds | wall time (vanilla / recipe) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines = []
    for task, t in TASKS.items():
        best = f"{t.best[0]}, {fmt(t.best[1])}" if t.best[1] is not None else t.best[0]
        pub = fmt(t.vanilla) if t.vanilla is not None else "about 1"
        budgets = sorted({r["steps"] for r in rows if r["task"] == task}, reverse=True) or [None]
        for steps in budgets:
            van, rec = (at_budget(rows, task, v, steps) for v in VARIANTS)
            budget = "not run" if steps is None else f"{steps} ({'full' if steps == BUDGET else 'reduced'})"
            seeds = sorted({r["seed"] for r in van + rec})
            wall = " / ".join(fmt(mean([r["wall_time_s"] / 60 for r in v])) + " min" if v else "-" for v in (van, rec))
            lines.append(
                f"| {t.paper} (`pinnacle_{task}`) | {pub} | {best} | {fmt(mean([r['l2'] for r in van]))} "
                f"| {fmt(mean([r['l2'] for r in rec]))} | `{' '.join(t.recipe)}`: {t.why} | {budget} "
                f"| {', '.join(map(str, seeds)) or '-'} | {wall} |"
            )
    table = "\n".join(head + lines)
    doc = DOCS / "PINNACLE.md"
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    text = doc.read_text()
    before, _, rest = text.partition(begin)
    _, _, after = rest.partition(end)
    doc.write_text(f"{before}{begin}\n{table}\n{end}{after}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="*", help=f"tasks (default: all): {', '.join(TASKS)}")
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--steps", type=int, help=f"every run's steps in all (default: PINNacle's {BUDGET})")
    ap.add_argument("--jobs", type=int, default=2, help="runs side by side, one thread each")
    ap.add_argument("--no-plots", action="store_true", help="skip the runs' figures")
    ap.add_argument("--list", action="store_true", help="the tasks, published numbers and recipes")
    ap.add_argument("--docs", action="store_true", help="rewrite docs/PINNACLE.md from the stored rows")
    ap.add_argument(
        "--record", nargs=3, action="append", metavar=("RUN_DIR", "TASK", "VARIANT"), help="store a finished run"
    )
    args = ap.parse_args()
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"pinnacle: no task {', '.join(unknown)} (choose from: {', '.join(TASKS)})")
    if args.list:
        for name, t in TASKS.items():
            print(f"{name:12s} {t.paper:13s} vanilla {fmt(t.vanilla):8s} best {t.best[0]} {fmt(t.best[1])}")
            print(f"{'':12s} recipe: {' '.join(t.recipe)}  ({t.why})")
        return
    if args.record:
        rows = store([row_of(Path(d).resolve(), t, v) for d, t, v in args.record])
        write_docs(rows)
        figures(rows)
        return
    if args.docs:
        rows = stored()
        write_docs(rows)
        figures(rows)
        return
    jobs = [(t, v, s) for t in (args.tasks or list(TASKS)) for v in args.variants for s in args.seeds]
    overrides = {(t, v): overrides_of(t, v, args.steps) for t, v, _ in jobs}
    t0, lock = time.time(), threading.Lock()

    def one(job: tuple[str, str, int]) -> dict:
        """One run, its row stored as soon as it ends (a batch cut short keeps what finished)."""
        r = run(*job, args.steps, not args.no_plots, overrides[job[:2]])
        what = r.get("error") or f"l2/{r['field']} {fmt(r['l2'])}, {r['steps']} steps, {r['wall_time_s']:.0f} s"
        with lock:
            print(f"{r['task']:12s} {r['variant']:8s} seed {r['seed']}: {what}", flush=True)
            store([r])
        return r

    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(one, jobs))
    rows = stored()
    write_docs(rows)
    figures(rows)
    failed = sum("error" in r for r in done)
    print(f"pinnacle: {len(done)} runs, {failed} failed, {time.time() - t0:.0f} s; docs/PINNACLE.md")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
