"""The documentation's gallery: one small real run per equation and per experiment preset.

    python benchmarks/gallery.py                    # every entry, one after another (about 35 min, 2-core CPU)
    python benchmarks/gallery.py nls raissi_nls     # some entries (merged into docs/gallery.json)
    python benchmarks/gallery.py --list             # the entries, their commands and budgets
    python benchmarks/gallery.py --render           # rewrite docs/gallery.md from docs/gallery.json only

Every entry is `pinnrun equation=<name>` (conf/equation/) or `pinnrun experiment=<name>`
(conf/experiment/) at a budget a CPU finishes in well under a minute: the equations with the
default recipe cut to 250 Adam + 150 L-BFGS steps, the presets with the cuts of the smoke suite
(`SMOKE` in benchmarks/reproduce.py: fewer points, fewer steps) and, where those are still long,
fewer steps again (`CUTS` below). Every run trains with the eager step (compiling costs more
than these budgets) on one thread, one run at a time, in outputs/gallery/<name>/.

Each finished run adds its entry to docs/gallery.json (name, kind, command, budget, steps,
metric, value, wall time, commit, figure) and copies its plots/fields.png (prediction,
reference, error), downscaled, to docs/img/gallery/<name>.png; docs/gallery.md is rewritten
from all the entries. A run that fails is listed as failed with its one-line error. These
numbers show what a few hundred steps give, not what a method reaches: the measured results
at real budgets are in docs/REPRODUCTION.md and docs/PINNACLE.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STORE = DOCS / "gallery.json"
PAGE = DOCS / "gallery.md"
FIGURES = DOCS / "img" / "gallery"
OUT = ROOT / "outputs" / "gallery"
#: a run still going after this long is stopped and listed as failed
TIMEOUT_S = 600
#: the figures' width in pixels (the gallery stays at a few MB)
WIDTH = 760

#: every gallery run: the eager step, one thread
COMMON = ["trainer.compile=false", "trainer.threads=1"]
#: the equations' budget: the default recipe (500 Adam + 2500 L-BFGS) cut short
EQUATION_BUDGET = ["optimizer.phases.0.steps=250", "optimizer.phases.1.steps=150"]


def _load(name: str, path: Path):
    """A script's module loaded by path (the benchmarks and the docs hook are no package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


#: benchmarks/reproduce.py (its smoke cases)
REPRODUCE = _load("reproduce_cases", Path(__file__).with_name("reproduce.py"))
#: the docs site's hook: the first sentence of a conf file's leading comment (``header``)
DOCS_HOOK = _load("pinnrun_docs_hook", ROOT / "docs" / "hooks" / "pinnrun_docs.py")

#: equations the default recipe does not fit: the learned inverse problems train with SIP
EQUATION_OVERRIDES: dict[str, list[str]] = {
    "sip_heat": ["optimizer=sip", "optimizer.phases.0.steps=1000"],
    "sip_synthetic": ["optimizer=sip", "optimizer.phases.0.steps=1000"],
}

#: presets whose smoke budget is long for the eager step: fewer steps (appended after the smoke
#: overrides, so they win)
CUTS: dict[str, list[str]] = {
    "jaxpi_allen_cahn_cpu": ["optimizer.phases.0.steps=300"],
    "jaxpi_allen_cahn": ["optimizer.phases.0.steps=200"],
    "jaxpi_advection_cpu": ["optimizer.phases.0.steps=300"],
    "jaxpi_advection": ["optimizer.phases.0.steps=200"],
    "jaxpi_wave_cpu": ["optimizer.phases.0.steps=300"],
    "jaxpi_wave": ["optimizer.phases.0.steps=200"],
    "raissi_nls": ["optimizer.phases.0.steps=200", "optimizer.phases.1.steps=300"],
    "raissi_burgers": ["optimizer.phases.0.steps=400"],
    "raissi_burgers_inverse": ["optimizer.phases.0.steps=400"],
    "raissi_kdv_inverse": ["optimizer.phases.0.steps=200", "optimizer.phases.1.steps=200"],
    "wang_wave": ["optimizer.phases.0.steps=800"],
    "wang_wave_ntk": ["optimizer.phases.0.steps=800"],
    **{
        name: ["optimizer.phases.0.steps=1000"]
        for name in (
            "wang_helmholtz",
            "wang_helmholtz_gradnorm",
            "wang_helmholtz_m4",
            "wang_klein_gordon",
            "wang_klein_gordon_gradnorm",
            "wang_klein_gordon_m4",
        )
    },
}


@dataclass
class Entry:
    """One gallery run: ``kind`` equation or preset, the overrides after the choice of it."""

    name: str
    kind: str
    overrides: list[str] = field(default_factory=list)
    metric: str = ""  # default: l2/<published field>, else l2/<primary field>

    @property
    def choice(self) -> str:
        return f"{'equation' if self.kind == 'equation' else 'experiment'}={self.name}"

    @property
    def command(self) -> str:
        """The command a user types for the same run (the run directory left to pinnrun)."""
        return " ".join(["pinnrun", self.choice, *map(shlex.quote, self.overrides)])


def merged(*lists: list[str]) -> list[str]:
    """The overrides of all the lists, a later value of a key replacing an earlier one in place
    (the command then names each key once)."""
    out: dict[str, str] = {}
    for o in (o for overrides in lists for o in overrides):
        out[o.split("=", 1)[0].lstrip("+~")] = o
    return list(out.values())


def entries() -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for p in sorted((ROOT / "conf" / "equation").glob("*.yaml")):
        found[p.stem] = Entry(p.stem, "equation", merged(EQUATION_OVERRIDES.get(p.stem, EQUATION_BUDGET), COMMON))
    for p in sorted((ROOT / "conf" / "experiment").glob("*.yaml")):
        smoke = REPRODUCE.SMOKE.get(p.stem)
        base = [o for o in smoke.overrides if not o.startswith("trainer.compile=")] if smoke else []
        metric = smoke.metric if smoke and smoke.metric == "test_loss" else ""
        found[p.stem] = Entry(p.stem, "preset", merged(base, CUTS.get(p.stem, []), COMMON), metric)
    return found


def commit() -> str:
    p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def description(entry: Entry) -> str:
    """One line about the entry: the preset's source, or the equation config's first comment line."""
    group = "equation" if entry.kind == "equation" else "experiment"
    text = (ROOT / "conf" / group / f"{entry.name}.yaml").read_text()
    if entry.kind == "preset":
        pub = (yaml.safe_load(text) or {}).get("published") or {}
        claim = f" ({pub['claim']})" if pub.get("claim") else ""
        return f"{pub.get('source', '')}{claim}"
    return DOCS_HOOK.header(ROOT / "conf" / group / f"{entry.name}.yaml")


def _plain(text: str) -> str:
    """Text with formulas (u_t, |h|^2, a*b) as Markdown shows it literally."""
    for c in "\\`*_[]<>":
        text = text.replace(c, "\\" + c)
    return text


def budget(cfg: dict) -> str:
    """'250 Adam + 150 L-BFGS steps' from a run's resolved config."""
    names = {"adam": "Adam", "lbfgs": "L-BFGS", "gd": "GD", "sip": "SIP"}
    phases = " + ".join(f"{p['steps']} {names.get(p['kind'], p['kind'])}" for p in cfg["optimizer"]["phases"])
    cap = cfg["trainer"].get("max_steps")
    return f"{phases} steps" + (f" (at most {cap})" if cap else "")


def full_budget(entry: Entry) -> int:
    """The steps of the equation's default recipe (or the optimizer the entry picks) or of the
    preset as shipped."""
    from hydra import compose, initialize_config_module

    from pinnrun.config import register

    register()
    with initialize_config_module("pinnrun.conf", version_base="1.3"):
        groups = [o for o in entry.overrides if "." not in o.split("=", 1)[0]]  # optimizer=sip, not its steps
        cfg = compose("config", overrides=[entry.choice, *groups])
    return sum(p.steps for p in cfg.optimizer.phases)


def shrink(src: Path, dst: Path) -> None:
    """The run's figure at WIDTH pixels, in a 256-colour palette."""
    from PIL import Image

    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > WIDTH:
            im = im.resize((WIDTH, round(im.height * WIDTH / im.width)), Image.LANCZOS)
        im.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(dst, optimize=True)


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(entry: Entry) -> dict:
    run_dir = OUT / entry.name
    if run_dir.exists():  # a gallery run starts afresh (pinnrun never overwrites a run directory)
        shutil.rmtree(run_dir)
    cmd = [
        sys.executable,
        "-m",
        "pinnrun",
        entry.choice,
        *entry.overrides,
        "trainer.progress=false",
        f"hydra.run.dir={run_dir}",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    shared = ROOT.parent / "shared" / "pinnacle"  # PINNacle's reference files, as .ci/run finds them
    if "PINNRUN_PINNACLE_URL" not in env and shared.is_dir():
        env["PINNRUN_PINNACLE_URL"] = shared.resolve().as_uri()
    record = {
        "name": entry.name,
        "kind": entry.kind,
        "command": entry.command,
        "full_steps": full_budget(entry),
        "commit": commit(),
        "date": dt.date.today().isoformat(),
    }
    t0, cpu0 = time.time(), _children_cpu()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {**record, "status": "failed", "error": f"timed out after {TIMEOUT_S} s", "process_s": TIMEOUT_S}
    elapsed = round(time.time() - t0, 1)
    record["cpu_s"] = round(_children_cpu() - cpu0, 1)
    summary_file = run_dir / "summary.json"
    if proc.returncode not in (0, 3) or not summary_file.is_file():  # 3: diverged, its summary says so
        lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()] or ["?"]
        return {**record, "status": "failed", "error": lines[-1].strip(), "process_s": elapsed}
    summary = json.loads(summary_file.read_text())
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    published = (cfg.get("published") or {}).get("field")
    metric = entry.metric or f"l2/{published or summary['primary_field']}"
    value = summary["final"].get(metric)
    figure = None
    fields = run_dir / "plots" / "fields.png"
    if fields.is_file():
        figure = f"img/gallery/{entry.name}.png"
        shrink(fields, DOCS / figure)
    return {
        **record,
        "status": summary["status"],
        "budget": budget(cfg),
        "steps": summary["steps"],
        "metric": metric,
        "value": value if value is None or math.isfinite(value) else None,
        "unknowns": {k: u["rel_error"] for k, u in summary.get("unknowns", {}).items()},
        "wall_time_s": summary["wall_time_s"],
        "process_s": elapsed,
        "figure": figure,
    }


# -- the page ----------------------------------------------------------------------------------


def _number(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _value(e: dict) -> str:
    if e["status"] == "failed":
        return "failed"
    text = f"{e['metric']} {_number(e.get('value'))}"
    if e.get("unknowns"):
        text += "; " + ", ".join(f"{k} off by {v:.1%}" for k, v in e["unknowns"].items())
    return text + (" (diverged)" if e["status"] == "diverged" else "")


def _time(e: dict) -> str:
    """Training time, and the process's time end to end (start, reference, figures included)."""
    if e["status"] == "failed":
        return f"{e.get('process_s', 0):.0f} s"
    return f"{e['wall_time_s']:.0f} s ({e['process_s']:.0f} s end to end)"


def render(items: list[dict]) -> str:
    known = entries()
    order = {n: i for i, n in enumerate(known)}
    items = sorted(items, key=lambda e: order.get(e["name"], len(order)))
    total = sum(e.get("process_s", 0) for e in items)
    cpu = sum(e.get("cpu_s", 0) for e in items)
    failed = [e for e in items if e["status"] == "failed"]
    commits = sorted({e["commit"] for e in items})
    dates = sorted({e["date"] for e in items})
    lines = [
        "# Gallery",
        "",
        "<!-- written by benchmarks/gallery.py from docs/gallery.json: edit the script, not this page -->",
        "",
        "Every equation (`conf/equation/`) and every experiment preset (`conf/experiment/`), each",
        "trained for real at a small CPU budget: its command, its figure (prediction, reference,",
        "error: the run's `plots/fields.png`), its final number and its budget.",
        "",
        '!!! note "Small budgets"',
        "    These runs take a few hundred steps each (the presets ship budgets of thousands to",
        "    hundreds of thousands), so most are far from converged: the pictures show what a",
        "    short run gives, not what a method reaches. The numbers at real budgets are on",
        "    [Reproductions](REPRODUCTION.md) and [PINNacle](PINNACLE.md).",
        "",
        f"- **Made by** `python benchmarks/gallery.py`: {len(items)} runs, one after another, one thread",
        f"  each, the eager step, on a 2-core CPU shared with other work: {total / 60:.0f} minutes end to end,",
        f"  {cpu / 60:.0f} minutes of CPU time. Wall time: the run's training (`summary.json`), then the",
        "  whole process (start, reference, figures).",
        f"- **Commit** {', '.join(f'`{c}`' for c in commits)}; {', '.join(dates)}.",
        f"- **Failed runs** {len(failed)}" + (": " + ", ".join(f"`{e['name']}`" for e in failed) if failed else "."),
        "",
        "| entry | kind | budget (shipped) | result | wall time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in items:
        shipped = f" ({e['full_steps']})" if e.get("full_steps") else ""
        lines.append(
            f"| [`{e['name']}`](#{e['name']}) | {e['kind']} | {e.get('budget', '-')}{shipped} | "
            f"{_value(e)} | {_time(e)} |"
        )
    for kind, title in (("equation", "Equations"), ("preset", "Experiment presets")):
        lines += ["", f"## {title}", ""]
        for e in (e for e in items if e["kind"] == kind):
            lines += [f"### {e['name']}", ""]
            about = description(known[e["name"]]) if e["name"] in known else ""
            if about:
                lines += [_plain(about), ""]
            lines += [f"    {e['command']}", ""]
            if e["status"] == "failed":
                lines += [f"**Failed** ({_time(e)}): `{e['error']}`", ""]
                continue
            lines += [
                "| budget | steps | result | wall time | commit |",
                "| --- | --- | --- | --- | --- |",
                f"| {e['budget']} (shipped: {e['full_steps']}) | {e['steps']} | {_value(e)} | {_time(e)} | "
                f"`{e['commit']}` |",
                "",
            ]
            if e.get("figure"):
                lines += [f"![{e['name']}: prediction, reference, error]({e['figure']})", ""]
            else:
                lines += ["No field figure: this run has no reference to draw.", ""]
    return "\n".join(lines).rstrip() + "\n"


def store(results: list[dict]) -> list[dict]:
    kept = json.loads(STORE.read_text()) if STORE.is_file() else []
    known = entries()
    new = {r["name"] for r in results}
    kept = [r for r in kept if r["name"] not in new and r["name"] in known] + results
    for r in kept:
        r.pop("description", None)  # written by the page from conf/, not kept
    kept.sort(key=lambda r: list(known).index(r["name"]))
    STORE.write_text(json.dumps(kept, indent=1) + "\n")
    PAGE.write_text(render(kept))
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="entries (default: all)")
    ap.add_argument("--list", action="store_true", help="the entries and their commands")
    ap.add_argument("--render", action="store_true", help="rewrite docs/gallery.md from docs/gallery.json only")
    args = ap.parse_args(argv)
    known = entries()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        raise SystemExit(f"gallery: no entry {', '.join(unknown)} (see --list)")
    if args.list:
        for e in known.values():
            print(f"{e.kind:8s} {e.command}")
        return 0
    if args.render:
        store([])
        return 0
    names = args.names or list(known)
    t0, results = time.time(), []
    for i, name in enumerate(names, 1):
        r = run(known[name])
        results.append(r)
        print(f"[{i}/{len(names)}] {name}: {_value(r)}, {r.get('process_s', 0):.0f} s", flush=True)
        store(results)  # after every run: an interrupted gallery keeps what it made
    failed = [r for r in results if r["status"] == "failed"]
    print(f"gallery: {len(results)} runs, {len(failed)} failed, {time.time() - t0:.0f} s; {PAGE}")
    for r in failed:
        print(f"  {r['name']}: {r['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
