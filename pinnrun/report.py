"""Reports over finished runs: a table of every job of a sweep, or runs side by side.

    pinnrun-report outputs/multirun/<date>/<time>               # a sweep: every job
    pinnrun-report outputs/multirun/<date>/<time> --out report  # ... written to report/
    pinnrun-report RUN_A RUN_B [...] [--zoom LO HI] [--out DIR] # single runs side by side

A sweep directory (numbered job directories 0, 1, ...) gives one row per job
(the swept overrides, status, steps, the final l2/<field> errors with the
primary field first, test_loss, loss, wall time, error), printed and written
to --out (default: the sweep directory) as

    report.csv, report.md   the table (the CSV with full precision)
    report_<key>.png        for each swept key: final primary L2 against the key's values;
                            mean and min-max over the jobs that share a value (e.g. seeds),
                            one line per combination of the other swept keys except seed
    report_l2.png           the primary L2 against step of every job

Run directories (each holds summary.json) give a table with one column per
run and comparison.png in --out (default: the current directory): loss (and
test loss, dashed) and L2 curves and, for 1-D problems, the learned curves
over the truth; --zoom LO HI adds a panel over that x range.

Failed jobs and jobs without summary.json ("missing") are listed with their
status and left out of the figures. Bad input (a path that does not exist, no
run, an unreadable file) prints one line on stderr and exits with status 2
before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from pinnrun.io import read_metrics  # noqa: E402

NOT_PLOTTED = ("failed", "missing")
T = TypeVar("T")


class ReportError(Exception):
    """Bad input: one line on stderr, exit status 2."""


@dataclass
class Finished:
    """A run directory as a report reads it: its summary, overrides and metrics (the trained
    network stays on disk; :class:`pinnrun.api.Run` loads one)."""

    name: str  # job number, or the path as given
    path: Path
    overrides: dict[str, str]
    summary: dict[str, Any]
    metrics: dict[str, np.ndarray]

    @property
    def status(self) -> str:
        return str(self.summary.get("status"))

    @property
    def final(self) -> dict[str, Any]:
        return self.summary.get("final") or {}

    @property
    def plotted(self) -> bool:
        return self.status not in NOT_PLOTTED and bool(self.metrics)


# -- reading -------------------------------------------------------------------
def _read(path: Path, parse: Callable[[Path], T]) -> T:
    try:
        return parse(path)
    except (OSError, ValueError, TypeError, KeyError, yaml.YAMLError) as e:
        detail = str(e).splitlines()[0] if str(e) else "no detail"
        raise ReportError(f"{path} cannot be read ({type(e).__name__}: {detail})") from None


def _overrides(path: Path) -> dict[str, str]:
    items = yaml.safe_load(path.read_text()) or []
    if not isinstance(items, list):
        raise ValueError("not a list of overrides")
    pairs = (str(o).partition("=") for o in items)
    return {key.lstrip("+~"): value for key, _, value in pairs}


def _summary(path: Path) -> dict[str, Any]:
    s = json.loads(path.read_text())
    if not isinstance(s, dict) or "status" not in s or not isinstance(s.get("final", {}), dict):
        raise ValueError("not a pinnrun summary (a JSON object with a status)")
    return s


def load_run(path: Path, name: str) -> Finished:
    overrides = _read(path / "overrides.yaml", _overrides) if (path / "overrides.yaml").exists() else {}
    summary = (
        _read(path / "summary.json", _summary)
        if (path / "summary.json").exists()
        else {"status": "missing", "error": "no summary.json"}
    )
    metrics = _read(path / "metrics.csv", read_metrics) if (path / "metrics.csv").exists() else {}
    return Finished(name, path, overrides, summary, metrics)


def find_runs(paths: Sequence[Path]) -> tuple[list[Finished], bool]:
    """The runs to report and whether they are the jobs of one sweep."""
    for p in paths:
        if not p.exists():
            raise ReportError(f"{p} does not exist")
        if not p.is_dir():
            raise ReportError(f"{p} is not a directory")
    if len(paths) == 1 and not (paths[0] / "summary.json").exists():
        jobs = sorted((d for d in paths[0].iterdir() if d.is_dir() and d.name.isdigit()), key=lambda d: int(d.name))
        if not jobs:
            raise ReportError(f"no run in {paths[0]} (neither a summary.json nor numbered job directories)")
        return [load_run(d, d.name) for d in jobs], True
    for p in paths:
        if not (p / "summary.json").exists():
            raise ReportError(f"{p} is not a run directory (no summary.json); give a sweep directory on its own")
    return [load_run(p, str(p)) for p in paths], False


# -- what the table holds ------------------------------------------------------
def differing(runs: Sequence[Finished]) -> list[str]:
    """Override keys whose values differ between the runs (those with an overrides.yaml), in order."""
    known = [r for r in runs if (r.path / "overrides.yaml").exists()] or runs
    keys = dict.fromkeys(k for r in known for k in r.overrides)
    return [k for k in keys if len({r.overrides.get(k) for r in known}) > 1]


def l2_keys(runs: Sequence[Finished]) -> list[str]:
    """Every final l2/<field>, the primary field's first."""
    keys = list(dict.fromkeys(k for r in runs for k in r.final if k.startswith("l2/")))
    primary = next((f"l2/{r.summary['primary_field']}" for r in runs if r.summary.get("primary_field")), None)
    return sorted(keys, key=lambda k: k != primary)


def metric_rows(runs: Sequence[Finished]) -> list[tuple[str, list[Any]]]:
    """(name, one value per run) for status, steps and the final metrics."""
    rows: list[tuple[str, list[Any]]] = [
        ("status", [r.status for r in runs]),
        ("steps", [r.summary.get("steps") for r in runs]),
    ]
    keys = l2_keys(runs) + ["test_loss"] * any("test_loss" in r.final for r in runs) + ["loss"]
    rows += [(k, [r.final.get(k) for r in runs]) for k in keys]
    return rows


def error_rows(runs: Sequence[Finished]) -> list[tuple[str, list[Any]]]:
    errors = [r.summary.get("error") for r in runs]
    return [("error", errors)] if any(errors) else []


def show(key: str, v: Any) -> str:
    if v is None:
        return "-"
    if key == "wall_time_s" and isinstance(v, (int, float)):
        return f"{v:.1f}"
    return f"{v:.3e}" if isinstance(v, float) else str(v)


def finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def label(run: Finished, keys: Sequence[str]) -> str:
    return " ".join(f"{k}={run.overrides.get(k, '-')}" for k in keys) or run.name


# -- a sweep -------------------------------------------------------------------
def report_sweep(runs: list[Finished], sweep: Path, out: Path) -> tuple[Table, list[Path]]:
    swept = differing(runs)
    first = next((r for r in runs if r.overrides), runs[0])
    common = [f"{k}={v}" for k, v in first.overrides.items() if k not in swept]
    columns = [("job", [r.name for r in runs])] + [(k, [r.overrides.get(k) for r in runs]) for k in swept]
    columns += metric_rows(runs) + [("wall_time_s", [r.summary.get("wall_time_s") for r in runs])]
    columns += error_rows(runs)  # last: the longest
    header = [k for k, _ in columns]
    cells = [[show(k, vs[i]) for k, vs in columns] for i in range(len(runs))]

    table = Table(title=f"pinnrun-report: {sweep} ({len(runs)} jobs)", caption=" ".join(common) or None)
    for k in header:
        table.add_column(k, justify="left" if k in ("status", "error") else "right", overflow="fold")
    for row in cells:
        table.add_row(*row)

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "report.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(len(runs)):
            w.writerow(
                ["" if vs[i] is None else repr(vs[i]) if isinstance(vs[i], float) else vs[i] for _, vs in columns]
            )
    md = [f"# pinnrun-report: {sweep}", ""] + ([f"Common overrides: `{' '.join(common)}`", ""] if common else [])
    md += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    (out / "report.md").write_text("\n".join(md) + "\n")
    written = [out / "report.csv", out / "report.md"]

    keys = l2_keys(runs)
    if keys:
        for key in swept:
            png = out / f"report_{re.sub(r'[^A-Za-z0-9._-]', '_', key)}.png"
            written += [png] if plot_against(runs, key, swept, keys[0], png) else []
        png = out / "report_l2.png"
        written += [png] if plot_l2(runs, swept, keys[0], png) else []
    return table, written


def plot_against(runs: Sequence[Finished], key: str, swept: Sequence[str], l2: str, png: Path) -> bool:
    """Final ``l2`` against the values of ``key``: one line per combination of the other keys."""
    ok = [r for r in runs if r.status not in NOT_PLOTTED and finite(r.final.get(l2))]
    if not ok:
        return False
    values = list(dict.fromkeys(r.overrides.get(key, "-") for r in ok))
    numeric = all(_is_number(v) for v in values)
    if numeric:
        values.sort(key=float)
    xs = {v: float(v) if numeric else float(i) for i, v in enumerate(values)}  # or categories, as they come
    others = [k for k in swept if k not in (key, "seed")]
    groups: dict[tuple[str, ...], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in ok:
        groups[tuple(r.overrides.get(k, "-") for k in others)][r.overrides.get(key, "-")].append(r.final[l2])
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for combo, by_value in groups.items():
        vs = [v for v in values if v in by_value]
        ys = [np.array(by_value[v]) for v in vs]
        mean = np.array([y.mean() for y in ys])
        spread = [mean - [y.min() for y in ys], [y.max() for y in ys] - mean]
        name = " ".join(f"{k}={v}" for k, v in zip(others, combo)) or None
        ax.errorbar([xs[v] for v in vs], mean, yerr=spread, marker="o", capsize=3, label=name)
    x = np.array(list(xs.values()))
    if numeric and x.min() > 0 and x.max() / x.min() >= 10:
        ax.set_xscale("log")
    if not numeric or len(values) <= 8:  # ticks at the values themselves
        ax.set_xticks(x, values)
        ax.tick_params(axis="x", which="minor", labelbottom=False)
    if not numeric:
        ax.set_xlim(-0.5, len(values) - 0.5)
    spread_over = "seeds" if "seed" in swept and key != "seed" else "jobs with that value"
    ax.set_title(f"final {l2} against {key}\n(mean; bars: min to max over {spread_over})", fontsize=10)
    ax.set_xlabel(key)
    _finish(ax, log=True, legend=bool(others))
    return _save(fig, png)


def plot_l2(runs: Sequence[Finished], swept: Sequence[str], l2: str, png: Path) -> bool:
    drawn = [r for r in runs if r.plotted and l2 in r.metrics]
    if not drawn:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for r in drawn:
        ok = np.isfinite(r.metrics[l2])
        ax.semilogy(r.metrics["step"][ok], r.metrics[l2][ok], label=label(r, swept))
    ax.set_title(f"{l2} against step")
    ax.set_xlabel("step")
    _finish(ax, log=False, ncol=1 + len(drawn) // 12)
    return _save(fig, png)


# -- runs side by side ---------------------------------------------------------
def report_comparison(runs: list[Finished], out: Path, zoom: Sequence[float] | None) -> tuple[Table, list[Path]]:
    keys = differing(runs)
    rows = [(k, [r.overrides.get(k) for r in runs]) for k in keys] + metric_rows(runs)
    rows += [(k, [r.summary.get(k) for r in runs]) for k in ("parameters", "wall_time_s")] + error_rows(runs)
    table = Table(title=f"pinnrun-report: {len(runs)} runs")
    table.add_column("")
    for r in runs:
        table.add_column(r.name, justify="right", overflow="fold")
    for k, vs in rows:
        table.add_row(k, *(show(k, v) for v in vs))

    names = [label(r, keys) for r in runs]
    names = names if len(set(names)) == len(names) else [r.name for r in runs]
    curves = [
        (n, _read(r.path / "predictions.h5", partial(_curve, primary=r.summary.get("primary_field"))))
        for r, n in zip(runs, names)
        if r.status not in NOT_PLOTTED and (r.path / "predictions.h5").exists()
    ]
    curves = [(n, c) for n, c in curves if c is not None]
    panels = 2 + bool(curves) * (1 + (zoom is not None))
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2))
    if curves:
        var, x, ref, _ = curves[0][1]
        for a in axes[:-2]:
            if ref is not None:
                a.plot(x, ref, color="k", lw=0.8, label="truth")
            for n, (_, xn, _, pred) in curves:
                a.plot(xn, pred, lw=0.8, alpha=0.8, label=n)
            a.set_xlabel(var)
            _finish(a, log=False)
        axes[0].set_title("learned curves over the truth")
        if zoom is not None:
            axes[1].set_xlim(*zoom)
            axes[1].set_title(f"zoom: {zoom[0]} to {zoom[1]}")
    loss_ax, l2_ax = axes[-2], axes[-1]
    l2 = (l2_keys(runs) or [None])[0]
    for i, (r, n) in enumerate(zip(runs, names)):
        if not r.plotted:
            continue
        m, color = r.metrics, f"C{i % 10}"
        for key, style, suffix in (("loss", "-", ""), ("test_loss", "--", " (test)")):
            if key in m and np.isfinite(m[key]).any():
                ok = np.isfinite(m[key])
                loss_ax.semilogy(m["step"][ok], m[key][ok], style, color=color, label=n + suffix)
        if l2 in m:
            ok = np.isfinite(m[l2])
            l2_ax.semilogy(m["step"][ok], m[l2][ok], color=color, label=n)
    loss_ax.set_title("loss (dashed: test loss)" if any(ln.get_linestyle() == "--" for ln in loss_ax.lines) else "loss")
    l2_ax.set_title(f"{l2 or 'l2'}: relative L2 error")
    for a in (loss_ax, l2_ax):
        a.set_xlabel("step")
        _finish(a, log=False)
    out.mkdir(parents=True, exist_ok=True)
    _save(fig, out / "comparison.png")
    return table, [out / "comparison.png"]


def _curve(path: Path, primary: str | None) -> tuple[str, np.ndarray, np.ndarray | None, np.ndarray] | None:
    """(variable, x, truth, learned) of a 1-D problem's primary (or first) field; None in more dimensions."""
    with h5py.File(path, "r") as f:
        variables = str(f.attrs["variables"]).split(",")
        if len(variables) != 1:
            return None
        fields = str(f.attrs["fields"]).split(",")
        field = primary if primary in fields else fields[0]
        ref = f[f"ref/{field}"][()] if f"ref/{field}" in f else None
        return variables[0], f[f"grid/{variables[0]}"][()], ref, f[f"pred/{field}"][()]


# -- figures -------------------------------------------------------------------
def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _finish(ax: Any, log: bool, legend: bool = True, ncol: int = 1) -> None:
    if log:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, ncol=ncol)


def _save(fig: Any, png: Path) -> bool:
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


# -- command line --------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pinnrun-report",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:5]),
    )
    ap.add_argument(
        "paths", nargs="+", type=Path, metavar="DIR", help="a sweep (multirun) directory, or run directories to compare"
    )
    ap.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the files go (default: the sweep directory; for a comparison the current directory)",
    )
    ap.add_argument(
        "--zoom",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="comparison of 1-D runs: also the learned curves for x in [LO, HI]",
    )
    args = ap.parse_args(argv)
    try:
        runs, sweep = find_runs(args.paths)
        if sweep and args.zoom:
            raise ReportError("--zoom applies to a comparison of run directories, not to a sweep")
        try:
            table, written = (
                report_sweep(runs, args.paths[0], args.out or args.paths[0])
                if sweep
                else report_comparison(runs, args.out or Path.cwd(), args.zoom)
            )
        except OSError as e:
            raise ReportError(f"cannot write the report ({type(e).__name__}: {e})") from None
    except ReportError as e:
        print(f"pinnrun-report: error: {e}", file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    for p in written:
        console.print(f"wrote {p}", soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
