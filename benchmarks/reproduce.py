"""Run the paper experiments (conf/experiment/*.yaml) and record measured against published.

    python benchmarks/reproduce.py                       # every experiment, full budget (GPU work)
    python benchmarks/reproduce.py raissi_nls            # one experiment
    python benchmarks/reproduce.py raissi_nls -- optimizer.phases.1.steps=6000   # reduced budget
    python benchmarks/reproduce.py --from-run outputs/...  # record a run made elsewhere
    python benchmarks/reproduce.py --equations           # every equation with the default recipe
    python benchmarks/reproduce.py --list                # the experiments and their published numbers
    python benchmarks/reproduce.py --smoke               # reduced budgets with pass/fail checks (CPU, minutes)

Each result is kept in docs/reproduction.json (one entry per experiment and
budget) and docs/REPRODUCTION.md's table is rewritten from it, so a partial
run never erases earlier rows.

The smoke suite (`make reproduce-smoke`, run by CI) trains every experiment
on a budget a 2-core CPU finishes in a few minutes in all (two runs at a time,
one thread each) and checks each against a bound that a broken method fails:
an error bound, identified constants within a relative error, or beating the
matching baseline (NTK or annealed weights against fixed weights, MscaleDNN
against the plain network, SIP against Adam) by a factor. Its runs and table
go to outputs/reproduce-smoke/<time>/; docs are left alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STORE = DOCS / "reproduction.json"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def experiments() -> list[str]:
    return sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))


def equations() -> list[str]:
    return sorted(p.stem for p in (ROOT / "conf" / "equation").glob("*.yaml"))


def record(run_dir: Path, experiment: str | None = None) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    overrides = yaml.safe_load((run_dir / "overrides.yaml").read_text()) or []
    if experiment is None:
        experiment = next((o.split("=", 1)[1] for o in overrides if o.startswith("experiment=")), "?")
    preset = ROOT / "conf" / "experiment" / f"{experiment}.yaml"
    pub = (
        summary.get("published")
        or cfg.get("published")
        or (yaml.safe_load(preset.read_text()).get("published") if preset.is_file() else None)
        or {}
    )
    field = pub.get("field") or summary["primary_field"]
    planned = sum(p["steps"] for p in cfg["optimizer"]["phases"])
    return {
        "experiment": experiment,
        "source": pub.get("source", ""),
        "field": field,
        "published_l2": pub.get("l2"),
        "measured_l2": summary["final"].get(f"l2/{field}"),
        "unknowns": {
            k: {"found": u["found"], "true": u["true"], "rel_error": u["rel_error"]}
            for k, u in summary.get("unknowns", {}).items()
        },
        "steps": summary["steps"],
        "planned_steps": planned,
        # full = the experiment's own budget; reduced = steps cut by an override
        "budget": "reduced" if any(o.startswith(("trainer.max_steps", "optimizer.")) for o in overrides) else "full",
        "overrides": [
            o for o in overrides if not o.startswith(("experiment=", "trainer.progress=")) and o != experiment
        ],
        "status": summary["status"],
        "wall_time_s": summary["wall_time_s"],
        "device": summary["device"],
        "date": dt.date.today().isoformat(),
        "run_dir": str(run_dir.resolve().relative_to(ROOT) if run_dir.resolve().is_relative_to(ROOT) else run_dir),
    }


def write_docs(entries: list[dict]) -> None:
    rows = [
        "| experiment | source | field | published L2 | measured L2 | identified (error) | steps (planned) "
        "| budget | wall time | device | date |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in sorted(entries, key=lambda e: (e["experiment"], e["budget"], e["date"])):
        pub = f"{e['published_l2']:.3g}" if e["published_l2"] is not None else "-"
        got = f"{e['measured_l2']:.3g}" if e["measured_l2"] is not None else "-"
        budget = e["budget"] + (f" ({' '.join(e['overrides'])})" if e["overrides"] else "")
        found = ", ".join(f"{k} {u['found']:.5g} ({u['rel_error']:.2%})" for k, u in e.get("unknowns", {}).items())
        rows.append(
            f"| {e['experiment']} | {e['source']} | {e['field']} | {pub} | {got} | {found or '-'} | "
            f"{e['steps']} ({e['planned_steps']}) | {budget} | {e['wall_time_s'] / 60:.1f} min | "
            f"{e['device']} | {e['date']} |"
        )
    doc = DOCS / "REPRODUCTION.md"
    text = doc.read_text() if doc.exists() else f"# Reproductions\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{BEGIN}\n" + "\n".join(rows) + f"\n{END}{tail}")


def store(entry: dict) -> None:
    def key(e: dict) -> tuple:
        return e["experiment"], e["budget"], tuple(e["overrides"]), e["device"]

    entries = json.loads(STORE.read_text()) if STORE.exists() else []
    entries = [e for e in entries if key(e) != key(entry)] + [entry]
    STORE.write_text(json.dumps(entries, indent=2) + "\n")
    write_docs(entries)


# -- the smoke suite ---------------------------------------------------------------------------

#: every smoke run: no checkpoints or evaluations along the way (the final one always happens), no figures
SMOKE_COMMON = [
    "trainer.progress=false",
    "trainer.checkpoint_every=100000",
    "trainer.eval_every=100000",
    "trainer.plots=false",
]


@dataclass
class Smoke:
    """A reduced-budget run of an experiment and what it must show."""

    overrides: list[str]
    max_l2: float | None = None  # its final metric (default: l2 of the published field) below this
    # every identified constant within this relative error (one bound, or one per constant)
    max_unknown_error: float | dict[str, float] | None = None
    # ... and its error below each baseline's (other cases) / by
    baseline: str | tuple[str, ...] | None = None
    by: float = 1.0
    experiment: str = ""  # default: the case's name
    metric: str = ""  # default: l2/<published field>
    # another case whose run this one is: its config, composed with these overrides, must equal that
    # case's (composed and compared, not trained a second time)
    same_as: str = ""


# 300 Adam + 1700 L-BFGS steps reach 0.062 (h_abs) on the 2-core CPU; Adam alone, 1000 steps: 0.371
NLS_SMOKE = ["equation.points.residual=1000", "optimizer.phases.0.steps=300", "optimizer.phases.1.steps=1700"]
WAVE_SMOKE = ["model.width=100", "optimizer.phases.0.steps=2000", "weighting.update_every=200"]
HELMHOLTZ_SMOKE = ["optimizer.phases.0.steps=1500"]
FIT_SMOKE = [
    "model.widths=[500,100,100]",
    "equation.points.fit=2000",
    "equation.test_points=500",
    "optimizer.phases.0.steps=500",
    "optimizer.phases.0.lr=1e-3",
]
SIP_SMOKE = ["equation.params.xi=16", "optimizer.phases.0.steps=1000"]
HEAT_SMOKE = ["equation.params.T=0.1", "equation.points.data=500", "optimizer.phases.0.steps=1000"]
# the expert's guide's recipe (jaxpi_* presets): the CPU presets' first steps, and the GPU presets at
# the CPU presets' sizes. Allen-Cahn's plain PINN collapses to u = 0 (l2 0.99). The advection CPU
# preset (causal tol from 0.01) has learned the start of the solution after 3000 steps (l2 1.09 at
# 1000); the GPU preset's tol 1 holds every chunk after the first at weight 0 for thousands of
# steps, so its case checks loss/initial_u, which starts near 0.5
GUIDE_CPU_SIZE = ["model.width=128", "model.fourier_features=128", "equation.points.residual=2048"]


def _pinnacle_tasks() -> dict:
    """benchmarks/pinnacle.py's tasks (their recipes), loaded by path: this file runs as a script."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pinnacle_tasks", Path(__file__).with_name("pinnacle.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod.TASKS


PINNACLE = _pinnacle_tasks()


def pinnacle_smoke(task: str, points: list[str], recipe: bool = True, lbfgs: int = 0) -> list[str]:
    """A PINNacle preset on fewer points for 300 eager steps (too short for the compile to pay),
    with the task's recipe (benchmarks/pinnacle.py) unless ``recipe`` is False; the last
    ``lbfgs`` of them L-BFGS iterations."""
    phases = f"{{kind:adam,steps:{300 - lbfgs},lr:1.0e-3}}" + (f",{{kind:lbfgs,steps:{lbfgs}}}" if lbfgs else "")
    return [
        *(PINNACLE[task].recipe if recipe else ()),
        *(f"equation.points.{p}" for p in points),
        f"optimizer.phases=[{phases}]",
        "trainer.compile=false",
    ]


SMOKE: dict[str, Smoke] = {
    # 0.668 measured (2-core CPU, one thread)
    "jaxpi_allen_cahn_cpu": Smoke(["optimizer.phases.0.steps=2000"], max_l2=0.85),
    # 0.474 measured after 500 steps (0.389 after 1000, in twice the time): the modified MLP with NTK
    # weights and Fourier scale 2 learns faster
    "jaxpi_allen_cahn": Smoke([*GUIDE_CPU_SIZE, "optimizer.phases.0.steps=500"], max_l2=0.75),
    # the initial condition learned: loss/initial_u 2.8e-4 and 1.0e-3 after 2000 steps (about 0.5
    # untrained). Its l2 is not monotone at this stage (0.66-0.71 after 2000, 0.78-0.94 after 3000
    # with jaxpi's factorisation, zero encoder biases and NTK on every point; 0.886 / 0.521 before)
    "jaxpi_advection_cpu": Smoke(["optimizer.phases.0.steps=2000"], max_l2=1e-2, metric="loss/initial_u"),
    # 9.9e-4 measured
    "jaxpi_advection": Smoke([*GUIDE_CPU_SIZE, "optimizer.phases.0.steps=500"], max_l2=1e-2, metric="loss/initial_u"),
    # jaxpi's wave recipe (5000-step warmup, causal tol 1e-2) learns the initial and wall values first:
    # loss/initial_u 1.27 at step 100, 4.2e-3 at 500, 3.9e-4 at 1000; the interior waits (causal min
    # weight 0, l2/u 1.81 after 1000 steps). 500 steps here (157 s for 1000 on the 2-core CPU, a
    # tenth of CI's smoke time); jaxpi_wave at these sizes is the same network and points
    "jaxpi_wave_cpu": Smoke(["optimizer.phases.0.steps=500"], max_l2=1e-2, metric="loss/initial_u"),
    # at the CPU sizes jaxpi_wave composes to jaxpi_wave_cpu's run, key for key (checkpoint_every aside,
    # which every smoke run sets): that run, 90-125 s, is not trained twice
    "jaxpi_wave": Smoke([*GUIDE_CPU_SIZE, "optimizer.phases.0.steps=500"], same_as="jaxpi_wave_cpu"),
    "raissi_nls": Smoke(NLS_SMOKE, max_l2=0.15),  # a bound the Adam phase alone does not meet
    "raissi_burgers": Smoke(["equation.points.residual=2000", "optimizer.phases.0.steps=1000"], max_l2=0.3),
    # the authors' parametrisation (nu = exp(lambda2) from exp(-6), 22 % off; lambda1 from 0, 100 % off)
    # and the residual at the data points: 0.59 % and 3.74 % off after 1500 L-BFGS steps (2-core CPU,
    # 2026-12-03). After 1000 steps nu was still 2 % to 10.2 % off, by machine (float32 L-BFGS
    # follows the last bits of the kernels; float64: 9.1 %): 10.21 % on this session's machine
    "raissi_burgers_inverse": Smoke(["optimizer.phases.0.steps=1500"], max_unknown_error={"lambda1": 0.1, "nu": 0.1}),
    "raissi_kdv_inverse": Smoke(
        ["equation.points.residual=2000", "optimizer.phases.0.steps=500", "optimizer.phases.1.steps=1000"],
        max_unknown_error=0.2,
    ),
    "wang_wave": Smoke(WAVE_SMOKE),
    "wang_wave_ntk": Smoke(WAVE_SMOKE, baseline="wang_wave", by=1.2),
    "wang_helmholtz": Smoke(HELMHOLTZ_SMOKE),
    "wang_helmholtz_gradnorm": Smoke(HELMHOLTZ_SMOKE, baseline="wang_helmholtz", by=2.0),
    "wang_klein_gordon": Smoke(HELMHOLTZ_SMOKE),
    "wang_klein_gordon_gradnorm": Smoke(HELMHOLTZ_SMOKE, baseline="wang_klein_gordon", by=2.0),
    "wang_helmholtz_m4": Smoke(HELMHOLTZ_SMOKE, baseline="wang_helmholtz", by=2.0),
    "wang_klein_gordon_m4": Smoke(HELMHOLTZ_SMOKE, baseline="wang_klein_gordon", by=2.0),
    # two baselines: the plain tanh MLP, and MscaleDNN with the one scale 1 (the same sin network
    # without the scales: the gain is the scales', not the activation's)
    "mscale_fit_1d (mlp)": Smoke([*FIT_SMOKE, "model=mlp"], experiment="mscale_fit_1d", metric="test_loss"),
    "mscale_fit_1d (one scale)": Smoke(
        [*FIT_SMOKE, "model.scales=[1]"], experiment="mscale_fit_1d", metric="test_loss"
    ),
    "mscale_fit_1d": Smoke(
        FIT_SMOKE, baseline=("mscale_fit_1d (mlp)", "mscale_fit_1d (one scale)"), by=10.0, metric="test_loss"
    ),
    "holl_sip_synthetic (adam)": Smoke([*SIP_SMOKE, "optimizer=adam"], experiment="holl_sip_synthetic"),
    "holl_sip_synthetic": Smoke(SIP_SMOKE, max_l2=0.1, baseline="holl_sip_synthetic (adam)", by=3.0),
    "holl_sip_heat (adam)": Smoke([*HEAT_SMOKE, "optimizer=adam"], experiment="holl_sip_heat"),
    "holl_sip_heat": Smoke(HEAT_SMOKE, baseline="holl_sip_heat (adam)", by=1.2),
    # PINNacle's tasks (benchmarks/pinnacle.py), 300 steps on about 1500 points, the recipe unless
    # said; measured (2-core CPU, one thread) after 300 steps, and the untrained network's error
    # (recipe 0.179, vanilla 0.490; untrained 0.87)
    "pinnacle_burgers1d_c": Smoke(
        pinnacle_smoke("burgers1d_c", ["residual=1000", "initial=250", "boundary=250"], lbfgs=150), max_l2=0.3
    ),
    # recipe 0.0347, vanilla 0.634 (the vanilla PINN's plateau at u = 0.5, PINNacle: 0.694); untrained 0.86
    "pinnacle_poisson2d_c": Smoke(
        pinnacle_smoke("poisson2d_c", ["residual=1000", "outer=150", "holes=100"]), max_l2=0.1
    ),
    # recipe 0.207 (gradient-norm weights without the Fourier features: 0.334), vanilla 0.822; untrained 0.97
    "pinnacle_poisson2d_cg": Smoke(
        pinnacle_smoke("poisson2d_cg", ["residual=1000", "outer=150", "holes=100"]), max_l2=0.35
    ),
    # l2/all (u, v, p pooled): recipe 0.653, vanilla 1.05; untrained 1.3 and more
    "pinnacle_ns2d_c": Smoke(pinnacle_smoke("ns2d_c", ["residual=1000", "lid=64", "walls=192"]), max_l2=0.85),
    # l2/all: vanilla 0.573 (the recipe 0.779 at 300 steps: its weights start moving at step 100)
    "pinnacle_ns2d_cg": Smoke(
        pinnacle_smoke("ns2d_cg", ["residual=1000", "inlet=32", "outlet=32", "walls=192"], recipe=False), max_l2=0.75
    ),
    # recipe (NTK weights) 0.651 at PINNacle's 50 x 50 test points (0.649 on the 201 x 201 grid), vanilla 1.09
    "pinnacle_wave1d_c": Smoke(
        pinnacle_smoke("wave1d_c", ["residual=1000", "initial=64", "boundary=128"]), max_l2=0.85
    ),
    # the initial line's mean square: 0.25 for the u = 0 the vanilla run (and the untrained network)
    # stays at; with the recipe's Fourier features 0.222, 0.179, 0.108 after 100, 200, 300 steps;
    # l2 stays near 1 this early
    "pinnacle_heat2d_ms": Smoke(
        pinnacle_smoke("heat2d_ms", ["residual=1000", "initial=250", "boundary=250"]),
        max_l2=0.2,
        metric="loss/initial_u",
    ),
    # the same: 0.0013 after 300 steps with the recipe, 0.248 vanilla
    "pinnacle_heat2d_lt": Smoke(
        pinnacle_smoke("heat2d_lt", ["residual=1000", "initial=250", "boundary=250"]),
        max_l2=0.05,
        metric="loss/initial_u",
    ),
    # vanilla 0.040 at PINNacle's 8^5 test points (0.053 on the 9^5 grid, 0.115 there after 100 steps)
    "pinnacle_pnd": Smoke(pinnacle_smoke("pnd", ["residual=1000", "boundary=250"], recipe=False), max_l2=0.1),
    # l2/all (u and a pooled): recipe 0.573 (150 Adam + 150 L-BFGS steps), the recipe's weights with
    # Adam alone 0.824, vanilla 1.25; untrained 1.54 (PINNacle's vanilla: 1.57)
    "pinnacle_hinv": Smoke(pinnacle_smoke("hinv", ["residual=1000", "boundary=250"], lbfgs=150), max_l2=0.85),
}


def smoke_run(name: str, out: Path) -> dict:
    spec = SMOKE[name]
    run_dir = out / name.replace(" ", "_").replace("(", "").replace(")", "")
    cmd = [
        sys.executable,
        "-m",
        "pinnrun",
        f"experiment={spec.experiment or name}",
        *spec.overrides,
        *SMOKE_COMMON,
        f"hydra.run.dir={run_dir}",
    ]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True)
    if proc.returncode != 0:
        return {"name": name, "error": (proc.stderr.strip().splitlines() or ["?"])[-1], "time": time.time() - t0}
    summary = json.loads((run_dir / "summary.json").read_text())
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    metric = spec.metric or f"l2/{cfg['published']['field'] or summary['primary_field']}"
    return {
        "name": name,
        "metric": metric,
        "value": summary["final"].get(metric, math.nan),
        "unknowns": {k: u["rel_error"] for k, u in summary.get("unknowns", {}).items()},
        "steps": summary["steps"],
        "time": time.time() - t0,
    }


def baselines(spec: Smoke) -> tuple[str, ...]:
    """The cases ``spec``'s check reads: its baselines, or the case whose run it is."""
    if spec.same_as:
        return (spec.same_as,)
    return (spec.baseline,) if isinstance(spec.baseline, str) else tuple(spec.baseline or ())


def smoke_config(name: str) -> dict:
    """The config a smoke case's run would have (composed in this process, as the run would be)."""
    from omegaconf import OmegaConf

    from pinnrun.api import compose

    spec = SMOKE[name]
    cfg, _ = compose([f"experiment={spec.experiment or name}", *spec.overrides, *SMOKE_COMMON])
    return OmegaConf.to_container(OmegaConf.structured(cfg), enum_to_str=True)


def same_run(name: str) -> dict:
    """A ``same_as`` case: the first key where its composed config and its twin's differ, if any."""
    t0 = time.time()
    mine, twin = _flat(smoke_config(name)), _flat(smoke_config(SMOKE[name].same_as))
    keys = sorted(k for k in {*mine, *twin} if mine.get(k) != twin.get(k))
    return {"name": name, "differs": keys[:1], "time": time.time() - t0}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": repr(v)})
    return out


def smoke_checks(name: str, results: dict[str, dict]) -> list[tuple[str, bool]]:
    """(what was checked, passed) for one case."""
    spec, r = SMOKE[name], results[name]
    if "error" in r:
        return [(f"run failed: {r['error']}", False)]
    if spec.same_as:
        differs = f" (differs in {r['differs'][0]})" if r["differs"] else ""
        return [(f"the run of {spec.same_as}: its config composes to that one{differs}", not r["differs"])]
    v, checks = r["value"], []
    if spec.max_l2 is not None:
        checks.append((f"{r['metric']} {v:.3g} < {spec.max_l2:g}", v < spec.max_l2))
    if spec.max_unknown_error is not None:
        for k, e in r["unknowns"].items():
            bound = spec.max_unknown_error
            bound = bound[k] if isinstance(bound, dict) else bound
            checks.append((f"{k} off by {e:.2%} < {bound:.0%}", e < bound))
    for base in baselines(spec):
        b = results[base].get("value", math.nan)
        checks.append((f"{r['metric']} {v:.3g} < {b:.3g} ({base}) / {spec.by:g}", v * spec.by < b))
    return checks or [(f"{r['metric']} {v:.3g} (baseline of another case)", math.isfinite(v))]


def smoke(names: list[str], jobs: int) -> int:
    for n in names:
        if n not in SMOKE:
            raise SystemExit(f"reproduce: no smoke case '{n}' (choose from: {', '.join(SMOKE)})")
    names = names or list(SMOKE)
    names += list(dict.fromkeys(b for n in names for b in baselines(SMOKE[n]) if b not in names))
    out = ROOT / "outputs" / "reproduce-smoke" / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    t0 = time.time()
    twins = [n for n in names if SMOKE[n].same_as]
    results = {n: same_run(n) for n in twins}  # Hydra composes in one thread
    with ThreadPoolExecutor(jobs) as pool:
        results |= {r["name"]: r for r in pool.map(lambda n: smoke_run(n, out), [n for n in names if n not in twins])}
    lines = ["| case | steps | time | check | result |", "| --- | --- | --- | --- | --- |"]
    failed = 0
    for n in names:
        for what, ok in smoke_checks(n, results):
            failed += not ok
            lines.append(
                f"| {n} | {results[n].get('steps', '-')} | {results[n]['time']:.0f} s | {what} | "
                f"{'pass' if ok else 'FAIL'} |"
            )
    table = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "smoke.md").write_text(table + "\n")
    print(table)
    runs = len(names) - len(twins)
    print(f"smoke suite: {runs} runs, {failed} failed check(s), {time.time() - t0:.0f} s; {out / 'smoke.md'}")
    return 1 if failed else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="experiments (default: all)")
    ap.add_argument("--from-run", type=Path, help="record an existing run directory instead of running")
    ap.add_argument("--experiment", help="with --from-run: the experiment name, if not in its overrides")
    ap.add_argument("--list", action="store_true", help="list the experiments and their published numbers")
    ap.add_argument("--smoke", action="store_true", help="the smoke suite (named cases, default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="with --smoke: runs at a time (one thread each)")
    ap.add_argument(
        "--equations",
        action="store_true",
        help="run the named equations (default: all) with the default recipe instead",
    )
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = ap.parse_args(argv[:cut]), argv[cut + 1 :]  # after --: pinnrun overrides
    if args.from_run:
        store(record(args.from_run, args.experiment))
        return
    if args.smoke:
        sys.exit(smoke(args.names, args.jobs))
    if args.list:
        from hydra import compose, initialize_config_module

        from pinnrun.config import register

        register()
        with initialize_config_module("pinnrun.conf", version_base="1.3"):
            for name in experiments():
                cfg = compose("config", overrides=[f"experiment={name}"])
                pub = cfg.published
                steps = sum(p.steps for p in cfg.optimizer.phases)
                if pub.l2 is not None:
                    what = f"published l2/{pub.field} = {pub.l2:.3g}"
                else:
                    what = pub.claim or "identifies " + ", ".join(cfg.equation.unknowns)
                print(f"{name:24s} {what:32s} {steps:>6} steps   {pub.source}")
        return
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if args.equations:  # rows "equation=<name>": the default model and optimizer on each equation
        targets = [(f"equation={n}", f"equation_{n}") for n in (args.names or equations())]
    else:
        targets = [(f"experiment={n}", n) for n in (args.names or experiments())]
    for choice, label in targets:
        run_dir = ROOT / "outputs" / "reproduce" / f"{label}_{stamp}"
        cmd = [sys.executable, "-m", "pinnrun", choice, f"hydra.run.dir={run_dir}", *extra]
        print("+", " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            print(f"{choice}: failed", file=sys.stderr)
            continue
        entry = record(run_dir, choice.split("=", 1)[1] if choice.startswith("experiment=") else choice)
        store(entry)
        print(
            f"{choice}: measured {entry['measured_l2']:.3g} vs published {entry['published_l2']}"
            + "".join(f"; {k} = {u['found']:.6g} (true {u['true']:.6g})" for k, u in entry["unknowns"].items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
