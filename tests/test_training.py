"""The PINN task's training loop: L-BFGS forgets its curvature history where the points are
resampled."""

from __future__ import annotations

from helpers import build_task, run_task


def test_lbfgs_history_is_cleared_where_points_are_resampled(tmp_path):
    """Curvature pairs of two objectives must not mix: with new points every 5 steps, the
    L-BFGS state at the end holds only the iterations since the last new points."""
    args = [
        "equation=wave",
        "model.width=8",
        "model.depth=2",
        "equation.points.residual=50",
        "optimizer=lbfgs",
        "optimizer.phases.0.steps=10",
        "trainer.log_every=5",
        "trainer.progress=false",
    ]
    fixed = run_task_state(tmp_path / "a", args)
    resampled = run_task_state(tmp_path / "b", [*args, "sampler.resample_every=5"])
    assert fixed == 10 and resampled == 5


def run_task_state(run_dir, args) -> int:
    task = build_task(args)
    run_task(task, run_dir)
    state = task.opt.state[task.opt.param_groups[0]["params"][0]]
    return state["n_iter"]
