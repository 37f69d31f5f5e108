"""benchmarks/reproduce.py's smoke suite covers every paper experiment with a check that can fail
(the suite itself runs in CI as `make reproduce-smoke`)."""

from __future__ import annotations

import math

from helpers import load_script


def _reproduce():
    return load_script("reproduce")


def test_every_experiment_has_a_smoke_case_and_every_case_a_check():
    r = _reproduce()
    assert {c.experiment or name for name, c in r.SMOKE.items()} == set(r.experiments())
    baselines = {b for c in r.SMOKE.values() for b in r.baselines(c)}
    assert baselines <= set(r.SMOKE)
    for name, case in r.SMOKE.items():
        checked = any(x is not None for x in (case.max_l2, case.max_unknown_error, case.baseline)) or case.same_as
        assert checked or name in baselines, name
        assert all("=" in o for o in case.overrides), name


def test_smoke_checks_fail_what_they_should():
    r = _reproduce()
    ok = {
        "holl_sip_synthetic": {"name": "holl_sip_synthetic", "metric": "l2/x", "value": 0.05, "unknowns": {}},
        "holl_sip_synthetic (adam)": {
            "name": "holl_sip_synthetic (adam)",
            "metric": "l2/x",
            "value": 0.6,
            "unknowns": {},
        },
    }
    assert all(passed for _, passed in r.smoke_checks("holl_sip_synthetic", ok))
    # SIP no better than Adam (a broken SIP): fails; a diverged (NaN) run fails; a failed run fails
    for value in (0.5, math.nan):
        bad = dict(ok, holl_sip_synthetic=dict(ok["holl_sip_synthetic"], value=value))
        assert not all(passed for _, passed in r.smoke_checks("holl_sip_synthetic", bad))
    failed = dict(ok, holl_sip_synthetic={"name": "holl_sip_synthetic", "error": "boom", "time": 1.0})
    assert r.smoke_checks("holl_sip_synthetic", failed) == [("run failed: boom", False)]
    # MscaleDNN must beat both baselines: the plain MLP and the same sin network with one scale
    fit = {
        n: {"name": n, "metric": "test_loss", "value": v, "unknowns": {}}
        for n, v in (("mscale_fit_1d", 0.01), ("mscale_fit_1d (mlp)", 0.8), ("mscale_fit_1d (one scale)", 0.5))
    }
    assert [p for _, p in r.smoke_checks("mscale_fit_1d", fit)] == [True, True]
    fit["mscale_fit_1d (one scale)"]["value"] = 0.05  # the scales add nothing: fails
    assert [p for _, p in r.smoke_checks("mscale_fit_1d", fit)] == [True, False]
    inverse = {
        "raissi_burgers_inverse": {
            "name": "raissi_burgers_inverse",
            "metric": "l2/u",
            "value": 0.1,
            "unknowns": {"lambda1": 0.01, "nu": 0.22},  # nu untrained: exp(-6) is 22 % off
        }
    }
    assert [p for _, p in r.smoke_checks("raissi_burgers_inverse", inverse)] == [True, False]
    inverse["raissi_burgers_inverse"]["unknowns"] = {"lambda1": 0.2, "nu": 0.05}
    assert [p for _, p in r.smoke_checks("raissi_burgers_inverse", inverse)] == [False, True]


def test_a_case_that_is_another_cases_run_is_checked_by_composition(monkeypatch):
    """jaxpi_wave at the CPU sizes composes to jaxpi_wave_cpu's smoke run key for key, so it is not
    trained twice; at other sizes the check names the first key that differs, and fails."""
    r = _reproduce()
    assert r.SMOKE["jaxpi_wave"].same_as == "jaxpi_wave_cpu"
    same = r.same_run("jaxpi_wave")
    assert same["differs"] == []
    assert [p for _, p in r.smoke_checks("jaxpi_wave", {"jaxpi_wave": same})] == [True]
    monkeypatch.setitem(r.SMOKE, "jaxpi_wave", r.Smoke(["optimizer.phases.0.steps=500"], same_as="jaxpi_wave_cpu"))
    other = r.same_run("jaxpi_wave")
    assert other["differs"] == ["equation.points.residual"]
    (what, passed), *_ = r.smoke_checks("jaxpi_wave", {"jaxpi_wave": other})
    assert not passed and "equation.points.residual" in what
