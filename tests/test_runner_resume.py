"""A run killed with SIGKILL and resumed ends where the uninterrupted run ends.

Run A trains uninterrupted (Adam, then L-BFGS, with resampled points and NTK
weights that also update during L-BFGS, on the CPU in float64). Run B is the same command, killed for real (SIGKILL, no
chance to clean up) once its checkpoint is inside the phase under test, then
resumed with ``trainer.resume=true``. B's metrics.csv, predictions and final
metrics must equal A's.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import yaml

from helpers import REPO, cli_command, cli_env, eager, explain, read_rows, run_cli

ADAM_STEPS, LBFGS_STEPS = 60, 100
RUN = [
    "equation.points.residual=200",
    "model.width=16",
    "model.depth=2",
    "trainer.progress=false",
    "optimizer=adam_lbfgs",
    f"optimizer.phases.0.steps={ADAM_STEPS}",
    f"optimizer.phases.1.steps={LBFGS_STEPS}",
    "trainer.checkpoint_every=20",
    "trainer.log_every=10",
    "trainer.eval_every=20",
    "trainer.dtype=float64",
    "trainer.device=cpu",
    "sampler.resample_every=30",
    "weighting=ntk",
    "weighting.update_every=25",
    "weighting.points=40",
    "weighting.lbfgs_updates=true",
    "weighting.update_after_step=true",  # Adam's updates after the step (before it: test_training_compiled)
    "weighting.spectrum=true",
]
KILL_TIMEOUT = 240


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("uninterrupted") / "A"
    proc = run_cli([*RUN, f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, explain(proc)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    phases = {r["phase"] for r in read_rows(run_dir)}
    assert phases == {"adam", "lbfgs"}, f"run A should train both phases, logged {phases}"
    weights = [(r["phase"], float(r["weight/initial_u"])) for r in read_rows(run_dir)]
    for phase in ("adam", "lbfgs"):
        assert len({w for p, w in weights if p == phase}) > 2, f"NTK weights did not change in {phase}: {weights}"
    return run_dir


def read_checkpoint(path: Path):
    """last.pt, or None if it is not there or cannot be read right now."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # not yet written, or (should not happen: atomic rename) mid-replace
        return None


def kill_when(run_dir: Path, should_kill, log_dir: Path) -> dict:
    """Start the run, SIGKILL it once ``should_kill(checkpoint)``; return that checkpoint."""
    ckpt_path = run_dir / "checkpoints" / "last.pt"
    with open(log_dir / "B.out", "w") as out, open(log_dir / "B.err", "w") as err:
        proc = subprocess.Popen(
            cli_command([*RUN, f"hydra.run.dir={run_dir}"]), cwd=REPO, env=cli_env(), stdout=out, stderr=err
        )
        try:
            deadline = time.monotonic() + KILL_TIMEOUT
            seen = []
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"run B ended (rc={proc.returncode}) before it could be killed; "
                        f"checkpoints seen at steps {seen}; stderr:\n{(log_dir / 'B.err').read_text()[-2000:]}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"no checkpoint to kill at within {KILL_TIMEOUT} s (seen: {seen})")
                ck = read_checkpoint(ckpt_path)
                if ck is not None:
                    if not seen or seen[-1] != ck["step"]:
                        seen.append(ck["step"])
                    if should_kill(ck):
                        proc.send_signal(signal.SIGKILL)
                        break
                time.sleep(0.01)
        finally:
            if proc.poll() is None and proc.returncode is None:
                proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"run B was not killed by SIGKILL: rc={proc.returncode}"
    assert not (run_dir / "summary.json").exists(), (
        f"run B had already finished when it was killed (checkpoints seen at steps {seen}): give it a longer budget"
    )
    assert not (run_dir / "predictions.h5").exists()
    return ck


def resume(run_dir: Path, killed: dict, lo: int, hi: int) -> None:
    proc = run_cli([*RUN, "trainer.resume=true", f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, explain(proc)
    m = re.search(r"resuming at step (\d+)", proc.stdout + proc.stderr)
    assert m, f"the resumed run does not say where it resumes:\n{explain(proc)}"
    step = int(m.group(1))
    # it resumed from the checkpoint we saw, or (if one was written between our read and
    # the kill) the next one, which must still be in the phase under test
    assert step >= killed["step"], (step, killed["step"])
    assert lo <= step < hi, f"resumed at step {step}, outside the phase under test [{lo}, {hi})"


def assert_same_run(a: Path, b: Path) -> None:
    rows_a, rows_b = read_rows(a), read_rows(b)
    assert rows_a and rows_a[0].keys() == rows_b[0].keys()
    assert [r["step"] for r in rows_b] == [r["step"] for r in rows_a], "logged steps differ"
    for ra, rb in zip(rows_a, rows_b):
        for col in ra:
            if col == "time_s":
                continue
            va, vb = ra[col], rb[col]
            if col == "phase" or va == "" or vb == "":
                assert va == vb, f"step {ra['step']} {col}: {va!r} != {vb!r}"
            else:
                assert math.isclose(float(va), float(vb), rel_tol=1e-12, abs_tol=0.0), (
                    f"step {ra['step']} {col}: uninterrupted {va} != resumed {vb}"
                )

    with h5py.File(a / "predictions.h5", "r") as ha, h5py.File(b / "predictions.h5", "r") as hb:
        assert sorted(ha["pred"]) == sorted(hb["pred"]) == ["h_abs", "u", "v"]
        for f in ha["pred"]:
            np.testing.assert_allclose(
                hb[f"pred/{f}"][()], ha[f"pred/{f}"][()], rtol=1e-12, atol=0, err_msg=f"/pred/{f}"
            )
        assert int(ha.attrs["steps"]) == int(hb.attrs["steps"])

    with h5py.File(a / "ntk.h5", "r") as ha, h5py.File(b / "ntk.h5", "r") as hb:
        assert sorted(ha) == sorted(hb) and len(ha) == 8
        for t in ha:
            n_updates = (ADAM_STEPS + LBFGS_STEPS - 1) // 25 + 1
            np.testing.assert_array_equal(hb[t]["steps"][()], ha[t]["steps"][()])
            assert ha[t]["steps"].shape == (n_updates,), (t, ha[t]["steps"][()])
            np.testing.assert_allclose(
                hb[t]["eigenvalues"][()], ha[t]["eigenvalues"][()], rtol=1e-10, err_msg=f"ntk.h5 {t}"
            )

    # best.pt is the lowest-training-loss checkpoint of the whole run, resumed or not
    best_a, best_b = (torch.load(d / "checkpoints" / "best.pt", weights_only=True) for d in (a, b))
    assert best_b["step"] == best_a["step"] and best_b["best_score"] == best_a["best_score"]
    for name, tensor in best_a["model"].items():
        assert torch.equal(best_b["model"][name], tensor), f"best.pt {name}"

    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    assert sb["status"] == sa["status"] == "completed"
    assert sb["steps"] == sa["steps"]
    assert sorted(sb["final"]) == sorted(sa["final"])
    for k, v in sa["final"].items():
        assert math.isclose(sb["final"][k], v, rel_tol=1e-12, abs_tol=0.0), (k, v, sb["final"][k])


def test_resume_after_sigkill_in_lbfgs_phase(run_a, tmp_path):
    run_b = tmp_path / "B"
    killed = kill_when(run_b, lambda ck: ck["step"] >= ADAM_STEPS + 20, tmp_path)
    assert killed["phase"] == 1, f"killed at step {killed['step']} in phase {killed['phase']}, not L-BFGS"
    assert killed["optimizer"]["state"], "the L-BFGS checkpoint holds no optimizer state"
    # the killed run logged rows past its checkpoint or not; either way the resumed file is clean
    resume(run_b, killed, lo=ADAM_STEPS, hi=ADAM_STEPS + LBFGS_STEPS)
    assert_same_run(run_a, run_b)


@pytest.mark.slow  # make test-all; in the default suite: a SIGKILL above, Adam-phase resumes in
# test_objective_unknowns.py, test_sampling_rad.py and test_training_compiled.py (each against its uninterrupted run)
def test_resume_after_sigkill_in_adam_phase(run_a, tmp_path):
    run_b = tmp_path / "B"
    killed = kill_when(run_b, lambda ck: 20 <= ck["step"] < ADAM_STEPS, tmp_path)
    assert killed["phase"] == 0
    resume(run_b, killed, lo=20, hi=ADAM_STEPS)
    assert_same_run(run_a, run_b)


def test_smoke_run_extended_by_resume_with_a_larger_cap(run_a, tmp_path):
    """A run capped by trainer.max_steps, resumed without the cap, ends as the full run."""
    run_b = tmp_path / "B"
    first = run_cli([*RUN, "trainer.max_steps=140", f"hydra.run.dir={run_b}"])
    assert first.returncode == 0, explain(first)
    assert json.loads((run_b / "summary.json").read_text())["steps"] == 140
    more = run_cli([*RUN, "trainer.resume=true", f"hydra.run.dir={run_b}"])
    assert more.returncode == 0, explain(more)
    assert "resuming at step 140" in more.stdout + more.stderr
    assert_same_run(run_a, run_b)
    # the run directory names the command that gives this run fresh: the uncapped one
    assert yaml.safe_load((run_b / "overrides.yaml").read_text()) == eager(RUN)
    assert yaml.safe_load((run_b / "config.yaml").read_text())["trainer"]["max_steps"] is None
