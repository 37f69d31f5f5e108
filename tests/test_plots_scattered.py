"""fields.png and points.png of predictions on scattered points (domains that are not boxes): real
predictions.h5 files written with h5py, drawn by pinnrun.plots. The triangulation leaves a hole and
a re-entrant notch empty, a time series is drawn at its last time, a box minus a ball in a slab
through its middle, a line along x; points.png names each condition with its count; a grid file
draws as before."""

from __future__ import annotations

import time
from pathlib import Path

import h5py
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.tri import Triangulation

from pinnrun.plots import (
    PANEL_MARGIN,
    PANEL_WIDTH,
    fields_figure,
    hole_mask,
    last_time_rows,
    middle_slab_rows,
    plot_run,
    points_figure,
    scattered_view,
)

CENTRE, RADIUS = np.array([0.5, 0.5]), 0.25  # the hole of the unit plate
DPI = 110  # pinnrun.plots saves at this resolution


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# -- point sets ------------------------------------------------------------------------------------
def quasi_random(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` low-discrepancy points in [0, 1)^d, as evenly spread as the runner's Sobol draws: the
    additive recurrence k * (1/phi_d, 1/phi_d^2, ...) mod 1 (phi_d: the root > 1 of x^(d+1) = x + 1),
    randomly shifted."""
    phi = 2.0
    for _ in range(30):
        phi = (1 + phi) ** (1 / (d + 1))
    steps = phi ** -np.arange(1, d + 1)
    return (rng.random(d) + np.arange(1, n + 1)[:, None] * steps) % 1.0


def on_polygon(corners: list[tuple[float, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points on the closed polygon through ``corners``."""
    poly = np.array([*corners, corners[0]], float)
    seg = np.diff(poly, axis=0)
    length = np.linalg.norm(seg, axis=1)
    s = rng.random(n) * length.sum()
    k = np.minimum(np.searchsorted(np.cumsum(length), s), len(seg) - 1)
    u = (s - np.r_[0.0, np.cumsum(length)][k]) / length[k]
    return poly[k] + u[:, None] * seg[k]


def holed_plate(n: int = 3000, seed: int = 0, boundary: bool = True, sampler: str = "quasi-random") -> np.ndarray:
    """(n, 2) points of the unit square minus the disk (CENTRE, RADIUS): as the runner draws them
    (quasi-random inside, a tenth on the boundary), or uniform random inside only."""
    rng = np.random.default_rng(seed)
    p = quasi_random(2 * n, 2, rng) if sampler == "quasi-random" else rng.random((2 * n, 2))
    m = n // 10 if boundary else 0
    p = p[np.linalg.norm(p - CENTRE, axis=1) > RADIUS][: n - m]
    if boundary:
        square = on_polygon([(0, 0), (1, 0), (1, 1), (0, 1)], m - m // 4, rng)
        theta = 2 * np.pi * rng.random(m // 4)
        p = np.r_[p, square, CENTRE + RADIUS * np.c_[np.cos(theta), np.sin(theta)]]
    return p


L_CORNERS = [(0, 0), (2, 0), (2, 0.5), (1, 0.5), (1, 1), (0, 1)]  # [0,2]x[0,1] minus the notch [1,2]x[0.5,1]


def l_channel(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = quasi_random(2 * n, 2, rng) * [2.0, 1.0]
    p = p[~((p[:, 0] > 1) & (p[:, 1] > 0.5))][: n - n // 10]
    return np.r_[p, on_polygon(L_CORNERS, n // 10, rng)]


def box_minus_ball(n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) uniform random points of [0,1] x [0,1] x [0,2] minus the ball of radius 0.3 at its centre."""
    p = np.random.default_rng(seed).random((2 * n, 3)) * [1.0, 1.0, 2.0]
    return p[np.linalg.norm(p - [0.5, 0.5, 1.0], axis=1) > 0.3][:n]


# -- files -----------------------------------------------------------------------------------------
def write_points(
    path: Path,
    variables: str,
    space: str,
    coords: np.ndarray,
    fields: dict[str, tuple[np.ndarray, np.ndarray | None]],
    collocation: dict[str, tuple[np.ndarray, str | None]] | None = None,
) -> Path:
    """predictions.h5 of the scattered layout: points/<var>, pred/ref/error/<field>, collocation/."""
    names = variables.split(",")
    with h5py.File(path, "w") as f:
        f.attrs["variables"] = variables
        f.attrs["fields"] = ",".join(fields)
        f.attrs["space"] = space
        f.attrs["layout"] = "points"
        for i, v in enumerate(names):
            f.create_dataset(f"points/{v}", data=coords[:, i])
        for name, (pred, ref) in fields.items():
            f.create_dataset(f"pred/{name}", data=pred)
            if ref is not None:
                f.create_dataset(f"ref/{name}", data=ref)
                f.create_dataset(f"error/{name}", data=pred - ref)
        for name, (points, kind) in (collocation or {}).items():
            d = f.create_dataset(f"collocation/{name}", data=points)
            if kind is not None:
                d.attrs["kind"] = kind
    return path


def write_grid(path: Path, collocation: dict[str, tuple[np.ndarray, str]] | None = None) -> Path:
    """predictions.h5 of the grid layout as io.write_predictions writes it (u(t, x) on 50 x 40)."""
    t, x = np.linspace(0, 1, 50), np.linspace(-1, 1, 40)
    u = np.sin(np.pi * x)[None, :] * np.exp(-t)[:, None]
    with h5py.File(path, "w") as f:
        f.attrs["variables"] = "t,x"
        f.attrs["fields"] = "u"
        f.attrs["layout"] = "grid"
        f.attrs["space"] = ""
        f.create_dataset("grid/t", data=t)
        f.create_dataset("grid/x", data=x)
        f.create_dataset("pred/u", data=u + 0.01)
        f.create_dataset("ref/u", data=u)
        f.create_dataset("error/u", data=np.full_like(u, 0.01))
        for name, (points, kind) in (collocation or {}).items():
            f.create_dataset(f"collocation/{name}", data=points).attrs["kind"] = kind
    return path


def field(p: np.ndarray) -> np.ndarray:
    return np.sin(3 * p[:, 0]) * np.cos(2 * p[:, 1])


def png_shape(png: Path) -> tuple[int, int]:
    image = mpimg.imread(png)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    return image.shape[:2]


def pixels(fig) -> np.ndarray:
    """The figure drawn as plot_fields lays it out, RGB."""
    fig.tight_layout()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


def rgb_at(image: np.ndarray, ax, x: float, y: float) -> np.ndarray:
    """The colour of the drawn figure ``image`` at the data point (x, y) of ``ax``."""
    px, py = ax.transData.transform((x, y))
    return image[image.shape[0] - int(round(py)), int(round(px))]


def panel(fig, title: str):
    return next(ax for ax in fig.axes if ax.get_title().startswith(title))


# -- the hole mask ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("sampler", "boundary"), [("quasi-random", True), ("uniform", False)])
def test_the_hole_of_a_holed_plate_stays_empty(sampler, boundary):
    p = holed_plate(3000, seed=1, boundary=boundary, sampler=sampler)
    tri = Triangulation(p[:, 0], p[:, 1])
    masked = hole_mask(tri)
    centre_distance = np.linalg.norm(p[tri.triangles].mean(axis=1) - CENTRE, axis=1)
    in_disk = centre_distance < RADIUS
    assert in_disk.sum() > 15  # the triangulation does bridge the hole
    # every triangle whose centroid is in the disk is masked, but for a few slivers along its rim
    assert masked[centre_distance < 0.99 * RADIUS].all()
    assert (in_disk & ~masked).sum() <= 3
    kept = 1 - (masked & ~in_disk).sum() / (~in_disk).sum()
    assert kept >= 0.97, kept


def test_an_l_shaped_channel_leaves_its_notch_empty_but_next_to_the_corner():
    p = l_channel(3000)
    tri = Triangulation(p[:, 0], p[:, 1])
    masked = hole_mask(tri)
    c = p[tri.triangles].mean(axis=1)
    notch = (c[:, 0] > 1) & (c[:, 1] > 0.5)
    near_corner = np.hypot(c[:, 0] - 1, c[:, 1] - 0.5) < 0.1  # about 4 spacings of the points
    assert notch.sum() > 30
    assert masked[notch & ~near_corner].all()
    assert 1 - (masked & ~notch).sum() / (~notch).sum() >= 0.97


def test_graded_points_keep_their_coarse_triangles():
    # dense at the origin, 30 times sparser at (1, 1): a global spacing would mask the coarse part
    rng = np.random.default_rng(3)
    p = rng.random((4000, 2)) ** 2
    p = np.r_[p, on_polygon([(0, 0), (1, 0), (1, 1), (0, 1)], 200, rng) ** 2]
    tri = Triangulation(p[:, 0], p[:, 1])
    masked = hole_mask(tri)
    coarse = p[tri.triangles].mean(axis=1).min(axis=1) > 0.5
    assert coarse.sum() > 50
    assert masked[coarse].mean() <= 0.03


# -- fields.png ------------------------------------------------------------------------------------
def test_a_holed_plate_draws_its_fields_with_the_hole_white(tmp_path):
    p = holed_plate(2000)
    u = field(p)
    h5 = write_points(tmp_path / "predictions.h5", "x,y", "x,y", p, {"u": (u + 0.01 * p[:, 0], u), "p": (u**2, None)})
    fig = fields_figure(h5)
    assert fig.get_size_inches() == pytest.approx([13, 2 * (PANEL_WIDTH + PANEL_MARGIN)])  # a square: 2 rows
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert {"u: prediction", "u: reference", "u: error", "p: prediction"} <= set(titles)
    assert not panel(fig, "p: reference").axison and not panel(fig, "p: error").axison
    prediction = panel(fig, "u: prediction")
    assert prediction.get_aspect() == 1.0
    image = pixels(fig)
    assert (rgb_at(image, prediction, *CENTRE) == 255).all()  # the hole: nothing drawn
    for x, y in [(0.5, 0.1), (0.1, 0.5), (0.9, 0.9), (0.5, 0.8)]:  # the plate round the hole: coloured
        assert (rgb_at(image, prediction, x, y) < 250).any(), (x, y)
    error = panel(fig, "u: error").collections[0]
    low, high = error.get_clim()
    assert low == -high and error.get_cmap().name == "RdBu_r"  # white at zero


def test_an_l_shaped_channel_gets_rows_of_its_own_shape(tmp_path):
    p = l_channel(1500)
    h5 = write_points(tmp_path / "predictions.h5", "x,y", "x,y", p, {"u": (field(p), field(p))})
    fig = fields_figure(h5)
    assert fig.get_size_inches() == pytest.approx([13, PANEL_WIDTH * 0.5 + PANEL_MARGIN])  # twice as wide as high
    assert panel(fig, "u: prediction").get_aspect() == 1.0


def test_a_time_series_on_fixed_points_is_drawn_at_its_last_time(tmp_path):
    nodes = holed_plate(1500)
    rows = np.concatenate([np.c_[nodes, np.full(len(nodes), t)] for t in (0.0, 0.5, 2.0)])
    u = field(rows) * (1 + rows[:, 2])
    h5 = write_points(tmp_path / "predictions.h5", "x,y,t", "x,y", rows, {"u": (u, u)})

    last, note = last_time_rows(rows[:, 2])
    assert last.sum() == len(nodes) and (rows[last, 2] == 2.0).all()
    assert note == "t = 2"
    prediction = panel(fields_figure(h5), "u: prediction")
    assert prediction.get_title() == "u: prediction (t = 2)"
    drawn = prediction.collections[0].get_array()
    np.testing.assert_allclose(drawn, field(nodes) * 3.0)  # the values at t = 2, not at 0 or 0.5
    view = scattered_view(["x", "y", "t"], ["x", "y"], {"x": rows[:, 0], "y": rows[:, 1], "t": rows[:, 2]})
    assert (view.rows == np.flatnonzero(last)).all() and view.note == "t = 2"
    assert view.tri.mask.sum() > 15  # the hole masked in the slice


def test_random_times_are_drawn_in_the_last_tenth_of_the_time_range():
    rng = np.random.default_rng(4)
    t = rng.random(5000) * 2.0
    rows, note = last_time_rows(t)
    assert rows.sum() == (t >= 1.8).sum() > 400
    assert (t[rows] >= 1.8 - 1e-12).all()
    assert note == "t in [1.8, 2]"
    few = rng.random(600)  # the last tenth holds about 60 points: widened to the last 200
    rows, _ = last_time_rows(few)
    assert rows.sum() == 200 and few[rows].min() > few[~rows].max()


def test_a_box_minus_a_ball_is_cut_in_a_thin_slab_through_its_middle(tmp_path):
    z = box_minus_ball(1500)[:, 2]  # |z - 1| <= 0.1 holds about 110 points: the slab is widened
    mid = 0.5 * (z.min() + z.max())
    rows, note = middle_slab_rows(z, "z")
    assert rows.sum() == 200 and note.startswith("z in [")
    inside = np.abs(z[rows] - mid)
    assert inside.max() < 0.25  # thin: an eighth of the range at most
    assert (np.abs(z[~rows] - mid) > inside.max()).all()  # all of the slab and nothing else

    p = box_minus_ball(4000)  # 5 % of the range holds about 400 points
    rows, note = middle_slab_rows(p[:, 2], "z")
    assert rows.sum() >= 200 and (np.abs(p[rows, 2] - 1.0) <= 0.1 + 1e-3).all()
    h5 = write_points(tmp_path / "predictions.h5", "x,y,z", "x,y,z", p, {"u": (field(p), None)})
    fig = fields_figure(h5)
    prediction = panel(fig, "u: prediction")
    assert prediction.get_title() == f"u: prediction ({note})"
    assert (prediction.get_xlabel(), prediction.get_ylabel()) == ("x", "y")
    np.testing.assert_allclose(prediction.collections[0].get_array(), field(p[rows]))
    image = pixels(fig)
    assert (rgb_at(image, prediction, 0.5, 0.5) == 255).all()  # the ball, cut through its equator
    assert (rgb_at(image, prediction, 0.1, 0.1) < 250).any()


def test_a_line_is_drawn_along_x_and_a_line_in_time_as_a_space_time_map(tmp_path):
    x = np.random.default_rng(5).random(300) * 2 - 1
    h5 = write_points(tmp_path / "line.h5", "x", "x", x[:, None], {"u": (np.sin(x), np.sin(x) + 0.1)})
    line = panel(fields_figure(h5), "u: prediction").lines[0]
    assert (np.diff(line.get_xdata()) >= 0).all()
    np.testing.assert_allclose(line.get_ydata(), np.sin(line.get_xdata()))

    tx = np.random.default_rng(6).random((800, 2)) * [10.0, 1.0]  # t in [0, 10], x in [0, 1]
    view = scattered_view(["t", "x"], ["x"], {"t": tx[:, 0], "x": tx[:, 1]})
    assert view.axes == ["t", "x"] and len(view.rows) == len(tx)
    assert view.tri is not None and view.tri.mask is None  # a rectangle: nothing masked
    # triangulated with t and x scaled alike: no slivers along the long t axis
    corners = view.tri.triangles[:, [0, 1, 2, 0]]
    assert np.median(np.abs(np.diff(view.x[corners], axis=1)).max(axis=1)) < 0.5
    h5 = write_points(tmp_path / "tx.h5", "t,x", "x", tx, {"u": (tx[:, 1] * np.exp(-tx[:, 0]), None)})
    prediction = panel(fields_figure(h5), "u: prediction")
    assert (prediction.get_xlabel(), prediction.get_ylabel()) == ("t", "x") and prediction.get_aspect() == "auto"


def test_a_grid_file_draws_the_same_figure_as_before(tmp_path):
    h5 = write_grid(tmp_path / "predictions.h5")
    prediction = panel(fields_figure(h5), "u: prediction")
    assert len(prediction.images) == 1 and not prediction.collections
    np.testing.assert_allclose(prediction.images[0].get_extent(), [0, 1, -1, 1])
    assert prediction.get_xlabel() == "t" and prediction.get_ylabel() == "x"
    made = plot_run(tmp_path)
    assert [m.name for m in made] == ["fields.png"]  # no collocation/: no points.png
    assert png_shape(made[0]) == (round(3.2 * DPI), 13 * DPI)

    write_grid(h5, {"pde": (np.random.default_rng(9).random((300, 2)), "interior")})
    ax = points_figure(h5).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t", "x")  # no space attr: the first two variables
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pde (300 points)"]


# -- points.png ------------------------------------------------------------------------------------
def plate_collocation(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, str | None]]:
    """Training points of the holed plate in (x, y, t): interior, walls, hole, initial, and one
    without a kind."""
    inside = np.c_[holed_plate(2000, boundary=False), rng.random(2000)]
    walls = np.c_[on_polygon([(0, 0), (1, 0), (1, 1), (0, 1)], 300, rng), rng.random(300)]
    theta = 2 * np.pi * rng.random(120)
    hole = np.c_[CENTRE + RADIUS * np.c_[np.cos(theta), np.sin(theta)], rng.random(120)]
    initial = np.c_[holed_plate(400, seed=2, boundary=False), np.zeros(400)]
    data = np.c_[holed_plate(50, seed=3, boundary=False), rng.random(50)]
    return {"pde": (inside, "interior"), "walls": (walls, "boundary"), "hole": (hole, "boundary"),
            "ic": (initial, "initial"), "data": (data, None)}  # fmt: skip


def test_points_png_names_each_condition_with_its_count(tmp_path):
    rng = np.random.default_rng(7)
    collocation = plate_collocation(rng)
    p = np.c_[holed_plate(1000), rng.random(1000)]
    h5 = write_points(tmp_path / "predictions.h5", "x,y,t", "x,y", p, {"u": (field(p), None)}, collocation)
    fig = points_figure(h5)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.get_legend().get_texts()}
    assert texts == {f"{name} ({len(points)} points)" for name, (points, _) in collocation.items()}
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y") and ax.get_aspect() == 1.0
    offsets = {c.get_label(): c.get_offsets() for c in ax.collections}
    np.testing.assert_allclose(offsets["walls (300 points)"], collocation["walls"][0][:, :2])  # time dropped
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == len(collocation)
    # the interior under the rest
    order = {c.get_label().split()[0]: c.get_zorder() for c in ax.collections}
    assert order["pde"] < min(order["walls"], order["hole"], order["ic"])


def test_points_of_a_box_minus_a_ball_and_of_a_line_in_time(tmp_path):
    rng = np.random.default_rng(8)
    ball = box_minus_ball(800)
    h5 = write_points(
        tmp_path / "ball.h5", "x,y,z", "x,y,z", ball, {"u": (field(ball), None)}, {"pde": (ball, "interior")}
    )
    ax = points_figure(h5).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")  # the projection on the first two
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pde (800 points)"]

    tx = rng.random((500, 2))
    collocation = {"pde": (tx, "interior"), "ic": (np.c_[np.zeros(50), rng.random(50)], "initial")}
    h5 = write_points(tmp_path / "tx.h5", "t,x", "x", tx, {"u": (tx[:, 1], None)}, collocation)
    ax = points_figure(h5).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("t", "x") and ax.get_aspect() == "auto"

    line = {"pde": (rng.random((100, 1)), "interior"), "ends": (np.array([[0.0], [1.0]]), "boundary")}
    h5 = write_points(tmp_path / "x.h5", "x", "x", tx[:, :1], {"u": (tx[:, 0], None)}, line)
    ax = points_figure(h5).axes[0]
    ends = next(c for c in ax.collections if c.get_label() == "ends (2 points)")
    np.testing.assert_allclose(ends.get_offsets(), [[0.0, 0.0], [1.0, 0.0]])  # against zero


def test_a_run_on_twenty_thousand_points_draws_its_fields_and_points_fast(tmp_path):
    rng = np.random.default_rng(9)
    p = np.c_[holed_plate(20000), rng.random(20000)]
    u = field(p) * (1 + p[:, 2])
    write_points(tmp_path / "predictions.h5", "x,y,t", "x,y", p, {"u": (u + 0.01, u)}, plate_collocation(rng))
    start = time.perf_counter()
    made = plot_run(tmp_path)
    elapsed = time.perf_counter() - start
    assert sorted(m.name for m in made) == ["fields.png", "points.png"]
    height, width = png_shape(tmp_path / "plots" / "fields.png")
    assert height / width == pytest.approx((PANEL_WIDTH + PANEL_MARGIN) / 13, rel=0.01)
    height, width = png_shape(tmp_path / "plots" / "points.png")
    assert 0.6 < height / width < 0.9  # a square domain, the legend at its right
    assert elapsed < 5.0  # both figures: about 1 s on a 2-core CPU
