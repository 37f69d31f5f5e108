"""The runner's choices over a whole run: best.pt by the unweighted sum of the fit terms, and the CPU
thread count set, recorded in summary.json and part of the config hash that a resume checks."""

from __future__ import annotations

import json

import torch

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]
WAVE = ["equation=wave", "equation.points.initial=5", "equation.points.boundary=4", "equation.points.residual=9"]


def test_best_checkpoint_is_chosen_by_the_unweighted_sum_of_the_terms(tmp_path):
    """With NTK weights that change every 2 steps the weighted loss is not comparable across
    updates: best.pt holds the step whose unweighted fit terms sum lowest."""
    t = build_task(
        [*TINY, *WAVE, "weighting=ntk", "weighting.update_every=2", "optimizer=adam"]
        + ["optimizer.phases.0.steps=40", "optimizer.phases.0.lr=0.02", "trainer.log_every=1"]
        + ["trainer.checkpoint_every=1", "trainer.eval_every=40"]
    )
    run_task(t, tmp_path / "run")
    rows = read_rows(tmp_path / "run")
    terms = t.objective.terms
    score = {int(r["step"]): sum(float(r[f"loss/{k}"]) for k in terms) for r in rows}
    weighted = {int(r["step"]): float(r["loss"]) for r in rows}
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.pt", weights_only=False)
    assert best["step"] == min(score, key=score.get)
    assert min(score, key=score.get) != min(weighted, key=weighted.get)  # else the test shows nothing


def test_threads_are_set_recorded_and_part_of_the_hash(tmp_path):
    run = tmp_path / "run"
    base = ["equation=burgers", "trainer.max_steps=4", "equation.points.residual=50", "model.width=8"]
    # the tests' subprocesses start with OMP_NUM_THREADS=1: the setting must win
    proc = run_cli([*base, "trainer.threads=2", f"hydra.run.dir={run}"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "summary.json").read_text())["threads"] == 2
    before = torch.get_num_threads()
    try:
        t1, t2 = build_task([*base, "trainer.threads=1"]), build_task([*base, "trainer.threads=2"])
        assert (t1.threads, t2.threads) == (1, 2)
        assert t1.config_hash != t2.config_hash
    finally:
        torch.set_num_threads(before)
    # resuming with another thread count is another run: refused, in one line
    proc = run_cli([*base, "trainer.threads=1", "trainer.resume=true", f"hydra.run.dir={run}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, "another config", "CPU threads")
