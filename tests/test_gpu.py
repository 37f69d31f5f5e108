"""CUDA: device handling, and the compiled step and the step in CUDA graphs against the eager
step. Marked ``gpu``; skipped where there is no CUDA device (CI has none). Run on a GPU
machine by benchmarks/gpu_check.sh."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_training_compiled import CASES, SMALL, losses_of

from helpers import TINY, build_task, run_task

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def test_a_run_on_cuda_keeps_its_tensors_there(tmp_path):
    task = build_task([*TINY, "trainer.device=cuda"])
    assert task.device.type == "cuda"
    assert all(p.is_cuda for p in task.objective.parameters())
    assert all(p.is_cuda for p in task.points.at(0).values())
    summary = run_task(task, tmp_path / "run")
    assert summary["status"] == "completed" and summary["device"].startswith("cuda")
    assert np.isfinite(summary["final"]["l2/h_abs"])


@pytest.mark.parametrize("graphs", [False, True], ids=["compiled", "graphs"])
@pytest.mark.parametrize("case", ["burgers-mlp", "beam-mlp-lbfgs-float64", "nls-mscale-periodic"])
def test_the_compiled_cuda_step_gives_the_eager_losses(case, graphs):
    overrides = [*SMALL, *CASES[case], "trainer.max_steps=20", "trainer.device=cuda"]
    eager, _ = losses_of(overrides)
    compiled, warnings = losses_of([*overrides, "trainer.compile=true", f"trainer.cuda_graphs={str(graphs).lower()}"])
    assert warnings == [None] * len(compiled), warnings
    rel = np.abs(compiled - eager) / np.abs(eager)
    assert rel.max() < 1e-5, f"differs from eager by {rel.max():.2e} (step {rel.argmax()})"


def test_tf32_is_off_unless_asked_for():
    build_task([*TINY, "trainer.device=cuda"])
    assert not torch.backends.cuda.matmul.allow_tf32
    build_task([*TINY, "trainer.device=cuda", "trainer.tf32=true"])
    assert torch.backends.cuda.matmul.allow_tf32
    build_task([*TINY, "trainer.device=cuda"])
