"""Building a task from a config: building writes nothing (the reference dataset is an explicit
step), and a task computes its loss and its metrics without a run directory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from pinnrun import reference
from pinnrun.config import ConfigError
from pinnrun.tasks import build_task as tasks_build_task
from pinnrun.training import PinnTask

from helpers import build_task, compose


def test_building_a_task_writes_nothing_and_the_reference_is_an_explicit_step(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    cfg = compose(["equation=burgers", "model.width=6", "model.depth=1", "equation.points.residual=20"])
    with pytest.raises(ConfigError, match="burgers"):
        PinnTask(cfg)
    assert list(data.iterdir()) == []
    console = Console(record=True, width=200)
    task = tasks_build_task(cfg, console)
    assert "building the reference dataset 'burgers'" in console.export_text()
    assert (data / "burgers.h5").is_file() and task.evaluation.fields == ["u"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert reference.path("burgers") == data / "burgers.h5"


def test_a_task_needs_no_run_directory_for_a_loss(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = build_task(["model.width=6", "model.depth=1", "equation.points.residual=20"])
    loss = sum(task.objective.losses(0).values())
    assert math.isfinite(float(loss)) and float(loss) > 0
    assert set(task.evaluate()) == {"l2/u", "l2/v", "l2/h_abs"}
    assert list(tmp_path.iterdir()) == []
    assert np.isfinite(task.evaluation.predict()["h_abs"]).all()
