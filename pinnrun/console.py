"""What a run shows on the terminal (rich): its header, the progress bar, the summary table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table


def make_console(quiet: bool = False) -> Console:
    """Messages go to stderr; stdout stays free for what a user pipes. ``quiet``: none at all."""
    return Console(stderr=True, quiet=quiet)


def header(
    verb: str,
    describe: str,
    phases: Sequence[tuple[str, int]],
    device: str,
    dtype: str,
    run_dir: Path,
    notes: Sequence[str] = (),
) -> str:
    """The run's first lines: what runs, where, and anything the user should know first."""
    plan = " -> ".join(f"{name} {steps}" for name, steps in phases if steps)
    lines = [
        f"[bold]pinnrun[/bold] {verb}: {describe} phases: {plan}  device={device} dtype={dtype}",
        f"run directory: {run_dir}",
        *notes,
    ]
    return "\n".join(lines)


def progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        disable=not enabled,
        transient=False,
    )


def summary_table(s: dict[str, Any], run_dir: Path) -> Table:
    """summary.json's main numbers: status, steps, time, final loss and errors, identified constants."""
    table = Table(title=f"pinnrun: {s['status']}", show_header=False)
    table.add_row("run directory", str(run_dir))
    table.add_row("steps", f"{s['steps']} / {s['planned_steps']}")
    table.add_row("wall time", f"{s['wall_time_s']:.1f} s on {s['device']}")
    for k, v in s["final"].items():
        if k in ("loss", "test_loss") or k.startswith("l2/"):
            table.add_row(k, f"{v:.3e}" if isinstance(v, float) else str(v))
    for k, u in s.get("unknowns", {}).items():
        err = f", error {u['rel_error']:.2%}" if u["rel_error"] is not None else ""
        table.add_row(f"param/{k}", f"{u['found']:.6g} (true {u['true']:.6g}{err})")
    if s.get("published", {}).get("l2") is not None:
        f = s["published"]["field"]
        table.add_row(f"published l2/{f}", f"{s['published']['l2']:.3e}")
    return table


__all__ = ["header", "make_console", "progress", "summary_table"]
