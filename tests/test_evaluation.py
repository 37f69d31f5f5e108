"""The evaluation on its own: the metrics (l2, test_loss) and the payload of the exact solution and
of zero against the wave equation's exact solution, and a problem without a reference solution,
predicted on a plain grid."""

from __future__ import annotations

import pytest
from test_objective import WAVE, ExactNet, ZeroNet, problem

from pinnrun.config import ConfigError
from pinnrun.evaluation import Evaluation


def test_evaluation_of_the_exact_solution_and_of_zero():
    name, domain, counts = WAVE
    p = problem(name, domain, counts)
    exact = Evaluation(p, ExactNet(p), test_points=100, seed=3)
    m = exact.metrics()
    assert m["l2/u"] < 1e-14 and m["test_loss"] < 1e-28
    zero = Evaluation(p, ZeroNet(1), test_points=100, seed=3).metrics()
    assert zero["l2/u"] == pytest.approx(1.0, rel=1e-12)  # ||0 - ref|| / ||ref||
    assert zero["test_loss"] > 0.1
    payload, final = exact.payload()
    variables, grid, pred, ref = payload.variables, payload.coordinates, payload.pred, payload.ref
    assert variables == ("t", "x") and pred["u"].shape == ref["u"].shape == (len(grid["t"]), len(grid["x"]))
    assert payload.layout == "grid" and payload.space == ()
    assert final == pytest.approx(m)


def test_evaluation_without_reference_predicts_on_a_plain_grid():
    p = problem("nls", {"t": [0.0, 1.0], "x": [-5.0, 5.0]}, {"initial": 5, "boundary": 5, "residual": 5})
    ev = Evaluation(p, ZeroNet(2))
    assert ev.fields == [] and ev.metrics() == {} and ev.points.shape == (201 * 201, 2)
    with pytest.raises(ConfigError, match="exact solution"):
        Evaluation(p, ZeroNet(2), test_points=10)
