"""Four equations of the PINNacle benchmark (Hao et al. 2024; i207M/PINNacle at 6f8d69c):
Poisson2d-CG (poisson_boltzmann), Heat2d-MS (heat2d_multiscale), PNd (poisson_nd) and Heat2d-LT
(heat_longtime).

The analytic ones are checked on their exact solutions: every condition vanishes at the points the
sampler draws, a perturbed solution fails the residual. The ones with a COMSOL reference are checked
on the shared copy of the file (skipped where ../shared/pinnacle is absent): the facts typed from
PINNacle's source and the file (its rows, the Dirichlet values on its boundary nodes, the initial
state), then the PDE residual itself, with a local polynomial (Poisson2d-CG) or a sine series in
space and a line in time (Heat2d-LT) of the reference values standing in for the network so that
the project's derivative engine takes the derivatives: small with PINNacle's constants, large with
wrong ones. Last, a short real training run of one of them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from scipy.spatial import cKDTree

from pinnrun.config import SamplerMethod
from pinnrun.derivatives import Derivatives
from pinnrun.reference import PointReference
from pinnrun.sampling import PointSets

from helpers import compose_config, read_rows, run_task
from helpers import equation as problem

CONF = Path(__file__).resolve().parents[1] / "conf" / "equation"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"

#: equation -> (variables, conditions in PINNacle's loss order, PINNacle's file or "")
EQUATIONS = {
    "poisson_boltzmann": (("x", "y"), ("residual", "outer", "holes"), "poisson_boltzmann2d.dat"),
    "heat2d_multiscale": (("x", "y", "t"), ("residual", "initial", "boundary"), ""),
    "poisson_nd": (("x1", "x2", "x3", "x4", "x5"), ("residual", "boundary"), ""),
    "heat_longtime": (("x", "y", "t"), ("residual", "initial", "boundary"), "heat_longtime.dat"),
}
ANALYTIC = ["heat2d_multiscale", "poisson_nd"]


@pytest.fixture(scope="module")
def reference_of(shared):
    """``reference_of(name)``: (the problem pointed at the shared file, the reference it reads), once."""
    cache = {}

    def get(name: str):
        if name not in cache:
            p = problem(name)
            p.reference_file = str(shared(EQUATIONS[name][2]))
            cache[name] = (p, p.reference())
        return cache[name]

    return get


def sampled(p, condition: str, n: int = 400) -> torch.Tensor:
    """``n`` points the sampler draws for ``condition`` (float64, Sobol)."""
    counts = {c: n if c == condition else 0 for c in p.conditions()}
    return PointSets(p, counts, SamplerMethod.sobol, {}, 0, 0, torch.device("cpu"), torch.float64).at(0)[condition]


def residual_at(p, condition: str, net, points: torch.Tensor) -> dict[str, np.ndarray]:
    """The residual of ``condition`` at ``points``, ``net`` standing in for the network."""
    cond = p.conditions()[condition]
    d = Derivatives(net, points, p.variables, p.outputs, p.space if cond.on else ())
    return {k: r.detach().numpy() for k, r in cond.residual(d).items()}


def worst(p, condition: str, net, n: int = 400) -> float:
    """max |residual| of ``condition`` at ``n`` sampled points."""
    return max(np.abs(r).max() for r in residual_at(p, condition, net, sampled(p, condition, n)).values())


def rms(a) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


# -- what each config builds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_each_config_builds_the_pinnacle_problem_with_one_condition_per_loss_term(name):
    variables, conditions, file = EQUATIONS[name]
    p = problem(name)
    assert p.variables == variables and p.outputs == p.fields == ("u",)
    assert tuple(p.conditions()) == conditions  # PINNacle's loss order (pde first)
    assert all(cond.components == ("u",) for cond in p.conditions().values())
    assert p.p == p.params  # the YAML's constants are the defaults, PINNacle's
    assert p.has_exact() == (name in ANALYTIC)
    assert p.reference_file == (f"pinnacle/{file}" if file else "")
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    assert set(cfg.points) == set(conditions) and all(0 < n <= 4000 for n in cfg.points.values())


def test_the_domains_are_pinnacles():
    assert problem("poisson_nd").domain == {f"x{i}": (0.0, 1.0) for i in range(1, 6)}
    assert problem("heat2d_multiscale").domain == {"x": (0.0, 1.0), "y": (0.0, 1.0), "t": (0.0, 5.0)}
    assert problem("heat_longtime").domain == {"x": (0.0, 1.0), "y": (0.0, 1.0), "t": (0.0, 100.0)}
    p = problem("poisson_boltzmann")
    assert p.domain == {"x": (-1.0, 1.0), "y": (-1.0, 1.0)} and p.space == ("x", "y")
    assert p.geometry.parts == ("outer", "holes")
    disks = [((0.5, 0.5), 0.2), ((0.4, -0.4), 0.4), ((-0.2, -0.7), 0.1), ((-0.6, 0.5), 0.3)]  # poisson.py:97
    centres = np.array([c for c, _ in disks])
    assert not p.inside(centres).any()
    for (cx, cy), r in disks:  # just inside and just outside each circle (on the side away from the others)
        assert not p.inside(np.array([[cx, cy - 0.99 * r]])).any() and p.inside(np.array([[cx, cy + 1.01 * r]])).all()
    assert p.inside(np.array([[0.0, 0.0], [-0.99, -0.99], [0.99, 0.99]])).all()
    assert not p.inside(np.array([[1.01, 0.0], [0.0, -1.01]])).any()


# -- the analytic equations: Heat2d-MS and PNd -----------------------------------------------------


@pytest.mark.parametrize("name", ANALYTIC)
def test_the_exact_solution_meets_every_condition_and_a_perturbed_one_fails_the_residual(name):
    p = problem(name)
    exact = p.exact_net()
    for c in p.conditions():
        assert worst(p, c, exact) < 1e-9, c
    lo, hi = torch.tensor(p.lower, dtype=torch.float64), torch.tensor(p.upper, dtype=torch.float64)

    def perturbed(q):  # zero on the box's boundary, not a solution inside
        s = (q - lo) / (hi - lo)
        return exact(q) + 1e-2 * torch.prod(torch.sin(math.pi * s), 1, keepdim=True) * torch.cos(3 * s.sum(1, True))

    assert worst(p, "residual", perturbed) > 1e-3
    assert worst(p, "boundary", perturbed) < 1e-9


def test_heat2d_multiscale_is_pinnacles_single_decaying_mode():
    p = problem("heat2d_multiscale")
    # heat.py:76-77, 100: (1/(500 pi)^2) (20 pi)^2 + (1/pi^2) pi^2 = 400/250000 + 1
    assert p.decay == pytest.approx(1.0016, rel=1e-12)
    x, y = torch.rand(200, dtype=torch.float64), torch.rand(200, dtype=torch.float64)
    ic = torch.sin(20 * math.pi * x) * torch.sin(math.pi * y)
    for t in (0.0, 2.5, 5.0):
        u = p.exact({"x": x, "y": y, "t": torch.full_like(x, t)})["u"]
        assert torch.allclose(u, ic * math.exp(-1.0016 * t), atol=1e-14)
    # the initial points lie at t = 0, the boundary points on the four edges, at times over [0, 5]
    init = sampled(p, "initial").numpy()
    assert (init[:, 2] == 0).all() and init[:, :2].min() >= 0 and init[:, :2].max() <= 1
    edge = sampled(p, "boundary").numpy()
    on_edge = np.isclose(edge[:, :2], 0) | np.isclose(edge[:, :2], 1)
    assert on_edge.any(1).all() and on_edge.any(0).all() and np.ptp(edge[:, 2]) > 4
    # the initial condition is u = sin(20 pi x) sin(pi y) itself: a zero initial state fails it
    assert worst(p, "initial", lambda q: 0 * q[:, :1]) > 0.9


def test_heat2d_multiscale_reference_is_the_exact_solution_on_a_grid_that_resolves_the_x_mode():
    p = problem("heat2d_multiscale")
    grid, ref = p.reference()
    assert list(grid) == ["x", "y", "t"] and {v: len(a) for v, a in grid.items()} == {"x": 201, "y": 21, "t": 26}
    assert ref["u"].shape == (201, 21, 26)
    assert ref["u"][:, :, 0].max() == pytest.approx(1, abs=1e-12)  # the peaks of sin(20 pi x) sin(pi y) are grid points
    assert np.abs(ref["u"][:, :, -1]).max() == pytest.approx(math.exp(-5 * 1.0016), rel=1e-2)


def test_poisson_nd_boundary_covers_the_ten_faces_and_the_source_is_minus_the_laplacian():
    p = problem("poisson_nd")
    pts = sampled(p, "boundary", 1000).numpy()
    lower, upper = np.isclose(pts, 0), np.isclose(pts, 1)
    assert (lower | upper).any(1).all()  # every point on some face
    assert lower.sum(0).min() > 50 and upper.sum(0).min() > 50  # all ten faces, about a tenth each
    inner = sampled(p, "residual").numpy()
    assert inner.min() > 0 and inner.max() < 1
    # exact u = sum_i sin(pi x_i / 2) (poisson.py:303); f = (pi^2/4) sum_i sin(pi x_i / 2) (poisson.py:294)
    ones = {v: torch.ones(1, dtype=torch.float64) for v in p.variables}
    assert p.exact(ones)["u"].item() == pytest.approx(5.0)
    assert p.source(ones).item() == pytest.approx(5 * math.pi**2 / 4)

    def harmonic(q):  # the exact solution plus a harmonic term: the residual stays 0, the boundary misfit not
        return p.exact_net()(q) + q[:, :1] * q[:, 1:2] - q[:, 2:3] * q[:, 4:5]

    assert worst(p, "residual", harmonic) < 1e-9 and worst(p, "boundary", harmonic) > 0.5
    grid, ref = p.reference()
    assert list(grid) == list(p.variables) and ref["u"].shape == (9,) * 5
    assert ref["u"].max() == pytest.approx(5.0) and ref["u"].min() == 0


# -- Poisson2d-CG: the residual and the COMSOL reference --------------------------------------------


def test_poisson_boltzmann_residual_is_pinnacles_screened_poisson_equation():
    p = problem("poisson_boltzmann")
    assert p.p == {"k": 8.0, "mu1": 1.0, "mu2": 4.0, "a": 10.0} and (p.outer_value, p.hole_value) == (0.2, 1.0)
    # f = A (mu1^2 + x^2 + mu2^2 + y^2) sin(mu1 pi x) sin(mu2 pi y) (poisson.py:115-118)
    half = torch.tensor([0.5], dtype=torch.float64)
    assert p.source(half, half / 4).item() == pytest.approx(10 * (1 + 0.25 + 16 + 0.015625))
    # for u = c sin(pi x) sin(4 pi y): -(u_xx + u_yy) + 64 u = (17 pi^2 + 64) u, so the residual is that minus f
    pts = sampled(p, "residual").numpy()
    x, y = pts[:, 0], pts[:, 1]
    c = 0.3
    u = c * np.sin(math.pi * x) * np.sin(4 * math.pi * y)
    f = 10 * (17 + x**2 + y**2) * np.sin(math.pi * x) * np.sin(4 * math.pi * y)

    def mode(q):
        return c * torch.sin(math.pi * q[:, :1]) * torch.sin(4 * math.pi * q[:, 1:2])

    res = residual_at(p, "residual", mode, torch.as_tensor(pts))
    assert np.abs(res["u"] - ((17 * math.pi**2 + 64) * u - f)).max() < 1e-9


def test_poisson_boltzmann_boundary_points_lie_on_the_square_and_on_all_four_circles():
    p = problem("poisson_boltzmann")
    outer, holes = sampled(p, "outer").numpy(), sampled(p, "holes").numpy()
    assert (np.isclose(np.abs(outer[:, :2]), 1).any(1)).all()
    disks = np.array([[0.5, 0.5, 0.2], [0.4, -0.4, 0.4], [-0.2, -0.7, 0.1], [-0.6, 0.5, 0.3]])
    gap = np.abs(np.linalg.norm(holes[:, None, :2] - disks[None, :, :2], axis=2) - disks[None, :, 2])
    assert gap.min(1).max() < 1e-9 and (np.bincount(gap.argmin(1), minlength=4) > 5).all()
    # the outward normal of the domain points into each hole
    nearest = disks[gap.argmin(1)]
    radial = (holes[:, :2] - nearest[:, :2]) / nearest[:, 2:]
    assert np.allclose(holes[:, 2:], -radial, atol=1e-9)
    assert worst(p, "outer", lambda q: 0.2 + 0 * q[:, :1]) < 1e-12
    assert worst(p, "holes", lambda q: 1 + 0 * q[:, :1]) < 1e-12


def lookup(p, ref: PointReference):
    """A 'network' that returns the reference values at reference points (and fails elsewhere)."""
    tree = cKDTree(ref.points)
    values = torch.as_tensor(ref.fields["u"])[:, None]

    def net(points: torch.Tensor) -> torch.Tensor:
        gap, idx = tree.query(points.detach().numpy())
        assert gap.max() < 1e-12, f"not a reference point: {points[int(gap.argmax())].tolist()}"
        return values[idx]

    return net


def test_poisson_boltzmann_reference_holds_the_dirichlet_values_on_its_boundary_nodes(reference_of):
    p, ref = reference_of("poisson_boltzmann")
    assert isinstance(ref, PointReference) and ref.variables == ("x", "y")
    assert ref.points.shape == (3236, 2) and p.inside(ref.points, tol=1e-6).all()
    u = ref.fields["u"]
    assert rms(u) == pytest.approx(0.5612, abs=1e-3) and u.min() == pytest.approx(-0.704, abs=1e-3)
    for part, count in (("outer", 200), ("holes", 172)):
        where = p.geometry.on_boundary(ref.points, tol=1e-6, part=part)
        assert where.sum() == count, part
        pts = ref.points[where]
        x = torch.as_tensor(np.concatenate([pts, p.geometry.normal(pts, tol=1e-6)], 1))
        res = residual_at(p, part, lookup(p, ref), x)["u"]
        assert np.abs(res).max() < 1e-12, part  # u = 0.2 on the square, 1 on the circles
    # and the parts are not swapped: the square's value is wrong on every circle node
    assert np.abs(u[p.geometry.on_boundary(ref.points, tol=1e-6, part="holes")] - p.outer_value).min() == 0.8


def local_quartic(points: np.ndarray, values: np.ndarray, neighbours: int = 30):
    """A 'network' that, at each of ``points``, is the least-squares quartic through the values at
    its ``neighbours`` nearest points (evaluated at the same points, in the same order)."""
    powers = [(i, j) for i in range(5) for j in range(5 - i)]
    _, nb = cKDTree(points).query(points, k=neighbours)
    z = points[nb] - points[:, None, :]  # (n, k, 2)
    h = np.abs(z).max(axis=(1, 2))[:, None, None]
    basis = np.stack([(z[..., 0:1] / h) ** a * (z[..., 1:2] / h) ** b for a, b in powers], -1)[..., 0, :]
    coef = np.einsum("nck,nk->nc", np.linalg.pinv(basis), values[nb])
    coef = torch.as_tensor(coef / np.stack([h[:, 0, 0] ** (a + b) for a, b in powers], 1))
    centre = torch.as_tensor(points)

    def net(q: torch.Tensor) -> torch.Tensor:
        d = q - centre
        return sum(coef[:, k] * d[:, 0] ** a * d[:, 1] ** b for k, (a, b) in enumerate(powers))[:, None]

    return net


def test_poisson_boltzmann_residual_is_small_on_the_reference_and_not_with_other_constants(reference_of):
    """-Laplace u + k^2 u - f at the interior nodes, the Laplacian of a local quartic fit of the
    COMSOL values: a few tenths against |f| ~ 80, and tens with another k, A or mu."""
    p, ref = reference_of("poisson_boltzmann")
    interior = ~p.geometry.on_boundary(ref.points, tol=1e-6)
    pts = torch.as_tensor(ref.points)
    net = local_quartic(ref.points, ref.fields["u"])
    scale = rms(p.source(pts[:, 0], pts[:, 1]).numpy())
    assert 80 < scale < 85

    def median(q) -> float:
        return float(np.median(np.abs(residual_at(q, "residual", net, pts)["u"][interior])))

    assert median(p) < 0.01 * scale
    for wrong in ({"k": 0.0}, {"k": 6.0}, {"a": 8.0}, {"mu1": 4.0, "mu2": 1.0}):
        assert median(p.with_params(wrong)) > 0.05 * scale, wrong


# -- Heat2d-LT: the COMSOL reference --------------------------------------------------------------


def test_heat_longtime_reference_is_192_nodes_at_501_times_starting_from_the_initial_state(reference_of):
    p, ref = reference_of("heat_longtime")
    assert isinstance(ref, PointReference) and ref.variables == ("x", "y", "t")
    assert ref.points.shape == (96192, 3) and p.inside(ref.points, tol=1e-6).all()
    x, y, t = ref.points.T
    assert np.allclose(np.unique(t), np.linspace(0, 100, 501)) and len(np.unique(ref.points[:, :2], axis=0)) == 192
    # the cell centres of a 16 x 12 grid: none on the boundary
    assert np.allclose(np.unique(x), (np.arange(16) + 0.5) / 16)
    assert np.allclose(np.unique(y), (np.arange(12) + 0.5) / 12)
    assert rms(ref.fields["u"]) == pytest.approx(1.0662, abs=1e-3)
    # at t = 0 the file holds sin(4 pi x) sin(3 pi y) (heat.py:211-212, 230-231) to 7e-4
    start = ref.points[t == 0]
    res = residual_at(p, "initial", lookup(p, ref), torch.as_tensor(start))["u"]
    assert len(res) == 192 and np.abs(res).max() < 1e-3 and np.abs(ref.fields["u"][t == 0]).max() > 0.85


def test_heat_longtime_residual_over_the_first_step_is_small_and_not_with_other_constants(reference_of):
    """The residual at the 192 nodes at t = 0.1, the reference written as a sine series in x and y
    (exact at the nodes, 0 on the edges) and linear in t between t = 0 and 0.2: about a sixth of
    the source's size (the secant over a step of 0.2), three times larger with another m1, m2 or k."""
    p, ref = reference_of("heat_longtime")
    t = ref.points[:, 2]
    nodes = ref.points[t == 0, :2]
    xs, ys = np.unique(nodes[:, 0]), np.unique(nodes[:, 1])
    sx = np.sin(math.pi * np.outer(xs, np.arange(1, 17)))
    sy = np.sin(math.pi * np.outer(ys, np.arange(1, 13)))

    def coefficients(step: int) -> torch.Tensor:
        rows = np.isclose(t, 0.2 * step)
        u = np.zeros((16, 12))
        u[np.searchsorted(xs, ref.points[rows, 0]), np.searchsorted(ys, ref.points[rows, 1])] = ref.fields["u"][rows]
        return torch.as_tensor(np.linalg.solve(sx, np.linalg.solve(sy, u.T).T))

    b0, b1 = coefficients(0), coefficients(1)
    assert np.abs(sx @ b0.numpy() @ sy.T - ref.fields["u"][t == 0].reshape(16, 12, order="F")).max() < 1e-12

    def net(q: torch.Tensor) -> torch.Tensor:
        modes_x = torch.sin(math.pi * q[:, :1] * torch.arange(1, 17))
        modes_y = torch.sin(math.pi * q[:, 1:2] * torch.arange(1, 13))
        s = (q[:, 2] / 0.2)[:, None, None]
        return torch.einsum("pn,pnm,pm->p", modes_x, (1 - s) * b0 + s * b1, modes_y)[:, None]

    pts = torch.as_tensor(np.c_[nodes, np.full(len(nodes), 0.1)])
    d = Derivatives(net, pts, p.variables, p.outputs)
    scale = rms(p.source(d["u"], *(d.input(v) for v in p.variables)).detach().numpy())
    assert scale > 1

    def size(q) -> float:
        return rms(residual_at(q, "residual", net, pts)["u"])

    assert size(p) < 0.25 * scale
    for wrong in ({"m1": 2.0}, {"m2": 3.0}, {"k": 2.0}):
        assert size(p.with_params(wrong)) > 0.5 * scale, wrong


def test_heat_longtime_without_its_file_predicts_on_a_coarse_grid():
    p = problem("heat_longtime")
    p.reference_file = "pinnacle/not-placed-heat_longtime.dat"
    grid, ref = p.reference()
    assert ref == {} and {v: len(a) for v, a in grid.items()} == {"x": 33, "y": 25, "t": 101}
    assert all(a[0] == p.domain[v][0] and a[-1] == p.domain[v][1] for v, a in grid.items())
    # the conditions: zero on the edges, the initial state at t = 0
    assert worst(p, "boundary", lambda q: 0 * q[:, :1]) == 0
    assert worst(p, "initial", lambda q: p.initial_value(q[:, :1], q[:, 1:2])) == 0
    assert worst(p, "initial", lambda q: 0 * q[:, :1]) > 0.9


# -- a real run ---------------------------------------------------------------------------------------


def test_poisson_nd_trains_end_to_end(tmp_path):
    run = tmp_path / "run"
    summary = run_task(
        [
            "equation=poisson_nd",
            "optimizer=adam",
            "model.width=16",
            "model.depth=2",
            "trainer.max_steps=30",
            "trainer.compile=false",
            "trainer.plots=false",
            "trainer.progress=false",
            "trainer.log_every=10",
            "trainer.eval_every=30",
            "equation.points.residual=128",
            "equation.points.boundary=64",
        ],
        run,
    )
    assert summary["status"] == "completed" and summary["steps"] == 30 and summary["equation"] == "poisson_nd"
    rows = read_rows(run)
    assert [int(r["step"]) for r in rows] == [10, 20, 30]
    assert {"loss/residual_u", "loss/boundary_u", "l2/u"} <= set(rows[0])
    losses = [float(r["loss"]) for r in rows]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    assert 0 < summary["final"]["l2/u"] < 2


# -- PINNacle's test points for an exact solution (equation.reference_interior) -------------------


@pytest.mark.parametrize(
    "preset, count, top",
    # uniform_points(2500 if input_dim == 2 else 20000, boundary=False) (src/utils/callbacks.py:136-145):
    # 50 x 50 (the Rectangle over (x, t)), 8 x 8 x 313 (space x time), 8^5 (the cube), 17 x 17 x 71;
    # a space-time domain's times include its end (top: the variables that reach their upper bound)
    [
        ("pinnacle_wave1d_c", 2500, []),
        ("pinnacle_heat2d_ms", 20032, ["t"]),
        ("pinnacle_pnd", 32768, []),
        ("pinnacle_hinv", 20519, ["t"]),
    ],
)
def test_a_preset_with_an_exact_solution_is_evaluated_at_pinnacles_test_points(preset, count, top):
    from pinnrun.problems import build

    p = build(OmegaConf.to_object(compose_config([f"experiment={preset}"])).equation)
    ref = p.reference()
    assert isinstance(ref, PointReference) and ref.points.shape == (count, len(p.variables))
    lo, hi = np.array(p.lower), np.array(p.upper)
    assert (ref.points > lo).all() and (ref.points <= hi).all()
    assert [v for v, reached in zip(p.variables, (ref.points == hi).any(0)) if reached] == top
    exact = p.exact_net()(torch.as_tensor(ref.points))
    np.testing.assert_allclose(ref.fields[p.outputs[0]], exact[:, 0].numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "equation, settings, message",
    [
        ("wave", {"points": -5}, "equation.reference_interior.points: -5; give a positive number"),
        ("wave", {"points": 100, "time": "s"}, "equation.reference_interior.time: 's' is not a variable"),
        ("wave", {"time": "t"}, "equation.reference_interior.points: 0; give a positive number"),
        ("poisson_annulus", {"points": 100}, "equation.reference_interior: the domain is a geometry"),
        ("nls", {"points": 100}, "equation.reference_interior: this equation is compared with the dataset 'nls'"),
        ("heat_longtime", {"points": 100}, "equation.reference_interior: this equation is compared with pinnacle/"),
    ],
)
def test_interior_points_the_equation_cannot_take_are_one_line(equation, settings, message):
    from pinnrun.config import ConfigError, EquationConfig
    from pinnrun.problems import build

    cfg = OmegaConf.merge(
        OmegaConf.structured(EquationConfig),
        OmegaConf.load(CONF / f"{equation}.yaml"),
        {"reference_interior": settings},
    )
    with pytest.raises(ConfigError) as info:
        build(OmegaConf.to_object(cfg))
    assert str(info.value).startswith(message) and "\n" not in str(info.value), str(info.value)


def test_interior_points_on_the_command_line_change_where_the_error_is_taken(tmp_path):
    # the whole run: the predictions file holds the 2500 scattered points, none on the boundary
    import h5py

    summary = run_task(
        [
            "equation=wave",
            "equation.reference_interior.points=2500",
            "model.width=8",
            "model.depth=1",
            "optimizer=adam",
            "optimizer.phases.0.steps=2",
            "trainer.device=cpu",
            "trainer.progress=false",
            "trainer.plots=false",
        ],
        tmp_path / "run",
    )
    assert summary["final"]["l2/u"] > 0.1  # two steps of a tiny network: far from the solution
    with h5py.File(tmp_path / "run" / "predictions.h5") as f:
        assert f.attrs["layout"] == "points" and f["ref/u"].shape == (2500,)
        t = f["points/t"][()]
        assert t.shape == (2500,) and 0 < t.min() and t.max() < 1
