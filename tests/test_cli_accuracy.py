"""The default run learns the NLS solution as well as the README says.

``pinnrun`` with no overrides (4x64 tanh, 2000 residual points, 500 Adam +
2500 L-BFGS steps) reported a relative L2 error of |h| of 1.635e-2 on the
development machine (2 threads; 1.766e-2 with one); another machine's floating-point order may move it a
little, not by a factor of two. It takes 1.5 to 3.5 minutes on 2 cores, so it runs in
`make test-all` only: in the default suite the compiled step is held to the eager one
(tests/test_training_compiled.py) and training to stated accuracies by shorter runs
(tests/test_problems_user.py, tests/test_problems_fitting.py), and CI's `make reproduce-smoke` trains the
NLS problem with Adam then L-BFGS to a bound (raissi_nls).
"""

from __future__ import annotations

import csv
import json

import pytest

from helpers import explain, run_cli

README_L2 = 1.64e-2


@pytest.mark.slow
def test_default_run_reaches_the_readme_accuracy(tmp_path):
    """The default run as README's `make run` trains it: with the compiled step."""
    run_dir = tmp_path / "default"
    proc = run_cli([f"hydra.run.dir={run_dir}", "trainer.progress=false", "trainer.compile=true"], timeout=900)
    assert proc.returncode == 0, explain(proc)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 3000, summary
    l2 = summary["final"]["l2/h_abs"]
    assert l2 < 2 * README_L2, f"default run: l2/h_abs {l2:.3e}, README states {README_L2:.2e}"

    with open(run_dir / "metrics.csv", newline="") as f:
        evaluated = [(int(r["step"]), r["phase"], float(r["l2/h_abs"])) for r in csv.DictReader(f) if r["l2/h_abs"]]
    assert [s for s, _, _ in evaluated] == list(range(500, 3001, 500))
    # Adam alone leaves the error high; L-BFGS brings it down by more than ten times
    (_, phase0, after_adam), (_, phase_end, final) = evaluated[0], evaluated[-1]
    assert (phase0, phase_end) == ("adam", "lbfgs")
    assert after_adam > 0.1 and final < after_adam / 10, evaluated
