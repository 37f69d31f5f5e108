"""A user's own equation, in a package outside pinnrun, run from the shell.

examples/user_equation (the README's example) is copied to a fresh directory
and run there with the console script: ``pinnrun -cd myconf equation=heat``.
The package is found from the working directory; nothing is installed.
"""

from __future__ import annotations

import json
import shutil

from helpers import REPO, explain, run_many

EXAMPLE = REPO / "examples" / "user_equation"


def test_user_equation_trains_with_plain_and_multiscale_networks(tmp_path):
    work = tmp_path / "project"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__"))
    common = ["-cd", "myconf", "equation=heat", "trainer.progress=false"]
    plain = [*common, "trainer.max_steps=600", f"hydra.run.dir={tmp_path / 'plain'}"]
    mscale = [*common, "model=mscale", "sampler=sobol", "trainer.max_steps=40", f"hydra.run.dir={tmp_path / 'mscale'}"]
    procs = run_many([plain, mscale], cwd=work, script=True)
    for proc in procs:
        assert proc.returncode == 0, explain(proc)
    s = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert s["equation"] == "mypkg.heat:Heat" and s["status"] == "completed"
    # the exact solution the user gave is the reference; 500 Adam + 100 L-BFGS steps gave 5.8e-4
    assert s["final"]["l2/u"] < 5e-3, s["final"]
    m = json.loads((tmp_path / "mscale" / "summary.json").read_text())
    # 40 Adam steps gave 0.222 (0.552 after 10): it trains
    assert m["model"] == "mscale" and m["steps"] == 40 and 0 < m["final"]["l2/u"] < 0.4, m["final"]


def test_user_equation_identifies_its_constant(tmp_path):
    """Inverse problem on the user's equation: kappa from 500 observations of the exact solution."""
    work = tmp_path / "project"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__"))
    args = [
        "-cd",
        "myconf",
        "equation=heat",
        "trainer.progress=false",
        "+equation.unknowns.kappa=0.5",
        "equation.observations.count=500",
        "equation.points.initial=0",
        "equation.points.boundary=0",
        "trainer.max_steps=600",
        f"hydra.run.dir={tmp_path / 'inverse'}",
    ]
    (proc,) = run_many([args], cwd=work, script=True)
    assert proc.returncode == 0, explain(proc)
    u = json.loads((tmp_path / "inverse" / "summary.json").read_text())["unknowns"]["kappa"]
    # from 0.5 to the true 0.1: 500 Adam + 100 L-BFGS steps gave 0.09981 (0.19 %)
    assert u["initial"] == 0.5 and u["true"] == 0.1 and u["rel_error"] < 0.02, u
