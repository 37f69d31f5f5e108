"""The built-in equations on geometries: PINNacle's Poisson2d-C (poisson_holes), NS2d-C (ns_cavity)
and NS2d-CG (ns_backstep) against their reference files, and a 3-D Poisson problem with a spherical
hole (poisson_ball3d) against its exact solution.

For the PINNacle equations the conditions themselves are evaluated on the reference: a "network"
that looks the reference values up at the reference points stands in for the solution, at those
reference points that lie on each condition's parts (with the geometry's normals as their extra
columns), so that a wrong value, part or gauge point shows up as a residual. The PDE residuals are
checked on exact solutions of the PDE (a harmonic function; Kovasznay's flow at Re = 1/nu) and
must fail on wrong ones. Then the task each config builds: its points per condition, the normal
columns of the boundary conditions, and the same loss terms from both derivative engines.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from pinnrun.config import SamplerMethod
from pinnrun.derivatives import Derivatives
from pinnrun.objective import Objective
from pinnrun.reference import PointReference
from pinnrun.sampling import PointSets

from helpers import build_task
from helpers import equation as problem

CONF = Path(__file__).resolve().parents[1] / "conf" / "equation"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"

#: equation -> its PINNacle reference file, and the number of its nodes (grep -vc '^%' <file>)
PINNACLE = {
    "poisson_holes": ("poisson1_cg_data.dat", 1246),
    "ns_cavity": ("lid_driven_a4.dat", 10201),
    "ns_backstep": ("ns_0_obstacle.dat", 12910),
}


def with_reference(name: str, shared):
    """The problem, pointed at the shared copy of its reference file, and that reference as it reads it."""
    p = problem(name)
    p.reference_file = str(shared(PINNACLE[name][0]))
    return p, p.reference()


def lookup(p, ref: PointReference):
    """A 'network' that returns the reference values at reference points (and fails elsewhere)."""
    tree = cKDTree(ref.points)
    values = torch.as_tensor(np.stack([ref.fields[o] for o in p.outputs], 1))

    def net(points: torch.Tensor) -> torch.Tensor:
        gap, idx = tree.query(points.detach().numpy())
        assert gap.max() < 1e-12, f"not a reference point: {points[int(gap.argmax())].tolist()}"
        return values[idx]

    return net


def on_reference(p, ref: PointReference, condition: str) -> dict[str, np.ndarray]:
    """The residual of ``condition`` at the reference points on its parts, the reference as the solution."""
    cond = p.conditions()[condition]
    where = p.geometry.on_boundary(ref.points, tol=1e-6, part=cond.on)
    pts = ref.points[where]
    normals = p.geometry.normal(pts, tol=1e-6)
    x = torch.as_tensor(np.concatenate([pts, normals], 1))
    res = cond.residual(Derivatives(lookup(p, ref), x, p.variables, p.outputs, p.space))
    return {k: r.detach().numpy() for k, r in res.items()}


def at_sampled_points(p, condition: str, net, n: int = 400) -> dict[str, float]:
    """max |residual| of each component of ``condition`` at ``n`` points the sampler draws for it."""
    counts = {c: n if c == condition else 0 for c in p.conditions()}
    pts = PointSets(p, counts, SamplerMethod.sobol, {}, 0, 0, torch.device("cpu"), torch.float64).at(0)[condition]
    cond = p.conditions()[condition]
    res = cond.residual(Derivatives(net, pts, p.variables, p.outputs, p.space if cond.on else ()))
    return {k: r.detach().abs().max().item() for k, r in res.items()}


# -- PINNacle's reference files ------------------------------------------------------------------

#: a point in the domain and points outside it (a hole's centre, past the walls, in the step)
PROBES = {
    "poisson_holes": ([0.0, 0.0], [[0.3, 0.3], [-0.3, -0.25], [0.0, 0.51]]),
    "ns_cavity": ([0.5, 0.5], [[1.01, 0.5], [0.5, -0.01]]),
    "ns_backstep": ([3.0, 1.5], [[1.0, 1.5], [1.99, 1.01], [4.01, 0.5]]),
}
#: the reference points on each boundary part (tol 1e-6; a corner counts on both parts)
ON_PARTS = {
    "poisson_holes": {"outer": 108, "holes": 112},
    "ns_cavity": {"lid": 101, "walls": 301},
    "ns_backstep": {"inlet": 47, "outlet": 68, "walls": 701},
}


@pytest.mark.parametrize("name", sorted(PINNACLE))
def test_the_reference_file_reads_onto_the_problem_and_every_point_lies_in_its_domain(name, shared):
    p, ref = with_reference(name, shared)
    assert isinstance(ref, PointReference) and ref.variables == p.variables == ("x", "y")
    assert ref.points.shape == (PINNACLE[name][1], 2)
    assert set(ref.fields) == set(p.fields) and all(a.shape == (len(ref.points),) for a in ref.fields.values())
    assert p.inside(ref.points, tol=1e-6).all()
    inside, outside = PROBES[name]
    assert p.inside(np.array([inside])).all() and not p.inside(np.array(outside)).any()
    counts = {part: int(p.geometry.on_boundary(ref.points, tol=1e-6, part=part).sum()) for part in p.geometry.parts}
    assert counts == ON_PARTS[name]


def test_the_default_reference_is_pinnacles_file_under_the_data_directory():
    for name, (file, _) in PINNACLE.items():
        assert problem(name).reference_file == f"pinnacle/{file}"


def test_poisson_holes_is_one_on_the_square_and_zero_on_the_holes_as_the_reference(shared):
    p, ref = with_reference("poisson_holes", shared)
    outer, holes = on_reference(p, ref, "outer")["u"], on_reference(p, ref, "holes")["u"]
    assert len(outer) == 108 and len(holes) == 112
    assert np.abs(outer).max() == 0 and np.abs(holes).max() == 0  # COMSOL's nodes hold 1 and 0 exactly
    # PINNacle's values (poisson.py:79, 84), and the maximum principle inside: the parts are not swapped
    assert (p.outer_value, p.hole_value) == (1, 0) and ref.fields["u"].min() == 0 and ref.fields["u"].max() == 1
    on_square = ref.fields["u"][p.geometry.on_boundary(ref.points, tol=1e-6, part="outer")]
    assert np.abs(on_square - p.hole_value).min() == 1  # the holes' value is wrong everywhere on the square


def test_the_cavity_lid_walls_and_pressure_gauge_hold_on_the_reference(shared):
    p, ref = with_reference("ns_cavity", shared)
    lid = on_reference(p, ref, "lid")
    # COMSOL's lid nodes hold 4x(1-x) to 2.7e-4 and v = 0 to 1.3e-4, not exactly
    assert len(lid["u"]) == 101 and np.abs(lid["u"]).max() < 5e-4 and np.abs(lid["v"]).max() < 5e-4
    walls = on_reference(p, ref, "walls")
    assert np.abs(walls["u"]).max() == 0 and np.abs(walls["v"]).max() == 0
    # every point of the pressure condition is the corner (0, 0), where the reference has p = 0 ...
    assert p.gauge == {"x": 0.0, "y": 0.0} and np.abs(on_reference(p, ref, "pressure")["p"]).max() == 0
    # ... and where it does not the condition says so: the gauge is not read at the points themselves
    assert np.abs(ref.fields["p"]).max() > 0.3
    # the lid velocity itself: 4x(1-x) at the lid's nodes, peak 1 at x = 1/2
    top = ref.points[:, 1] == 1
    x = ref.points[top, 0]
    assert np.abs(p.lid_velocity(x) - ref.fields["u"][top]).max() < 5e-4 and p.lid_velocity(0.5) == 1


def test_the_back_step_inflow_and_walls_hold_on_the_reference(shared):
    p, ref = with_reference("ns_backstep", shared)
    inlet = on_reference(p, ref, "inlet")
    assert len(inlet["u"]) == 47 and np.abs(inlet["u"]).max() < 1e-9 and np.abs(inlet["v"]).max() == 0
    walls = on_reference(p, ref, "walls")
    assert len(walls["u"]) == 701 and np.abs(walls["u"]).max() == 0 and np.abs(walls["v"]).max() == 0
    y = ref.points[ref.points[:, 0] == 0, 1]
    assert y.min() == 0 and y.max() == 1  # the inlet is the narrow channel's end, 0 <= y <= 1


def test_the_back_step_outlet_pressure_is_zero_in_the_reference_only_where_the_flow_leaves(shared):
    """PINNacle poses p = 0 on the outlet (ns.py:289-293); COMSOL's solution has |p| up to 0.024
    there, in the backflow near the top (u < 0): its outlet condition was not a pointwise p = 0."""
    p, ref = with_reference("ns_backstep", shared)
    pressure = on_reference(p, ref, "outlet")["p"]
    where = p.geometry.on_boundary(ref.points, tol=1e-6, part="outlet")
    u = ref.fields["u"][where]
    assert len(pressure) == 68 and np.abs(pressure[u > 0]).max() < 3e-3
    assert 0.02 < np.abs(pressure[u < 0]).max() < 0.025
    assert np.ptp(ref.fields["p"]) > 0.35  # against the pressure's range in the channel


# -- the PDE residuals on solutions of the PDE, and on wrong ones -----------------------------------


def test_the_laplace_residual_vanishes_on_a_harmonic_function_and_not_on_another():
    p = problem("poisson_holes")

    def harmonic(q):
        return (torch.exp(q[:, 0]) * torch.sin(q[:, 1]))[:, None]

    assert at_sampled_points(p, "residual", harmonic)["u"] < 1e-9
    assert at_sampled_points(p, "residual", lambda q: harmonic(q) + 0.01 * q[:, :1] ** 2)["u"] > 1e-3


def kovasznay(re: float):
    """Kovasznay's exact steady Navier-Stokes flow for nu = 1/re: (x, y) -> (u, v, p)."""
    lam = re / 2 - math.sqrt(re**2 / 4 + 4 * math.pi**2)

    def net(q: torch.Tensor) -> torch.Tensor:
        e = torch.exp(lam * q[:, 0])
        u = 1 - e * torch.cos(2 * math.pi * q[:, 1])
        v = lam / (2 * math.pi) * e * torch.sin(2 * math.pi * q[:, 1])
        return torch.stack([u, v, (1 - e**2) / 2], 1)

    return net


@pytest.mark.parametrize("name", ["ns_cavity", "ns_backstep"])
def test_the_navier_stokes_residual_vanishes_on_kovasznay_flow_at_re_one_over_nu(name):
    p = problem(name)
    assert p.p["nu"] == 0.01  # ns.py:132, 210
    worst = at_sampled_points(p, "residual", kovasznay(1 / p.p["nu"]))
    assert set(worst) == {"momentum_x", "momentum_y", "continuity"} and max(worst.values()) < 1e-9, worst
    wrong = at_sampled_points(p, "residual", kovasznay(20.0))  # a solution for another viscosity
    assert max(wrong["momentum_x"], wrong["momentum_y"]) > 1e-3, wrong


def ball_net(p, perturbation=None):
    """The exact solution of poisson_ball3d as the network, plus ``perturbation(q)`` if given."""
    exact = p.exact_net()
    return exact if perturbation is None else (lambda q: exact(q) + perturbation(q)[:, None])


def test_the_exact_solution_of_the_3d_problem_satisfies_each_condition_and_a_wrong_flux_fails():
    p = problem("poisson_ball3d")
    assert p.geometry.parts == ("outer", "hole") and p.space == ("x", "y", "z")
    for c in ("residual", "outer", "hole"):
        assert max(at_sampled_points(p, c, ball_net(p)).values()) < 1e-9, c
    # (r - R) times a bump that vanishes on the cube: the values on the cube and on the sphere are
    # the exact ones, the flux through the sphere is not, nor is the Laplacian
    centre = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)

    def flux_error(q):
        return 0.01 * (torch.linalg.vector_norm(q - centre, dim=1) - 0.25) * torch.prod(torch.sin(math.pi * q), 1)

    assert at_sampled_points(p, "outer", ball_net(p, flux_error))["u"] < 1e-9
    assert at_sampled_points(p, "hole", ball_net(p, flux_error))["u"] > 1e-3
    assert at_sampled_points(p, "residual", ball_net(p, flux_error))["u"] > 1e-3


def test_the_3d_neumann_condition_reads_the_normal_that_points_into_the_hole():
    p = problem("poisson_ball3d")
    counts = {c: 300 if c == "hole" else 0 for c in p.conditions()}
    pts = PointSets(p, counts, SamplerMethod.sobol, {}, 0, 0, torch.device("cpu"), torch.float64).at(0)["hole"]
    xyz, normals = pts[:, :3], pts[:, 3:]
    radial = (xyz - 0.5) / torch.linalg.vector_norm(xyz - 0.5, dim=1, keepdim=True)
    assert torch.allclose(normals, -radial, atol=1e-12)  # out of the domain: into the hole
    # the flux into the hole, from the exact gradient and the radial direction alone
    grad = torch.stack(p.gradient({v: xyz[:, i] for i, v in enumerate(p.variables)}), 1)
    into = -(grad * radial).sum(1)
    d = Derivatives(p.exact_net(), pts, p.variables, p.outputs, p.space)
    assert torch.allclose(p.flux(d), into, atol=1e-12) and torch.allclose(d.normal("u"), into, atol=1e-12)
    # it varies over the sphere and is nowhere near 0 in places: the outward flux would fail
    assert into.abs().max() > 0.5 and into.std() > 0.1
    assert p.conditions()["hole"].residual(d)["u"].abs().max() < 1e-12


# -- the task a config builds ----------------------------------------------------------------------

#: tiny point counts per condition
TINY_POINTS = {
    "poisson_holes": {"residual": 64, "outer": 40, "holes": 24},
    "ns_cavity": {"residual": 64, "lid": 20, "walls": 36, "pressure": 2},
    "ns_backstep": {"residual": 64, "inlet": 12, "outlet": 16, "walls": 40},
    "poisson_ball3d": {"residual": 64, "outer": 48, "hole": 20},
}


def tiny_task(name: str, shared):
    overrides = [
        f"equation={name}",
        "model.width=16",
        "model.depth=2",
        "trainer.max_steps=5",
        "trainer.compile=false",
        "trainer.progress=false",
        *(f"equation.points.{c}={n}" for c, n in TINY_POINTS[name].items()),
    ]
    if name in PINNACLE:
        overrides.append(f"equation.reference={shared(PINNACLE[name][0])}")
    return build_task(overrides)


@pytest.mark.parametrize("name", sorted(TINY_POINTS))
def test_the_built_task_samples_each_condition_on_its_parts_with_the_geometrys_normals(name, shared):
    task = tiny_task(name, shared)
    p = task.problem
    d = len(p.variables)
    pts = task.points.at(0)
    assert {c: len(x) for c, x in pts.items()} == TINY_POINTS[name]
    for c, cond in p.conditions().items():
        x = pts[c].double().numpy()
        if not cond.on:
            assert x.shape[1] == d and p.inside(x).all(), c
            continue
        assert x.shape[1] == d + len(p.space), c
        coords, normals = x[:, :d], x[:, d:]
        assert p.geometry.on_boundary(coords, tol=1e-6, part=cond.on).all(), c
        assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-6), c
        assert np.allclose(normals, p.geometry.normal(coords, tol=1e-6), atol=1e-6), c
    if name in PINNACLE:  # the evaluation is on the reference file's nodes
        assert len(task.evaluation.points) == PINNACLE[name][1] and task.evaluation.fields == list(p.fields)


@pytest.mark.parametrize("name", sorted(TINY_POINTS))
def test_the_loss_terms_are_the_same_in_reverse_and_taylor_mode(name, shared):
    """The compiled step's engine (Taylor mode) reads the normals and the moved gauge point as the
    eager one does."""
    task = tiny_task(name, shared)
    p = task.problem
    eager = {k: float(v.detach()) for k, v in task.objective.losses(0).items()}
    assert list(eager) == [f"{c}_{k}" for c, cond in p.conditions().items() for k in cond.components]
    assert all(math.isfinite(v) and v > 0 for v in eager.values()), eager
    jet = Objective(p, task.model, task.points, taylor=True).losses_on(task.points.at(0))
    assert {k: float(v.detach()) for k, v in jet.items()} == pytest.approx(eager, rel=1e-4, abs=1e-9)
