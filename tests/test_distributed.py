"""One run on two CPU processes (torchrun, gloo) against the same run in one process.

Every 2-process run here is a real ``torchrun --standalone --nproc_per_node=2 -m pinnrun`` (or a
submitit job of 2 tasks); its reference is the same config run in this process. The metrics.csv
columns that carry the training's numbers (loss and terms, weights, causal weights, L2 errors)
must agree to 1e-6 relative at every logged step: the sums over ranks differ from one process's
sums only by rounding (float64 here; measured worst 1e-11 over these runs). The default case runs
on a geometry (the annulus, its points split per part); the cases marked slow (the same on a box,
fixed weights, RAD and Hutchinson traces, per-face grad-norm, causal training eager and compiled)
run in ``make test-all``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import torch
import yaml

from helpers import cli_env, eager, explain, read_rows, run_cli, run_task

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without torch.distributed")

#: the two-process cases' schedule in float64: Adam with new points every 10 steps, then L-BFGS
SCHEDULE = [
    "trainer.dtype=float64",
    "trainer.threads=1",
    "optimizer.phases.0.steps=40",
    "optimizer.phases.1.steps=30",
    "sampler.resample_every=10",
    "trainer.log_every=10",
    "trainer.eval_every=20",
    "trainer.progress=false",
]
#: a small Burgers run on that schedule
BURGERS = ["equation=burgers", "model.width=20", "model.depth=3", "equation.points.residual=400", *SCHEDULE]
#: the same on a geometry: the annulus's Neumann and Robin parts (normal derivatives), each part's
#: points split over the ranks
ANNULUS = [
    "equation=poisson_annulus",
    "model.width=20",
    "model.depth=3",
    "equation.points.residual=400",
    "equation.points.hole=64",
    "equation.points.outer=96",
    "+equation.per_face=[hole]",
    *SCHEDULE,
]
#: Allen-Cahn with the expert's-guide recipe at a tiny size: causal training (its chunk losses
#: summed over the ranks inside the step), grad-norm weights, Fourier and periodic embeddings
ALLEN_CAHN = [
    "experiment=jaxpi_allen_cahn_cpu",
    "model.width=16",
    "model.fourier_features=16",
    "equation.points.residual=256",
    "equation.points.initial=64",
    "weighting.causal.chunks=8",
    "weighting.causal.tol=[1.0,10.0]",
    "weighting.update_every=10",
    "trainer.dtype=float64",
    "trainer.threads=1",
    "optimizer.phases.0.steps=40",
    "trainer.log_every=10",
    "trainer.eval_every=20",
    "trainer.progress=false",
]
COMPARED = ("loss", "l2/", "weight/", "causal/")


def torchrun(args, run_dir: Path, env: dict | None = None, background: bool = False):
    """``torchrun --standalone --nproc_per_node=2 -m pinnrun <args> hydra.run.dir=<run_dir>``."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "pinnrun",
        *eager(args),
        f"hydra.run.dir={run_dir}",
    ]
    env = env or cli_env()
    if background:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def assert_same_rows(one: Path, two: Path, rtol: float = 1e-6) -> None:
    a, b = read_rows(one), read_rows(two)
    assert [r["step"] for r in a] == [r["step"] for r in b]
    checked = 0
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            if k.startswith(COMPARED) and v not in ("", None):
                x, y = float(v), float(rb[k])
                assert math.isclose(x, y, rel_tol=rtol, abs_tol=1e-300), (ra["step"], k, x, y)
                checked += 1
    assert checked >= 4 * len(a)


@pytest.mark.parametrize(
    "case, extra",
    [
        # Adam with resampling, then L-BFGS (its closure returns the summed loss), with NTK weights
        # every 10 steps (the traces of each rank's part of the subsample, summed) and without: on a
        # geometry in the default suite, on Burgers' box in make test-all
        ("ntk", [*ANNULUS, "weighting=ntk", "weighting.update_every=10"]),
        pytest.param("ntk_box", [*BURGERS, "weighting=ntk", "weighting.update_every=10"], marks=pytest.mark.slow),
        pytest.param("adam_lbfgs", [*BURGERS], marks=pytest.mark.slow),
        # RAD: candidates scored in parts and gathered; Hutchinson's NTK traces: J^T v summed
        pytest.param(
            "rad_hutchinson",
            [*BURGERS, "sampler=rad", "sampler.rad.candidates=2001", "weighting=ntk", "weighting.trace=hutchinson"],
            marks=pytest.mark.slow,
        ),
        # grad-norm on per-face sums of means (each face's points split over the ranks)
        pytest.param(
            "per_face_gradnorm",
            [
                "experiment=wang_helmholtz_gradnorm",
                "model.width=16",
                "trainer.dtype=float64",
                "trainer.threads=1",
                "trainer.max_steps=40",
                "weighting.update_every=10",
                "trainer.log_every=10",
                "trainer.eval_every=20",
                "trainer.progress=false",
            ],
            marks=pytest.mark.slow,
        ),
        # causal chunks split over the ranks, its tol schedule, grad-norm weights
        pytest.param("causal", ALLEN_CAHN, marks=pytest.mark.slow),
    ],
)
def test_two_processes_give_the_one_process_numbers(tmp_path, case, extra):
    proc = torchrun(extra, tmp_path / "two")
    assert proc.returncode == 0, explain(proc)
    run_task(eager(extra), tmp_path / "one")
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two["status"] == "completed" and two["processes"] == 2
    assert_same_rows(tmp_path / "one", tmp_path / "two")
    # rank 0 alone wrote: one header, no second run directory, no file of another rank
    assert proc.stderr.count("pinnrun run:") == 1, explain(proc)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


@pytest.mark.slow
def test_the_compiled_step_sums_the_causal_chunks_over_the_ranks(tmp_path):
    """The compiled step with the all-reduce of the causal chunk losses inside it."""
    args = [*ALLEN_CAHN, "trainer.compile=true", "optimizer.phases.0.steps=20"]
    proc = torchrun(args, tmp_path / "two")
    assert proc.returncode == 0, explain(proc)
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two["engine"] == "compiled", two.get("warnings")
    run_task(args, tmp_path / "one")
    assert_same_rows(tmp_path / "one", tmp_path / "two", rtol=1e-6)


def rank_pid(run_dir: Path, rank: int) -> int | None:
    """The process of ``rank`` of the torchrun run writing ``run_dir`` (from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"hydra.run.dir={run_dir}" in cmdline and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


# make test-all: in the default suite, a one-process run killed and resumed (test_runner_resume.py), two
# processes against one (Adam with resampling, L-BFGS, NTK weights) and a failing rank's line
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the rank's process in /proc")
def test_kill_9_of_one_rank_then_resume_ends_with_the_uninterrupted_numbers(tmp_path):
    args = [
        *BURGERS[:6],
        "optimizer=adam",
        "optimizer.phases.0.steps=400",
        "sampler.resample_every=10",
        "trainer.log_every=10",
        "trainer.eval_every=40",
        "trainer.checkpoint_every=20",
        "trainer.progress=false",
    ]
    run = tmp_path / "two"
    proc = torchrun(args, run, background=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:  # until a checkpoint past step 40 is written
            rows = read_rows(run) if (run / "metrics.csv").exists() else []
            if rows and int(rows[-1]["step"]) >= 60:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        pid = rank_pid(run, 1)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] in ("failed", "interrupted") and summary["steps"] < 400, summary
    ckpt = torch.load(run / "checkpoints" / "last.pt", weights_only=True)  # whole
    assert 40 <= ckpt["step"] < 400
    resumed = torchrun([*args, "trainer.resume=true"], run)
    assert resumed.returncode == 0, explain(resumed)
    assert f"resuming at step {ckpt['step']}" in resumed.stderr
    run_task(eager(args), tmp_path / "one")
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert_same_rows(tmp_path / "one", run)


FAILING = '''
import os

from pinnrun.problems.burgers import Burgers


class Failing(Burgers):
    """Burgers whose residual fails on rank 1 from its 30th evaluation (a rank's real error)."""

    calls = 0

    def residual(self, d):
        Failing.calls += 1
        if os.environ.get("RANK") == "1" and Failing.calls > 30:
            raise RuntimeError("CUDA out of memory on this rank (the test's equation)")
        return super().residual(d)
'''


def test_a_failing_rank_ends_the_run_with_its_line(tmp_path):
    (tmp_path / "failing.py").write_text(FAILING)
    env = {**cli_env(), "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    args = [*BURGERS, "equation.name=failing:Failing", "trainer.checkpoint_every=10"]
    proc = torchrun(args, tmp_path / "run", env=env)
    assert proc.returncode == 1, explain(proc)
    ours = [line for line in proc.stderr.splitlines() if line.startswith("pinnrun:")]
    assert ours == ["pinnrun: run failed: rank 1: RuntimeError: CUDA out of memory on this rank (the test's equation)"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"].startswith("rank 1: RuntimeError")
    assert 0 < summary["steps"] < 70
    # nothing torn: the last checkpoint loads, and the predictions were written by rank 0 alone
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["step"] <= summary["steps"]
    assert (tmp_path / "run" / "predictions.h5").is_file()


def test_the_slurm_config_composes_and_its_tasks_run_one_run_locally(tmp_path):
    """hydra/launcher=slurm_ddp: 2 nodes x 4 tasks, one GPU each; the same multi-task jobs run on
    this machine with submitit's local executor (2 tasks, gloo), each in processes of its own: job
    1's bad width fails it alone, and the sweep says so (the launcher's whole path for
    tests/test_cli_sweeps.py's slurm example too)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from pinnrun.config import register

    register()
    with initialize_config_module("pinnrun.conf", version_base="1.3"):
        cfg = hydra_compose("config", ["hydra/launcher=slurm_ddp"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 4, 4)
    sweep = tmp_path / "sweep"
    launch = ["-m", "hydra/launcher=submitit_local", "hydra.launcher.tasks_per_node=2", "hydra.launcher.timeout_min=5"]
    proc = run_cli([*launch, *BURGERS, "model.width=20,-3", f"hydra.sweep.dir={sweep}"])
    assert proc.returncode == 1, explain(proc)
    summary = json.loads((sweep / "0" / "summary.json").read_text())
    assert (
        summary["status"] == "completed" and summary["processes"] == 2 and datetime.fromisoformat(summary["finished"])
    )
    assert yaml.safe_load((sweep / "0" / "config.yaml").read_text())["model"]["width"] == 20
    assert json.loads((sweep / "1" / "summary.json").read_text())["status"] == "failed"
    assert "1 job(s) failed: 1 (model.width" in proc.stderr
    run_task(eager(BURGERS), tmp_path / "one")
    assert_same_rows(tmp_path / "one", sweep / "0")


def test_bad_input_under_torchrun_is_one_line_and_writes_nothing(tmp_path):
    proc = torchrun([*BURGERS, "model.width=-3"], tmp_path / "run")
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if line.startswith("pinnrun:")]
    assert len(ours) == 1 and ours[0].startswith("pinnrun: error: model.width"), proc.stderr[-2000:]
    assert not (tmp_path / "run").exists()
