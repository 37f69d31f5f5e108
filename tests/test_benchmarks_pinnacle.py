"""benchmarks/pinnacle.py: a task and a recipe for every PINNacle preset, each recipe a valid run,
budgets scaled as stated, and the docs table written from stored rows."""

from __future__ import annotations

import json

import pytest

from helpers import REPO, load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("pinnacle")


def test_every_pinnacle_preset_is_a_task_and_every_recipe_composes(bench):
    from pinnrun.api import compose

    presets = {p.stem.removeprefix("pinnacle_") for p in (REPO / "conf" / "experiment").glob("pinnacle_*.yaml")}
    assert set(bench.TASKS) == presets
    for task, t in bench.TASKS.items():
        cfg, _ = compose([f"experiment=pinnacle_{task}", *t.recipe])  # validated: a bad key is a ConfigError
        assert sum(p.steps for p in cfg.optimizer.phases) == bench.BUDGET, task  # PINNacle's 20000 iterations
        assert t.why and t.recipe


def test_a_reduced_budget_scales_every_phase_in_proportion(bench):
    from pinnrun.api import compose

    overrides = bench.scaled_phases(list(bench.TASKS["burgers1d_c"].recipe), "burgers1d_c", 3000)
    cfg, _ = compose(["experiment=pinnacle_burgers1d_c", *overrides])
    assert [(p.kind.value, p.steps) for p in cfg.optimizer.phases] == [("adam", 1500), ("lbfgs", 1500)]
    cfg, _ = compose(["experiment=pinnacle_pnd", *bench.scaled_phases([], "pnd", 777)])
    assert [p.steps for p in cfg.optimizer.phases] == [777]


def test_the_table_is_written_from_the_stored_rows(bench, tmp_path, monkeypatch):
    doc = tmp_path / "PINNACLE.md"
    doc.write_text("head\n<!-- results:begin -->\nold\n<!-- results:end -->\ntail\n")
    monkeypatch.setattr(bench, "DOCS", tmp_path)
    row = dict(task="ns2d_c", seed=0, steps=2000, wall_time_s=600.0, budget="reduced")
    rows = [
        {**row, "variant": "vanilla", "l2": 0.5},
        {**row, "variant": "recipe", "l2": 0.1},
        {**row, "variant": "recipe", "seed": 1, "l2": 0.3},
        {**row, "variant": "vanilla", "steps": 20000, "budget": "full", "wall_time_s": 1800.0, "l2": 0.04},
    ]
    bench.write_docs(json.loads(json.dumps(rows)))
    text = doc.read_text()
    assert text.startswith("head\n") and text.endswith("tail\n") and "old" not in text
    full, reduced = ([c.strip() for c in x.split("|")[1:-1]] for x in text.splitlines() if x.startswith("| NS2d-C ("))
    # a line per budget, the full one first: published vanilla and best, pinnrun's vanilla, the
    # recipe's mean over its seeds, the budget, the seeds, the wall times
    assert reduced[1:5] == ["0.047", "LAAF, 0.036", "0.5", "0.2"], reduced
    assert reduced[6] == "2000 (reduced)" and reduced[7] == "0, 1" and reduced[8] == "10 min / 10 min"
    assert full[3:5] == ["0.04", "-"] and full[6] == "20000 (full)" and full[8] == "30 min / -", full
    assert "not run" in [x for x in text.splitlines() if x.startswith("| PNd")][0]


def test_each_stored_row_joins_the_earlier_ones_and_a_rerun_replaces_its_own(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "STORE", tmp_path / "pinnacle.json")
    row = dict(task="pnd", variant="vanilla", seed=0, steps=1000, l2=0.5)
    bench.store([row])  # as each run of a batch ends: one row at a time
    bench.store([{**row, "variant": "recipe", "l2": 0.1}])
    bench.store([{**row, "task": "burgers1d_c", "error": "a failed run is not stored"}])
    rows = bench.store([{**row, "l2": 0.25}])  # the same task, variant, seed and budget again
    kept = sorted((r["task"], r["variant"], r["l2"]) for r in rows)
    assert kept == [("pnd", "recipe", 0.1), ("pnd", "vanilla", 0.25)]
    assert json.loads((tmp_path / "pinnacle.json").read_text()) == rows
