"""A run whose loss overflows, for real: 20 Adam steps that end in a checkpoint, then plain
gradient descent at a learning rate of 1e12, whose first step sends the float32 loss to inf
(measured: finite at step 21, inf at step 22).

The run ends as ``diverged``: exit status 3 and one line naming the step and the last good
checkpoint; summary.json, metrics.csv and checkpoints/last.pt tell the same story. In a sweep the
diverged job is a failed one: the other jobs run, and the sweep exits 1 naming it.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from helpers import explain, run_cli

ADAM_STEPS = 20
SMALL = ["equation.points.residual=100", "model.width=8", "model.depth=1", "trainer.progress=false"]
#: Adam to step 20 (the phase ends: a checkpoint), then gradient descent that overflows
OVERFLOW = f"optimizer.phases=[{{kind:adam,steps:{ADAM_STEPS},lr:1e-3}},{{kind:gd,steps:50,lr:1e12}}]"


def rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("diverged") / "run"
    proc = run_cli([OVERFLOW, *SMALL, f"hydra.run.dir={run_dir}"])
    return run_dir, proc


def test_diverged_run_exits_3_with_one_line_naming_step_and_checkpoint(diverged):
    run_dir, proc = diverged
    assert proc.returncode == 3, explain(proc)
    assert "Traceback" not in proc.stdout + proc.stderr, explain(proc)
    summary = json.loads((run_dir / "summary.json").read_text())
    step = summary["steps"]
    last = run_dir / "checkpoints" / "last.pt"
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("pinnrun: ")]
    assert lines == [
        f"pinnrun: run diverged at step {step} (loss {summary['final']['loss']}); "
        f"last good checkpoint: {last} (step {ADAM_STEPS})"
    ], explain(proc)


def test_diverged_run_leaves_its_last_good_checkpoint_and_the_non_finite_row(diverged):
    run_dir, proc = diverged
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged", summary
    assert ADAM_STEPS < summary["steps"] < ADAM_STEPS + 50, summary["steps"]  # in the GD phase
    assert not math.isfinite(summary["final"]["loss"])

    ck = torch.load(run_dir / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == ADAM_STEPS
    assert ck["model"] and all(torch.isfinite(t).all() for t in ck["model"].values())

    table = rows(run_dir)
    assert int(table[-1]["step"]) == summary["steps"]
    assert table[-1]["phase"] == "gd"
    assert not math.isfinite(float(table[-1]["loss"])), table[-1]["loss"]
    assert all(math.isfinite(float(r["loss"])) for r in table[:-1]), [r["loss"] for r in table]


def test_sweep_goes_on_after_a_diverged_job_and_exits_1_naming_it(tmp_path):
    sweep = tmp_path / "sweep"
    # job 0 diverges, job 1 (the same phases at a sane rate) completes: the sweep must reach it
    p = run_cli(
        [
            "-m",
            OVERFLOW,
            "optimizer.phases.1.lr=1e12,1e-3",
            "optimizer.phases.1.steps=10",
            *SMALL,
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
    )
    assert p.returncode == 1, explain(p)
    assert "Traceback" not in p.stdout + p.stderr, explain(p)
    bad = json.loads((sweep / "0" / "summary.json").read_text())
    good = json.loads((sweep / "1" / "summary.json").read_text())
    assert bad["status"] == "diverged" and ADAM_STEPS < bad["steps"] <= ADAM_STEPS + 10
    assert good["status"] == "completed" and good["steps"] == ADAM_STEPS + 10
    assert math.isfinite(good["final"]["loss"])
    assert f"pinnrun: job 0 diverged at step {bad['steps']}" in p.stderr, explain(p)
    assert p.stderr.splitlines()[-1] == (
        f"pinnrun: 1 job(s) failed: 0 (diverged at step {bad['steps']}, loss {bad['final']['loss']})"
    ), explain(p)
