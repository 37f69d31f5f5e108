"""``pinnrun-report`` on real runs: a 2x2 sweep (model.width x seed) trained for 40 steps, its
table, report.csv/.md and figures; failed and missing jobs; two runs side by side; bad input."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

from helpers import explain, run_cli, run_report

ERROR = "pinnrun-report: error: "


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report") / "sweep"
    p = run_cli(
        [
            "-m",
            "equation=heat_multiscale",
            "optimizer=adam",
            "optimizer.phases.0.steps=40",
            "equation.points.residual=200",
            "model.width=16,32",
            "seed=0,1",
            "trainer.eval_every=20",
            "trainer.progress=false",
            f"hydra.sweep.dir={d}",
        ]
    )
    assert p.returncode == 0, explain(p)
    return d


def job(sweep: Path, n: int) -> tuple[dict, dict]:
    """A job's overrides (as key -> value) and summary.json."""
    overrides = dict(o.split("=", 1) for o in yaml.safe_load((sweep / str(n) / "overrides.yaml").read_text()))
    return overrides, json.loads((sweep / str(n) / "summary.json").read_text())


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of the rich table printed on stdout, as stripped cells."""
    return [[c.strip() for c in line.strip("│ ").split("│")] for line in stdout.splitlines() if line.startswith("│")]


def assert_figure(png: Path) -> None:
    img = plt.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 400, (png, img.shape)
    colours = np.unique(img.reshape(-1, img.shape[-1]), axis=0)
    assert len(colours) > 100, f"{png} looks blank ({len(colours)} colours)"


def test_sweep_report_lists_every_job_and_draws_the_figures(sweep):
    p = run_report([sweep], script=True)  # the console script
    assert p.returncode == 0, explain(p)
    header, rows = read_csv(sweep / "report.csv")
    assert header == ["job", "model.width", "seed", "status", "steps", "l2/u", "loss", "wall_time_s"]
    assert [r["job"] for r in rows] == ["0", "1", "2", "3"]
    shown = table_rows(p.stdout)
    assert len(shown) == 4
    for n, (row, cells) in enumerate(zip(rows, shown)):
        overrides, summary = job(sweep, n)
        assert (row["model.width"], row["seed"]) == (overrides["model.width"], overrides["seed"])
        assert cells[:5] == [str(n), overrides["model.width"], overrides["seed"], "completed", "40"]
        assert row["status"] == "completed" and int(row["steps"]) == 40
        l2 = float(row["l2/u"])
        assert math.isfinite(l2) and l2 == summary["final"]["l2/u"]
        assert float(row["loss"]) == summary["final"]["loss"]
        assert cells[5] == f"{l2:.3e}"
    assert {(r["model.width"], r["seed"]) for r in rows} == {("16", "0"), ("16", "1"), ("32", "0"), ("32", "1")}
    md = (sweep / "report.md").read_text().splitlines()
    assert "| job | model.width | seed | status | steps | l2/u | loss | wall_time_s |" in md
    assert sum(line.startswith("| ") for line in md) == 1 + 1 + 4  # header, rule, jobs
    for name in ("report_model.width.png", "report_seed.png", "report_l2.png"):
        assert_figure(sweep / name)
        assert str(sweep / name) in p.stdout


def test_failed_and_missing_jobs_are_listed_and_left_out_of_the_figures(sweep, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(sweep, broken, ignore=shutil.ignore_patterns("report*"))
    error = "ConfigError: model.width must be positive"
    (broken / "1" / "summary.json").write_text(json.dumps({"status": "failed", "error": error, "job": 1}))
    (broken / "3" / "summary.json").unlink()
    out = tmp_path / "out"
    p = run_report([broken, "--out", out])
    assert p.returncode == 0, explain(p)
    assert "Traceback" not in p.stderr
    _, rows = read_csv(out / "report.csv")
    assert [r["status"] for r in rows] == ["completed", "failed", "completed", "missing"]
    assert rows[1]["error"] == error and rows[1]["l2/u"] == "" and rows[3]["l2/u"] == ""
    assert float(rows[2]["l2/u"]) == job(sweep, 2)[1]["final"]["l2/u"]
    statuses = [cells[3] for cells in table_rows(p.stdout)]
    assert statuses == ["completed", "failed", "completed", "missing"]
    assert error in p.stdout
    assert_figure(out / "report_l2.png")
    assert not list(broken.glob("report*")), "--out: nothing goes into the sweep directory"

    for n in range(4):  # no job left to draw: the table, and no figure
        (broken / str(n) / "summary.json").unlink(missing_ok=True)
    p = run_report([broken, "--out", out / "none"])
    assert p.returncode == 0, explain(p)
    assert [r["status"] for r in read_csv(out / "none" / "report.csv")[1]] == ["missing"] * 4
    assert not list((out / "none").glob("*.png"))


def test_two_runs_side_by_side(sweep, tmp_path):
    a, b = sweep / "0", sweep / "3"
    p = run_report([a, b], cwd=tmp_path)
    assert p.returncode == 0, explain(p)
    assert_figure(tmp_path / "comparison.png")
    rows = {cells[0]: cells[1:] for cells in table_rows(p.stdout)}
    (oa, sa), (ob, sb) = job(sweep, 0), job(sweep, 3)
    assert rows["model.width"] == [oa["model.width"], ob["model.width"]] == ["16", "32"]
    assert rows["seed"] == ["0", "1"]
    assert "equation" not in rows, "only the overrides that differ"
    assert rows["status"] == ["completed", "completed"] and rows["steps"] == ["40", "40"]
    assert rows["l2/u"] == [f"{sa['final']['l2/u']:.3e}", f"{sb['final']['l2/u']:.3e}"]
    assert rows["parameters"] == [str(sa["parameters"]), str(sb["parameters"])]
    assert sa["parameters"] < sb["parameters"]


def test_bad_input_gives_one_line_and_writes_nothing(sweep, tmp_path):
    (tmp_path / "empty").mkdir()
    corrupt = tmp_path / "corrupt"
    shutil.copytree(sweep, corrupt, ignore=shutil.ignore_patterns("report*"))
    (corrupt / "2" / "summary.json").write_text('{"status": "compl')
    out = tmp_path / "out"
    cases = [
        ([tmp_path / "nope"], "does not exist"),
        ([tmp_path / "empty"], "no run in"),
        ([corrupt], "2/summary.json cannot be read"),
        ([corrupt / "0", corrupt / "2"], "2/summary.json cannot be read"),
        ([sweep / "0", sweep], "is not a run directory"),
    ]
    for args, words in cases:
        p = run_report([*args, "--out", out])
        assert p.returncode == 2, explain(p)
        assert "Traceback" not in p.stdout + p.stderr and p.stdout == "", explain(p)
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(ERROR) and words in lines[0], p.stderr
    assert not out.exists() and not list(corrupt.glob("report*"))
