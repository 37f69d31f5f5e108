"""Run the paper experiments (conf/experiment/*.yaml) and record measured against published.

    python benchmarks/reproduce.py                       # every experiment, full budget (GPU work)
    python benchmarks/reproduce.py raissi_nls            # one experiment
    python benchmarks/reproduce.py raissi_nls -- optimizer.phases.1.steps=6000   # reduced budget
    python benchmarks/reproduce.py --from-run outputs/...  # record a run made elsewhere
    python benchmarks/reproduce.py --equations           # every equation with the default recipe
    python benchmarks/reproduce.py --list                # the experiments and their published numbers

Each result is kept in docs/reproduction.json (one entry per experiment and
budget) and docs/REPRODUCTION.md's table is rewritten from it, so a partial
run never erases earlier rows.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
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
    pub = (summary.get("published") or cfg.get("published")
           or (yaml.safe_load(preset.read_text()).get("published") if preset.is_file() else None) or {})
    field = pub.get("field") or summary["primary_field"]
    planned = sum(p["steps"] for p in cfg["optimizer"]["phases"])
    return {
        "experiment": experiment,
        "source": pub.get("source", ""),
        "field": field,
        "published_l2": pub.get("l2"),
        "measured_l2": summary["final"].get(f"l2/{field}"),
        "unknowns": {k: {"found": u["found"], "true": u["true"], "rel_error": u["rel_error"]}
                     for k, u in summary.get("unknowns", {}).items()},
        "steps": summary["steps"],
        "planned_steps": planned,
        # full = the experiment's own budget; reduced = steps cut by an override
        "budget": "reduced" if any(o.startswith(("trainer.max_steps", "optimizer.")) for o in overrides)
                  else "full",
        "overrides": [o for o in overrides
                      if not o.startswith(("experiment=", "trainer.progress=")) and o != experiment],
        "status": summary["status"],
        "wall_time_s": summary["wall_time_s"],
        "device": summary["device"],
        "date": dt.date.today().isoformat(),
        "run_dir": str(run_dir.resolve().relative_to(ROOT) if run_dir.resolve().is_relative_to(ROOT)
                       else run_dir),
    }


def write_docs(entries: list[dict]) -> None:
    rows = ["| experiment | source | field | published L2 | measured L2 | identified (error) | steps (planned) "
            "| budget | wall time | device | date |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in sorted(entries, key=lambda e: (e["experiment"], e["budget"], e["date"])):
        pub = f"{e['published_l2']:.3g}" if e["published_l2"] is not None else "-"
        got = f"{e['measured_l2']:.3g}" if e["measured_l2"] is not None else "-"
        budget = e["budget"] + (f" ({' '.join(e['overrides'])})" if e["overrides"] else "")
        found = ", ".join(f"{k} {u['found']:.5g} ({u['rel_error']:.2%})" for k, u in e.get("unknowns", {}).items())
        rows.append(f"| {e['experiment']} | {e['source']} | {e['field']} | {pub} | {got} | {found or '-'} | "
                    f"{e['steps']} ({e['planned_steps']}) | {budget} | {e['wall_time_s'] / 60:.1f} min | "
                    f"{e['device']} | {e['date']} |")
    doc = DOCS / "REPRODUCTION.md"
    text = doc.read_text() if doc.exists() else f"# Reproductions\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{BEGIN}\n" + "\n".join(rows) + f"\n{END}{tail}")


def store(entry: dict) -> None:
    entries = json.loads(STORE.read_text()) if STORE.exists() else []
    key = lambda e: (e["experiment"], e["budget"], tuple(e["overrides"]), e["device"])
    entries = [e for e in entries if key(e) != key(entry)] + [entry]
    STORE.write_text(json.dumps(entries, indent=2) + "\n")
    write_docs(entries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="experiments (default: all)")
    ap.add_argument("--from-run", type=Path, help="record an existing run directory instead of running")
    ap.add_argument("--experiment", help="with --from-run: the experiment name, if not in its overrides")
    ap.add_argument("--list", action="store_true", help="list the experiments and their published numbers")
    ap.add_argument("--equations", action="store_true",
                    help="run the named equations (default: all) with the default recipe instead")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = ap.parse_args(argv[:cut]), argv[cut + 1:]   # after --: pinnrun overrides
    if args.from_run:
        store(record(args.from_run, args.experiment))
        return
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
        print(f"{choice}: measured {entry['measured_l2']:.3g} vs published {entry['published_l2']}"
              + "".join(f"; {k} = {u['found']:.6g} (true {u['true']:.6g})" for k, u in entry["unknowns"].items()),
              flush=True)


if __name__ == "__main__":
    main()
