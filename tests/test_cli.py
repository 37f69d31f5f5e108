"""The command line end to end: real Hydra composition, real training, real files.

Every test runs ``python -m pinnrun`` (or the ``pinnrun`` console script) as a
subprocess with tiny budgets and checks the run directory against the
contract (docs/ARCHITECTURE.md): metrics.csv, predictions.h5, checkpoints, summary.json,
plots; one-line errors that write nothing; never overwriting a run; multirun.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import yaml
from omegaconf import OmegaConf

import pinnrun
from pinnrun.config import ModelConfig
from pinnrun.models import build_model, count_parameters

from helpers import NLS_TERMS, TINY, assert_one_line_error, explain, run_cli, run_task

FIELDS = ["u", "v", "h_abs"]
CONTRACT_FILES = [
    "metrics.csv",
    "predictions.h5",
    "summary.json",
    "config.yaml",
    "checkpoints/last.pt",
    "checkpoints/best.pt",
    "plots/fields.png",
    "plots/loss.png",
    "plots/l2.png",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_contract_files(run_dir: Path, plots: bool = True) -> None:
    """The run directory's files; ``plots=False``: a run with trainer.plots=false, which has none."""
    missing = [f for f in CONTRACT_FILES if not (run_dir / f).is_file() and (plots or not f.startswith("plots/"))]
    assert not missing, f"{run_dir} lacks {missing}; it holds {sorted(snapshot(run_dir))}"
    assert (run_dir / "plots").exists() == plots
    for png in ("fields", "loss", "l2") if plots else ():
        assert (run_dir / "plots" / f"{png}.png").read_bytes()[:8] == PNG_MAGIC, f"plots/{png}.png is not a PNG"


# -- 1. the run-directory contract of a tiny default run --------------------------------------


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("default") / "run"
    proc = run_cli([*TINY, "trainer.plots=true", f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, explain(proc)
    return run_dir


def test_default_run_writes_every_contract_file(default_run):
    assert_contract_files(default_run)
    summary = json.loads((default_run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["steps"] == 20
    assert summary["equation"] == "nls" and summary["model"] == "mlp"
    cfg = yaml.safe_load((default_run / "config.yaml").read_text())
    assert cfg["trainer"]["max_steps"] == 20 and cfg["model"]["width"] == 16


def test_metrics_csv_columns_and_weighted_sum(default_run):
    header, rows = read_csv(default_run / "metrics.csv")
    assert header[:4] == ["step", "phase", "lr", "loss"]
    expected = (
        ["step", "phase", "lr", "loss"]
        + [f"loss/{t}" for t in NLS_TERMS]
        + [f"weight/{t}" for t in NLS_TERMS]
        + [f"l2/{f}" for f in FIELDS]
        + ["time_s"]
    )
    assert sorted(header) == sorted(expected), f"columns {header}"
    assert header[-1] == "time_s"
    assert rows, "metrics.csv has no rows"
    assert int(rows[-1]["step"]) == 20 and rows[-1]["phase"] == "adam"
    for row in rows:
        total = sum(float(row[f"weight/{t}"]) * float(row[f"loss/{t}"]) for t in NLS_TERMS)
        assert math.isclose(float(row["loss"]), total, rel_tol=1e-5), (row["step"], row["loss"], total)
        assert all(float(row[f"weight/{t}"]) == 1.0 for t in NLS_TERMS)
    # the final row is evaluated: every l2 column is a finite positive number
    for f in FIELDS:
        assert 0 < float(rows[-1][f"l2/{f}"]) < math.inf


def test_predictions_h5_layout_and_attributes(default_run):
    summary = json.loads((default_run / "summary.json").read_text())
    with h5py.File(default_run / "predictions.h5", "r") as h5:
        assert h5["grid/t"].shape == (201,)
        assert h5["grid/x"].shape == (256,)
        t, x = h5["grid/t"][()], h5["grid/x"][()]
        assert t[0] == pytest.approx(0.0) and t[-1] == pytest.approx(math.pi / 2)
        assert np.all(np.diff(t) > 0) and np.all(np.diff(x) > 0)
        assert -5.0 <= x[0] < x[-1] <= 5.0
        data = {}
        for group in ("pred", "ref", "error"):
            for f in FIELDS:
                arr = h5[f"{group}/{f}"][()]
                assert arr.shape == (201, 256), f"{group}/{f} has shape {arr.shape}"
                assert np.all(np.isfinite(arr)), f"{group}/{f} has non-finite values"
                data[group, f] = arr
        attrs = dict(h5.attrs)

    for f in FIELDS:
        np.testing.assert_array_equal(data["error", f], data["pred", f] - data["ref", f])
    # h_abs = |u + iv| for the reference as for the prediction
    np.testing.assert_allclose(data["ref", "h_abs"], np.hypot(data["ref", "u"], data["ref", "v"]), rtol=1e-9)

    cfg = yaml.safe_load(attrs["config"])
    assert cfg["equation"]["name"] == "nls"
    assert int(attrs["steps"]) == 20
    assert attrs["pinnrun_version"] == pinnrun.__version__
    for f in FIELDS:
        pred, ref = data["pred", f], data["ref", f]
        l2 = np.linalg.norm(pred - ref) / np.linalg.norm(ref)
        assert float(attrs[f"l2/{f}"]) == pytest.approx(l2, rel=1e-9)
        assert summary["final"][f"l2/{f}"] == pytest.approx(l2, rel=1e-9)


def test_checkpoints_load_with_weights_only(default_run):
    summary = json.loads((default_run / "summary.json").read_text())
    for name in ("last.pt", "best.pt"):
        ck = torch.load(default_run / "checkpoints" / name, map_location="cpu", weights_only=True)
        for key in ("model", "optimizer", "step"):
            assert key in ck, f"{name} lacks {key!r}: {sorted(ck)}"
        assert ck["config_hash"] == summary["config_hash"]
        assert set(ck["optimizer"]) == {"state", "param_groups"}
    last = torch.load(default_run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    assert last["step"] == 20

    # last.pt holds the final network: rebuilt from config.yaml, it gives predictions.h5's /pred
    cfg = OmegaConf.load(default_run / "config.yaml")
    model_cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ModelConfig), cfg.model))
    bounds = cfg.equation.domain
    model = build_model(model_cfg, [bounds.t[0], bounds.x[0]], [bounds.t[1], bounds.x[1]], 2)
    model.load_state_dict(last["model"])
    assert count_parameters(model) == summary["parameters"] == 354  # 2 -> 16 -> 16 -> 2
    with h5py.File(default_run / "predictions.h5", "r") as h5:
        t, x = h5["grid/t"][()], h5["grid/x"][()]
        u, v = h5["pred/u"][()], h5["pred/v"][()]
    i, j = np.array([0, 57, 200]), np.array([3, 128, 255])
    pts = torch.tensor(np.stack([t[i], x[j]], 1), dtype=torch.float32)
    with torch.no_grad():
        out = model(pts).double().numpy()
    np.testing.assert_allclose(out[:, 0], u[i, j], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[:, 1], v[i, j], rtol=1e-5, atol=1e-7)


# -- 2. --cfg job --------------------------------------------------------------------------------


def _cfg_job(tmp_path: Path, *overrides: str) -> dict:
    run_dir = tmp_path / "run"
    proc = run_cli(["--cfg", "job", *overrides, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    assert not run_dir.exists(), "--cfg job created the run directory"
    assert list(tmp_path.iterdir()) == [], f"--cfg job wrote {list(tmp_path.iterdir())}"
    return proc.stdout


def test_cfg_job_prints_the_composed_config(tmp_path):
    out = _cfg_job(tmp_path)
    assert "name: nls" in out and "width:" in out
    cfg = yaml.safe_load(out)
    assert cfg["equation"]["name"] == "nls"
    assert cfg["model"]["name"] == "mlp"
    assert set(cfg) >= {"equation", "model", "optimizer", "weighting", "sampler", "trainer", "seed"}
    assert "hydra" not in cfg


def test_cfg_job_composes_model_mscale(tmp_path):
    out = _cfg_job(tmp_path, "model=mscale")
    assert "name: mscale" in out
    assert yaml.safe_load(out)["model"]["name"] == "mscale"


def test_cfg_job_composes_experiment_raissi_nls(tmp_path):
    out = _cfg_job(tmp_path, "experiment=raissi_nls")
    assert "residual: 20000" in out and "width: 100" in out
    cfg = yaml.safe_load(out)
    assert cfg["equation"]["points"]["residual"] == 20000
    assert cfg["model"]["width"] == 100
    assert cfg["published"]["l2"] == pytest.approx(1.97e-3, rel=1e-12)
    assert [p["kind"] for p in cfg["optimizer"]["phases"]] == ["adam", "lbfgs"]


# -- 3. equation=nls model=mscale ----------------------------------------------------------------


def test_mscale_run_writes_the_full_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    run_task(["equation=nls", "model=mscale", *TINY], run_dir)
    assert_contract_files(run_dir, plots=False)  # trainer.plots=false (the tests' default): no figures
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 20
    assert summary["model"] == "mscale"
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["model"]["name"] == "mscale"
    header, rows = read_csv(run_dir / "metrics.csv")
    assert int(rows[-1]["step"]) == 20 and math.isfinite(float(rows[-1]["loss"]))


# -- 4. reproducibility --------------------------------------------------------------------------


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    common = [*TINY, "trainer.log_every=5", "trainer.dtype=float64", "trainer.device=cpu"]
    dirs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    seeds = [0, 0, 1]
    for s, d in zip(seeds, dirs):
        run_task([*common, f"seed={s}"], d)

    def loss_columns(run_dir):
        header, rows = read_csv(run_dir / "metrics.csv")
        cols = [c for c in header if c == "loss" or c.startswith("loss/")]
        assert len(cols) == 1 + len(NLS_TERMS)
        return [(r["step"], [r[c] for c in cols]) for r in rows]

    a, b, c = (loss_columns(d) for d in dirs)
    assert [s for s, _ in a] == ["5", "10", "15", "20"]
    assert a == b, "two runs with the same seed wrote different losses"
    assert [s for s, _ in c] == [s for s, _ in a]
    for (step, la), (_, lc) in zip(a, c):
        assert la != lc, f"seed=0 and seed=1 wrote the same losses at step {step}"


# -- 5. bad input: one line, exit code 2, nothing written ------------------------------------------

BAD_INPUT = [
    (["equation=nope"], ["equation", "nope", "nls"]),
    (["trainer.max_steps=abc"], ["trainer.max_steps"]),
    (["trainer.max_steps=-1"], ["trainer.max_steps"]),
    (["equation.domain.x=[5,-5]"], ["equation.domain.x"]),
    (["trainer.device=gpu"], ["trainer.device", "gpu"]),
    (["trainer.nope=1"], ["trainer.nope"]),
    (["model.activation=nope"], ["model.activation", "nope"]),
    (["+weighting.weights.nope=1"], ["weighting.weights", "nope"]),
    (["weighting.weights={nope:1}"], ["weighting.weights", "nope"]),
    (["equation.name=nope"], ["equation.name", "nope"]),
]


@pytest.mark.parametrize("bad, names", BAD_INPUT, ids=[b[0] for b, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, bad, names):
    run_dir = tmp_path / "run"
    # TINY comes first so that the bad override wins where both set a key (max_steps)
    proc = run_cli([*TINY, *bad, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert_one_line_error(proc, *names)
    assert not run_dir.exists() or not any(run_dir.iterdir()), f"wrote {sorted(snapshot(run_dir))}"
    assert [p for p in tmp_path.iterdir() if p != run_dir] == [], f"wrote {list(tmp_path.iterdir())}"


# -- 6. never overwrite ----------------------------------------------------------------------------


def test_a_second_run_into_a_run_directory_is_refused_and_changes_nothing(default_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(default_run, run_dir)
    before = snapshot(run_dir)
    assert "checkpoints/last.pt" in before and "metrics.csv" in before
    proc = run_cli([*TINY, "seed=3", f"hydra.run.dir={run_dir}"])
    assert_one_line_error(proc, "trainer.resume")
    after = snapshot(run_dir)
    assert sorted(after) == sorted(before), "files were added or removed"
    changed = [k for k in before if before[k] != after[k]]
    assert not changed, f"refused run changed {changed}"


def test_resume_into_an_empty_directory_is_refused(tmp_path):
    run_dir = tmp_path / "empty"
    run_dir.mkdir()
    proc = run_cli([*TINY, "trainer.resume=true", f"hydra.run.dir={run_dir}"])
    assert_one_line_error(proc, "trainer.resume", "last.pt")
    assert not run_dir.exists() or not any(run_dir.iterdir())


def test_resume_from_a_corrupt_checkpoint_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    ckpt = run_dir / "checkpoints" / "last.pt"
    ckpt.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 16
    ckpt.write_bytes(garbage)
    proc = run_cli([*TINY, "trainer.resume=true", f"hydra.run.dir={run_dir}"])
    assert_one_line_error(proc, str(ckpt))
    assert snapshot(run_dir) == {"checkpoints/last.pt": garbage}


def test_resume_from_a_foreign_checkpoint_is_refused(tmp_path):
    """A readable torch file that is not a pinnrun checkpoint (or one of an older format)."""
    run_dir = tmp_path / "run"
    ckpt = run_dir / "checkpoints" / "last.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"model": {}, "step": 3}, ckpt)
    before = snapshot(run_dir)
    proc = run_cli([*TINY, "trainer.resume=true", f"hydra.run.dir={run_dir}"])
    assert_one_line_error(proc, "lacks", "optimizer")
    assert snapshot(run_dir) == before


# -- 7. multirun ---------------------------------------------------------------------------------


def test_multirun_sweeps_width_and_seed(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_cli(["-m", *TINY, "model.width=8,16", "seed=0,1", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0", "1", "2", "3"], jobs
    # Hydra's basic sweeper: the cartesian product in the order given, last key fastest
    expected = {"0": (8, 0), "1": (8, 1), "2": (16, 0), "3": (16, 1)}
    for job, (width, seed) in expected.items():
        d = sweep / job
        summary = json.loads((d / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["steps"] == 20, (job, summary)
        cfg = yaml.safe_load((d / "config.yaml").read_text())
        assert (cfg["model"]["width"], cfg["seed"]) == (width, seed), job
        # the width really built the network: 2 -> w -> w -> 2 parameters
        assert summary["parameters"] == (2 * width + width) + (width * width + width) + (width * 2 + 2)
        assert (d / "predictions.h5").is_file() and (d / "checkpoints" / "last.pt").is_file()
    assert not (tmp_path / "outputs").exists()


def test_a_failing_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    """Job 0 is rejected (bad width), job 1 still runs; the sweep exits 1 naming job 0."""
    sweep = tmp_path / "sweep"
    proc = run_cli(["-m", *TINY, "model.width=-3,8", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert proc.returncode == 1, explain(proc)
    bad = json.loads((sweep / "0" / "summary.json").read_text())
    assert bad["status"] == "failed" and "model.width" in bad["error"]
    assert "model.width=-3" in yaml.safe_load((sweep / "0" / "overrides.yaml").read_text())
    good = json.loads((sweep / "1" / "summary.json").read_text())
    assert good["status"] == "completed" and good["steps"] == 20
    assert "Traceback" not in proc.stderr
    assert "job 0 failed: model.width" in proc.stderr and "1 job(s) failed" in proc.stderr.splitlines()[-1]
    # the same sweep again into the same directory: job 1's earlier result is not replaced by a failure
    before = (sweep / "1" / "summary.json").read_text()
    again = run_cli(["-m", *TINY, "model.width=-3,-4", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert again.returncode == 1 and (sweep / "1" / "summary.json").read_text() == before


# -- 8. python -m pinnrun == pinnrun -------------------------------------------------------------


def test_console_script_and_module_print_the_same_config(tmp_path):
    args = ["--cfg", "job", "model=mscale", "seed=7"]
    by_module = run_cli(args, cwd=tmp_path, process=True)
    by_script = run_cli(args, cwd=tmp_path, script=True)
    assert by_module.returncode == 0, explain(by_module)
    assert by_script.returncode == 0, explain(by_script)
    assert "name: mscale" in by_module.stdout and "seed: 7" in by_module.stdout
    assert by_script.stdout == by_module.stdout
