"""Samplers: bounds, counts, fixed variables, seeding, resampling."""

import math

import numpy as np
import pytest
import torch

from pinnrun.config import ConfigError, EquationConfig, SamplerMethod
from pinnrun.problems import build
from pinnrun.sampling import PointSets, sample_box

DOMAIN = {"t": [0.0, math.pi / 2], "x": [-5.0, 5.0]}
COUNTS = {"initial": 50, "boundary": 40, "residual": 300}


def point_sets(method=SamplerMethod.lhs, seed=0, resample_every=0, per_condition=None, counts=COUNTS):
    p = build(EquationConfig(name="nls", domain=DOMAIN, points={}))
    return PointSets(p, counts, method, per_condition or {}, resample_every, seed, torch.device("cpu"), torch.float64)


@pytest.mark.parametrize("method", list(SamplerMethod))
def test_points_inside_domain_with_fixed_variables(method):
    pts = point_sets(method).at(0)
    res = pts["residual"].numpy()
    assert (res[:, 0] >= 0).all() and (res[:, 0] <= math.pi / 2).all()
    assert (res[:, 1] >= -5).all() and (res[:, 1] <= 5).all()
    assert (pts["initial"][:, 0] == 0).all()  # t = 0
    assert (pts["boundary"][:, 1] == -5).all()  # x = lower bound
    if method not in (SamplerMethod.grid, SamplerMethod.linspace):
        assert [len(pts[c]) for c in COUNTS] == list(COUNTS.values())
    else:  # m = round(n ** (1/k)) per axis
        assert len(pts["residual"]) == round(300**0.5) ** 2 and len(pts["initial"]) == 50


def test_lhs_is_stratified():
    x = sample_box(SamplerMethod.lhs, 100, [0.0, -1.0], [1.0, 1.0], np.random.default_rng(3))
    for col, (lo, hi) in zip(x.T, [(0, 1), (-1, 1)]):
        strata = np.floor((col - lo) / (hi - lo) * 100).astype(int)
        assert sorted(strata) == list(range(100))  # one point in each of the 100 strata


def test_sobol_and_uniform_differ_from_lhs():
    def rng():
        return np.random.default_rng(0)

    a = sample_box(SamplerMethod.lhs, 64, [0, 0], [1, 1], rng())
    b = sample_box(SamplerMethod.sobol, 64, [0, 0], [1, 1], rng())
    c = sample_box(SamplerMethod.uniform, 64, [0, 0], [1, 1], rng())
    assert not np.allclose(a, b) and not np.allclose(a, c)


def test_same_seed_same_points_other_seed_other_points():
    a, b, c = point_sets(seed=0).at(0), point_sets(seed=0).at(0), point_sets(seed=1).at(0)
    for k in COUNTS:
        assert torch.equal(a[k], b[k])
        assert not torch.equal(a[k], c[k])


def test_resampling_schedule_is_a_function_of_the_step():
    s = point_sets(resample_every=10)
    first = {k: v.clone() for k, v in s.at(0).items()}
    assert torch.equal(s.at(9)["residual"], first["residual"])
    second = s.at(10)["residual"].clone()
    assert not torch.equal(second, first["residual"])
    fresh = point_sets(resample_every=10)  # a resumed run jumping straight to step 15
    assert torch.equal(fresh.at(15)["residual"], second)


def test_per_condition_method_and_bad_names():
    s = point_sets(per_condition={"boundary": SamplerMethod.grid})
    t = s.at(0)["boundary"][:, 0].numpy()
    assert np.allclose(np.diff(np.sort(t)), (math.pi / 2) / 40)  # evenly spaced cell centres
    with pytest.raises(ConfigError, match="unknown condition"):
        point_sets(per_condition={"nope": SamplerMethod.grid})
    # a fixed grid with both ends (jaxpi's t_star = linspace(0, T, n)): the same points every round
    s = point_sets(
        per_condition={"initial": SamplerMethod.linspace, "boundary": SamplerMethod.linspace}, resample_every=1
    )
    for step in (0, 1, 7):
        x = s.at(step)["initial"][:, 1].numpy()
        np.testing.assert_allclose(x, -5.0 + 10.0 * np.arange(50) / 49, rtol=0, atol=1e-14)
        t = s.at(step)["boundary"][:, 0].numpy()
        np.testing.assert_allclose(t, math.pi / 2 * np.arange(40) / 39, rtol=0, atol=1e-15)
    square = sample_box(SamplerMethod.linspace, 9, [0.0, 10.0], [1.0, 12.0], np.random.default_rng(0))
    assert sorted(map(tuple, square)) == [(a, b) for a in (0.0, 0.5, 1.0) for b in (10.0, 11.0, 12.0)]
    with pytest.raises(ConfigError, match="no point count"):
        point_sets(counts={"initial": 5, "boundary": 5})


# linspace includes each face's ends: the four corners lie on two faces each (checked above)
@pytest.mark.parametrize("method", [m for m in SamplerMethod if m is not SamplerMethod.linspace])
def test_boundary_points_lie_on_the_faces_in_equal_shares(method):
    """Helmholtz: boundary=("x", "y"), the four edges of [-1, 1]^2; wave: x = 0 or 1."""
    p = build(EquationConfig(name="helmholtz", domain={"x": [-1.0, 1.0], "y": [-1.0, 1.0]}, points={}))
    pts = (
        PointSets(p, {"boundary": 400, "residual": 10}, method, {}, 0, 0, torch.device("cpu"), torch.float64)
        .at(0)["boundary"]
        .numpy()
    )
    x, y = pts[:, 0], pts[:, 1]
    faces = [x == -1, x == 1, y == -1, y == 1]
    assert all((x >= -1) & (x <= 1) & (y >= -1) & (y <= 1))
    assert (np.sum(faces, axis=0) >= 1).all(), "a boundary point off the boundary"
    counts = [int(f.sum()) for f in faces]
    assert max(counts) - min(counts) <= 1, counts
    # along its face a point is spread out, not stuck in a corner
    on_left = y[faces[0] & ~faces[2] & ~faces[3]]
    assert on_left.min() < -0.5 and on_left.max() > 0.5

    w = build(EquationConfig(name="wave", domain={"t": [0.0, 1.0], "x": [0.0, 1.0]}, points={}))
    b = (
        PointSets(
            w, {"initial": 4, "boundary": 50, "residual": 4}, method, {}, 0, 0, torch.device("cpu"), torch.float64
        )
        .at(0)["boundary"]
        .numpy()
    )
    assert sorted(set(b[:, 1])) == [0.0, 1.0] and (b[:, 1] == 0).sum() == 25
    assert b[:, 0].min() >= 0 and b[:, 0].max() <= 1 and b[:, 0].std() > 0.2


def test_hammersley_is_the_set_deepxde_and_pinnacle_draw():
    """Point i = 1..n: van der Corput of i in bases 2, 3, ... and i / (n + 1) last (values typed
    from the definition: the radical inverse of 3 in base 2 is 0.11b = 3/4, in base 3 it is 1/9)."""
    from pinnrun.sampling import hammersley

    np.testing.assert_allclose(hammersley(4, 1)[:, 0], [1 / 2, 1 / 4, 3 / 4, 1 / 8])
    np.testing.assert_allclose(
        hammersley(5, 2), [[1 / 2, 1 / 6], [1 / 4, 2 / 6], [3 / 4, 3 / 6], [1 / 8, 4 / 6], [5 / 8, 5 / 6]]
    )
    np.testing.assert_allclose(hammersley(3, 3)[2], [3 / 4, 1 / 9, 3 / 4])
    # scaled into the box, and the same whatever the random state
    a = sample_box(SamplerMethod.hammersley, 7, [0.0, -1.0], [2.0, 1.0], np.random.default_rng(0))
    b = sample_box(SamplerMethod.hammersley, 7, [0.0, -1.0], [2.0, 1.0], np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[0], [1.0, -1.0 + 2 / 8])
