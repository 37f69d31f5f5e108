"""Figures of a run, made from its run directory alone (predictions.h5, metrics.csv).

    plots/fields.png   prediction, reference and error of every evaluated field (on a grid, or on
                       scattered points: a triangulation with its holes left empty)
    plots/points.png   the training points of every condition in the domain (predictions.h5 with
                       collocation/)
    plots/loss.png     total and per-term loss (and test_loss) against step
    plots/l2.png       relative L2 error of every field against step
    plots/params.png   inverse problems: each unknown constant against step, and its true value
    plots/weights.png  adaptive weighting: each term's weight against step
    plots/ntk_spectrum.png  weighting.spectrum=true: eigenvalues of each term's NTK, first and last update

``python -m pinnrun.plots <run dir>`` redraws them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.tri import Triangulation  # noqa: E402

from pinnrun.io import read_metrics  # noqa: E402


def plot_run(run_dir: Path) -> list[Path]:
    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    made = []
    h5 = run_dir / "predictions.h5"
    if h5.exists():
        made.append(plot_fields(h5, out / "fields.png"))
        with h5py.File(h5, "r") as f:
            collocation = "collocation" in f
        if collocation:
            made.append(plot_points(h5, out / "points.png"))
    m = read_metrics(run_dir / "metrics.csv") if (run_dir / "metrics.csv").exists() else {}
    if m:
        made.append(plot_curves(m, "loss", out / "loss.png", "loss"))
        if any(k.startswith("l2/") for k in m):
            made.append(plot_curves(m, "l2/", out / "l2.png", "relative L2 error"))
        weights = {k: v for k, v in m.items() if k.startswith("weight/")}
        if any(np.nanmax(v) != np.nanmin(v) for v in weights.values() if np.isfinite(v).any()):
            made.append(plot_curves(m, "weight/", out / "weights.png", "loss weight"))
        names = [k.split("/", 1)[1] for k in m if k.startswith("param/")]
        if names:
            summary = run_dir / "summary.json"
            unknowns = json.loads(summary.read_text()).get("unknowns", {}) if summary.exists() else {}
            made.append(plot_params(m, names, unknowns, out / "params.png"))
    if (run_dir / "ntk.h5").exists():
        made.append(plot_spectra(run_dir / "ntk.h5", out / "ntk_spectrum.png"))
    return made


def plot_spectra(h5: Path, png: Path) -> Path:
    with h5py.File(h5, "r") as f:
        data = {t: (f[t]["steps"][()], f[t]["eigenvalues"][()]) for t in f}
    fig, axes = plt.subplots(1, len(data), figsize=(4.2 * len(data), 3.6), squeeze=False)
    for ax, (term, (steps, eig)) in zip(axes[0], data.items()):
        for row in sorted({0, len(steps) - 1}):
            if len(steps):
                e = eig[row]
                ax.loglog(np.arange(1, len(e) + 1), np.where(e > 0, e, np.nan), label=f"step {steps[row]}")
        ax.set_title(f"NTK of {term}")
        _axes(ax, "index", "eigenvalue")
    return _save(fig, png)


def plot_params(m: dict, names: list[str], unknowns: dict, png: Path) -> Path:
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(m["step"], m[f"param/{name}"], label="trained")
        if name in unknowns:
            ax.axhline(unknowns[name]["true"], color="k", ls="--", lw=1, label="true")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, png)


def plot_fields(h5: Path, png: Path) -> Path:
    """plots/fields.png: one row per field, its prediction, reference and error (:func:`fields_figure`)."""
    return _save(fields_figure(h5), png)


def fields_figure(h5: Path) -> Figure:
    """The figure of :func:`plot_fields`: one row per field, three panels (prediction, reference,
    error; the last two off where the field has no reference).

    On a grid (``grid/<var>``): a line over a single variable, else an image over the first two
    (the first, t for time-dependent problems, horizontal). On scattered points (``points/<var>``,
    attr ``layout`` "points"), see :func:`scattered_view`: a triangulation of the points over
    the space variables, with the triangles that bridge a hole masked (:func:`hole_mask`), at the
    last time and in a slab through the middle of a third space variable.
    """
    with h5py.File(h5, "r") as f:
        if "points" in f or _text(f.attrs.get("layout")) == "points":
            return _scattered_fields(f)
        variables = f.attrs["variables"].split(",")
        grid = [f[f"grid/{v}"][()] for v in variables]
        fields = f.attrs["fields"].split(",") if "fields" in f.attrs else list(f["pred"])
        data = {k: (f[f"pred/{k}"][()], f[f"ref/{k}"][()] if f"ref/{k}" in f else None) for k in fields}
    fig, axes = plt.subplots(len(fields), 3, figsize=(13, 3.2 * len(fields)), squeeze=False)
    for row, name in zip(axes, fields):
        pred, ref = data[name]
        panels = [("prediction", pred), ("reference", ref), ("error", None if ref is None else pred - ref)]
        for ax, (title, values) in zip(row, panels):
            ax.set_title(f"{name}: {title}")
            if values is None:
                ax.axis("off")
                continue
            if len(variables) == 1:
                ax.plot(grid[0], values)
                ax.set_xlabel(variables[0])
            else:
                # first variable on the horizontal axis (t for time-dependent problems)
                v2 = values.reshape(len(grid[0]), len(grid[1]), -1)[..., 0]
                style = {"cmap": "viridis"}
                if title == "error":  # white at zero
                    lim = float(np.abs(v2).max()) or 1.0
                    style = {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}
                im = ax.imshow(
                    v2.T,
                    origin="lower",
                    aspect="auto",
                    extent=[grid[0][0], grid[0][-1], grid[1][0], grid[1][-1]],
                    **style,
                )
                ax.set_xlabel(variables[0])
                ax.set_ylabel(variables[1])
                fig.colorbar(im, ax=ax)
    return fig


# -- scattered points -------------------------------------------------------------------------
#: hole_mask: a triangle is masked when its circumradius exceeds HOLE_ALPHA times the local spacing
#: of the points, the distance from each of its vertices to the HOLE_NEIGHBOURS-th nearest point
HOLE_ALPHA = 2.0
HOLE_NEIGHBOURS = 6
#: a time window or slab holding fewer points is widened to this many (or all of them)
MIN_SLICE_POINTS = 200
TIME_WINDOW = 0.1  # random times: the last 10 % of the time range
SLAB_HALF_WIDTH = 0.05  # a third space variable: |z - mid| < 5 % of its range
PANEL_WIDTH = 3.1  # inches of a panel's plot area in a 13-inch row of three (colorbar aside)
PANEL_MARGIN = 1.0  # inches above and below a panel's plot area (title, tick labels)


def hole_mask(tri: Triangulation, alpha: float = HOLE_ALPHA, neighbours: int = HOLE_NEIGHBOURS) -> np.ndarray:
    """True for the triangles of a Delaunay triangulation of scattered points that span a region
    without points: a hole, a re-entrant corner, or a sliver along a concave or straight outline.

    The file holds no geometry, so the rule reads the points alone. A Delaunay triangle's
    circumcircle holds no point, so its circumradius R is the radius of an empty disk; the rule
    masks a triangle when R > ``alpha`` (2) times the local spacing h, where h is the largest, over
    the triangle's three vertices, of the distance from the vertex to its ``neighbours``-th (6th)
    nearest point. Inside a sampled region empty disks are about one spacing wide (R/h < 1 for
    99 % of triangles on random, Sobol or grid points); across a hole every triangle's empty disk
    is the hole itself, so R is about the hole's radius, even for the thin triangles between three
    points on the hole's rim, which a longest-edge rule keeps. The spacing is local, so graded
    point densities keep their coarse triangles. Holes narrower than about three spacings cannot be
    told from sampling gaps and stay filled; near a re-entrant corner a few small triangles across
    the corner remain; flat slivers on a straight outer edge (huge R, no area) are masked.
    """
    xy = np.column_stack([np.asarray(tri.x, float), np.asarray(tri.y, float)])
    t = np.asarray(tri.triangles)
    if len(t) == 0:
        return np.zeros(0, bool)
    a, b, c = xy[t[:, 0]], xy[t[:, 1]], xy[t[:, 2]]
    edges = np.linalg.norm(b - c, axis=1) * np.linalg.norm(c - a, axis=1) * np.linalg.norm(a - b, axis=1)
    twice_area = np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    radius = np.divide(edges, 2 * twice_area, out=np.full(len(t), np.inf), where=twice_area > 0)
    k = min(neighbours, len(xy) - 1)
    if k < 1:
        return np.zeros(len(t), bool)
    from scipy.spatial import cKDTree

    spacing = cKDTree(xy).query(xy, k=k + 1)[0][:, k]
    return radius > alpha * spacing[t].max(axis=1)


@dataclass
class ScatteredView:
    """How scattered points are drawn: which rows, over which two variables, and as what.

    ``rows``: indices of the drawn points; ``axes``: the variables on the horizontal (and vertical)
    axis; ``tri``: their triangulation (holes masked), or None for a line over one variable (or,
    where the points cannot be triangulated, a scatter); ``note``: the slice drawn ("t = 1", "z in
    [0.45, 0.55]"); ``equal``: equal aspect (the axes are both space variables)."""

    rows: np.ndarray
    axes: list[str]
    x: np.ndarray
    y: np.ndarray | None
    tri: Triangulation | None
    note: str = ""
    equal: bool = False


def scattered_view(variables: list[str], space: list[str], coords: dict[str, np.ndarray]) -> ScatteredView:
    """The view of the points ``coords`` (one (N,) array per variable) that fields.png draws.

    The variables other than the ``space`` ones are time. Space of dimension 1: with a time, a
    triangulation over the first two variables in file order (time and space; triangulated with
    both scaled to [0, 1], no mask: the domain is a rectangle); without, a line along the space
    variable. Space of dimension 2 or more: a triangulation over the first two space variables
    with :func:`hole_mask`, at the last time (:func:`last_time_rows`) and, for each further space
    variable, in a slab through its middle (:func:`middle_slab_rows`).
    """
    n = len(coords[variables[0]])
    keep = np.ones(n, bool)
    notes = []
    others = [v for v in variables if v not in space]
    if len(space) == 1:
        axes = [v for v in variables if v in (space[0], *others[:1])]
        cut = [(v, last_time_rows) for v in others[1:]]
    else:
        axes = space[:2]
        cut = [(v, last_time_rows) for v in others] + [(v, middle_slab_rows) for v in space[2:]]
    for v, rows_of in cut:
        rows, note = rows_of(coords[v][keep], v)
        keep[np.flatnonzero(keep)[~rows]] = False
        notes.append(note)
    rows = np.flatnonzero(keep)
    x = coords[axes[0]][rows]
    note = ", ".join(notes)
    if len(axes) == 1:
        order = np.argsort(x, kind="stable")
        return ScatteredView(rows[order], axes, x[order], None, None, note)
    y = coords[axes[1]][rows]
    tri = _triangulate(x, y, scaled=len(space) == 1)
    if tri is not None and len(space) > 1:
        tri.set_mask(hole_mask(tri))
    return ScatteredView(rows, axes, x, y, tri, note, equal=len(space) > 1)


def last_time_rows(t: np.ndarray, name: str = "t") -> tuple[np.ndarray, str]:
    """The rows at the last time, and the note that says which: where rows repeat times (a few
    distinct values, as a finite-element export at several times), those with t == max t; else
    (random times) those in the last 10 % of the time range, widened where it holds fewer than 200
    points to the last 200 (or all)."""
    t = np.asarray(t, float)
    hi = float(t.max())
    if _repeats(t):  # equal to the last time but for rounding
        return t >= hi - 1e-9 * max(abs(hi), hi - float(t.min()), 1e-300), f"{name} = {hi:.4g}"
    width = max(TIME_WINDOW * (hi - float(t.min())), _nth_smallest(hi - t, MIN_SLICE_POINTS))
    return t >= hi - width, f"{name} in [{hi - width:.3g}, {hi:.3g}]"


def middle_slab_rows(z: np.ndarray, name: str = "z") -> tuple[np.ndarray, str]:
    """The rows in a thin slab through the middle of ``z`` (a third space variable), and the note
    that says which: where rows repeat values (a structured export), the level nearest the middle;
    else |z - mid| <= 5 % of z's range, widened where it holds fewer than 200 points to the 200
    nearest the middle (or all)."""
    z = np.asarray(z, float)
    lo, hi = float(z.min()), float(z.max())
    mid = 0.5 * (lo + hi)
    if _repeats(z):
        levels = np.unique(z)
        level = float(levels[np.argmin(np.abs(levels - mid))])
        return z == level, f"{name} = {level:.4g}"
    half = max(SLAB_HALF_WIDTH * (hi - lo), _nth_smallest(np.abs(z - mid), MIN_SLICE_POINTS))
    return np.abs(z - mid) <= half, f"{name} in [{mid - half:.3g}, {mid + half:.3g}]"


def _nth_smallest(d: np.ndarray, n: int) -> float:
    """The ``n``-th smallest of ``d`` (its largest where it has fewer)."""
    n = min(n, len(d))
    return float(np.partition(d, n - 1)[n - 1])


def _repeats(v: np.ndarray) -> bool:
    """Whether the rows repeat a few values (at most a third as many distinct values as rows)."""
    return len(np.unique(v)) <= max(1, len(v) // 3)


def _triangulate(x: np.ndarray, y: np.ndarray, scaled: bool) -> Triangulation | None:
    """The Delaunay triangulation of the points (of their coordinates scaled to [0, 1] when
    ``scaled``: time and space in different units), or None where there is none (fewer than three
    points, all on a line)."""
    try:
        if not scaled:
            return Triangulation(x, y)
        return Triangulation(x, y, Triangulation(_unit(x), _unit(y)).triangles)
    except (ValueError, RuntimeError):
        return None


def _unit(v: np.ndarray) -> np.ndarray:
    span = float(v.max() - v.min())
    return (v - v.min()) / span if span > 0 else v - v.min()


def _scattered_fields(f: h5py.File) -> Figure:
    variables = _names(f.attrs, "variables")
    space = _space(f.attrs, variables)
    coords = {v: np.asarray(f[f"points/{v}"][()], float) for v in variables}
    fields = _names(f.attrs, "fields") or list(f["pred"])
    view = scattered_view(variables, space, coords)
    data = {
        k: (f[f"pred/{k}"][()][view.rows], f[f"ref/{k}"][()][view.rows] if f"ref/{k}" in f else None) for k in fields
    }
    row_height = 3.2
    if view.equal:
        ratio = np.ptp(view.y) / np.ptp(view.x) if np.ptp(view.x) > 0 else 1.0
        row_height = PANEL_WIDTH * float(np.clip(ratio, 0.25, 2.5)) + PANEL_MARGIN
    fig, axes = plt.subplots(len(fields), 3, figsize=(13, row_height * len(fields)), squeeze=False)
    for row, name in zip(axes, fields):
        pred, ref = data[name]
        panels = [("prediction", pred), ("reference", ref), ("error", None if ref is None else pred - ref)]
        for ax, (title, values) in zip(row, panels):
            ax.set_title(f"{name}: {title}" + (f" ({view.note})" if view.note else ""), fontsize=9)
            if values is None:
                ax.axis("off")
                continue
            _scattered_panel(fig, ax, view, np.asarray(values, float), error=title == "error")
    return fig


def _scattered_panel(fig: Figure, ax, view: ScatteredView, values: np.ndarray, error: bool) -> None:
    ax.set_xlabel(view.axes[0])
    if view.y is None:  # one variable: a line
        ax.plot(view.x, values)
        return
    style = {"cmap": "viridis"}
    if error:  # white at zero
        lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        style = {"cmap": "RdBu_r", "vmin": -(lim or 1.0), "vmax": lim or 1.0}
    if view.tri is not None:
        im = ax.tripcolor(view.tri, values, shading="gouraud", rasterized=True, **style)
    else:  # too few points, or all on a line
        im = ax.scatter(view.x, view.y, c=values, s=6, **style)
    ax.set_ylabel(view.axes[1])
    if view.equal:
        ax.set_aspect("equal")
    fig.colorbar(im, ax=ax)


def plot_points(h5: Path, png: Path) -> Path:
    """plots/points.png: the training points of every condition (:func:`points_figure`)."""
    return _save(points_figure(h5), png)


def points_figure(h5: Path) -> Figure:
    """The domain with the training points of every condition of predictions.h5 (``collocation/
    <condition>``, (n, len(variables)), attr ``kind``): one scatter per condition, each its colour,
    legend "name (n points)"; interior conditions drawn first, under the boundary and initial ones.

    Drawn over the space variables (attr ``space``, else the first two variables), time dropped (a
    projection); three space variables: their projection on the first two; a space of one
    variable: it and time, in file order (first horizontal), or it against zero without a time.
    Equal aspect where both axes are space variables."""
    with h5py.File(h5, "r") as f:
        variables = _names(f.attrs, "variables")
        given = _names(f.attrs, "space")
        group = f["collocation"] if "collocation" in f else {}
        conditions = {
            name: (np.asarray(group[name][()], float), _text(group[name].attrs.get("kind"))) for name in group
        }
    space = [v for v in given if v in variables]
    if len(space) >= 2:
        axes, equal = space[:2], True
    elif len(space) == 1:
        others = [v for v in variables if v not in space]
        axes, equal = [v for v in variables if v in (space[0], *others[:1])], False
    else:
        axes, equal = variables[:2], False
    cols = [variables.index(v) for v in axes]
    xy = {n: (p[:, cols[0]], p[:, cols[1]] if len(cols) > 1 else np.zeros(len(p))) for n, (p, _) in conditions.items()}
    every = [np.concatenate(a) for a in zip(*xy.values())] if xy else [np.zeros(1), np.zeros(1)]
    span = [float(np.ptp(a)) if len(a) else 0.0 for a in every]
    height = 4.5 if len(axes) > 1 else 1.6
    if equal and span[0] > 0:
        height = 6.0 * float(np.clip(span[1] / span[0], 0.3, 2.0))
    fig, ax = plt.subplots(figsize=(9.0, height + 0.9))
    rank = {"interior": 0, "boundary": 2, "initial": 3}  # a condition without a kind: 1
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(conditions)
    drawn = {}
    for name in sorted(names, key=lambda n: rank.get(conditions[n][1], 1)):  # the interior first, under the rest
        x, y = xy[name]
        interior = rank.get(conditions[name][1], 1) <= 1
        drawn[name] = ax.scatter(
            x,
            y,
            s=(2.0 if len(x) > 2000 else 5.0) * (1 if interior else 2),
            color=colours[names.index(name) % len(colours)],
            label=f"{name} ({len(x)} points)",
            linewidths=0,
            rasterized=len(x) > 5000,
            zorder=2 if interior else 3,
        )
    ax.set_xlabel(axes[0])
    if len(axes) > 1:
        ax.set_ylabel(axes[1])
    else:
        ax.set_yticks([])
    if equal:
        ax.set_aspect("equal")
    if names:
        handles = [drawn[n] for n in names]  # in the file's order
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        for handle in legend.legend_handles:
            handle.set_sizes([25.0])
    ax.set_title("training points" + (" (projection)" if len(variables) > len(axes) else ""))
    return fig


def _text(value) -> str:
    """An HDF5 attribute as text ("" where absent)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _names(attrs, key: str) -> list[str]:
    """A comma-separated attribute as a list of names ([] where absent or empty)."""
    return [n.strip() for n in _text(attrs.get(key)).split(",") if n.strip()]


def _space(attrs, variables: list[str]) -> list[str]:
    """The variables that span the geometry: attr ``space``, else every variable but t (or time)."""
    space = [v for v in _names(attrs, "space") if v in variables]
    return space or [v for v in variables if v not in ("t", "time")] or variables[:1]


def plot_curves(m: dict, prefix: str, png: Path, ylabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, values in m.items():
        if key == prefix or (key.startswith(prefix) and "/" in key) or (prefix == "loss" and key == "test_loss"):
            ok = np.isfinite(values) & (values > 0)
            if ok.any():
                ax.semilogy(m["step"][ok], values[ok], label=key, lw=2.0 if key == prefix else 1.0)
    _axes(ax, "step", ylabel)
    return _save(fig, png)


def _axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _save(fig, png: Path) -> Path:
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


if __name__ == "__main__":
    for made in plot_run(Path(sys.argv[1])):
        print(made)
