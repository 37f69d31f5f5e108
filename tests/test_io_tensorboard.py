"""logger=tensorboard: the same scalars as metrics.csv, and the plots, as real TensorBoard events."""

from __future__ import annotations

import csv
import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import TINY, run_cli, run_task


def test_tensorboard_logs_the_metrics_and_the_plots(tmp_path):
    run = tmp_path / "run"
    run_task(
        [
            "equation=heat_multiscale",
            "optimizer=adam",
            *TINY,
            "trainer.log_every=5",
            "trainer.eval_every=10",
            "logger=tensorboard",
            "trainer.plots=true",
        ],
        run,
    )
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = events.Tags()
    for column in ("loss", "loss/residual_u", "weight/boundary_u", "l2/u", "lr"):
        assert column in tags["scalars"], column
        logged = {e.step: e.value for e in events.Scalars(column)}
        expected = {int(r["step"]): float(r[column]) for r in rows if r[column]}
        assert logged.keys() == expected.keys(), column
        assert all(logged[k] == pytest.approx(v, rel=1e-6) for k, v in expected.items()), column
    assert {"plots/loss", "plots/l2", "plots/fields"} <= set(tags["images"])
    image = events.Images("plots/l2")[-1]
    assert image.step == json.loads((run / "summary.json").read_text())["steps"] == 20
    assert image.width > 100 and image.height > 100


def test_without_the_logger_there_are_no_events(tmp_path):
    run = tmp_path / "run"
    run_task(["equation=heat_multiscale", *TINY], run)
    assert not (run / "tensorboard").exists()
    p = run_cli(["logger=neptune", f"hydra.run.dir={tmp_path / 'bad'}"], cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.splitlines() == [
        "pinnrun: error: logger: Invalid value 'neptune', expected one of [csv, tensorboard, mlflow, wandb]"
    ]
