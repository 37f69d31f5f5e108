"""A space geometry times a time interval: the domain of a time-dependent equation."""

from __future__ import annotations

import math

import numpy as np

from pinnrun.config import ConfigError
from pinnrun.geometry.base import TOL, Draw, Geometry, Parts, as_points, collect, uniform_draw


class SpaceTime:
    """``geometry`` x [t0, t1]; points have ``geometry.dim + 1`` columns, time last.

    Its boundary here is the lateral one, the space boundary at every time (with the space
    geometry's parts); the initial slice t = t0 has :meth:`initial_points`. Not a
    :class:`Geometry`: it takes no part in CSG (build the space domain first).
    """

    def __init__(self, geometry: Geometry, t0: float, t1: float):
        if not isinstance(geometry, Geometry):
            raise ConfigError(f"geometry: SpaceTime needs a space geometry, got {type(geometry).__name__}")
        for key, v in (("t0", t0), ("t1", t1)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
                raise ConfigError(f"geometry: SpaceTime {key} must be a finite number, got {v!r}")
        if not t0 < t1:
            raise ConfigError(f"geometry: SpaceTime needs t0 < t1, got t0={t0}, t1={t1}")
        self.geometry, self.t0, self.t1 = geometry, float(t0), float(t1)
        self.dim = geometry.dim + 1

    def __repr__(self) -> str:
        return f"SpaceTime({self.geometry!r}, {self.t0}, {self.t1})"

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        lower, upper = self.geometry.bbox
        return np.append(lower, self.t0), np.append(upper, self.t1)

    @property
    def measure(self) -> float:
        return self.geometry.measure * (self.t1 - self.t0)

    @property
    def parts(self) -> tuple[str, ...]:
        return self.geometry.parts

    def boundary_measure(self, part: Parts = None) -> float:
        """The lateral boundary's measure: the space boundary's times t1 - t0."""
        return self.geometry.boundary_measure(part) * (self.t1 - self.t0)

    def _in_time(self, t: np.ndarray, tol: float) -> np.ndarray:
        return (t >= self.t0 - tol) & (t <= self.t1 + tol)

    def inside(self, xt, tol: float = TOL) -> np.ndarray:
        xt = as_points(xt, self.dim)
        return self._in_time(xt[:, -1], tol) & self.geometry.inside(xt[:, :-1], tol)

    def on_boundary(self, xt, tol: float = TOL, part: Parts = None) -> np.ndarray:
        """On the lateral boundary: x on the space boundary (part), t in [t0, t1]."""
        xt = as_points(xt, self.dim)
        return self._in_time(xt[:, -1], tol) & self.geometry.on_boundary(xt[:, :-1], tol, part)

    def interior_points(self, n: int, rng: np.random.Generator, draw: Draw | None = None) -> np.ndarray:
        """Exactly ``n`` points: drawn in the space bounding box x [t0, t1], rejected on space."""
        draw = draw or uniform_draw
        lower, upper = self.bbox
        if n <= 0:
            return np.zeros((0, self.dim))

        def fail(kept: int, drawn: int) -> ConfigError:
            return ConfigError(
                f"geometry: {kept} of {n} space-time points accepted from {drawn} candidates; the space domain "
                f"is empty or too thin (measure {self.geometry.measure:.3g})"
            )

        def one(m: int) -> tuple[tuple[np.ndarray], int]:
            xt = np.asarray(draw(m, lower, upper, rng), dtype=np.float64)
            return (xt[self.geometry.inside(xt[:, :-1], 0.0)],), len(xt)

        return collect(n, one, fail)[0]

    def boundary_points(self, n: int, rng: np.random.Generator, part: Parts = None, *, normals: bool = False):
        """Exactly ``n`` points of the lateral boundary: x from the space geometry's
        :meth:`~Geometry.boundary_points`, t uniform in [t0, t1] (so uniform in its measure); with
        ``normals=True``, ``(points, normals)`` as :meth:`normal` gives them."""
        x, nx = self.geometry.boundary_points(n, rng, part, normals=True)
        t = self.t0 + (self.t1 - self.t0) * rng.random((len(x), 1))
        xt = np.hstack([x, t])
        return (xt, np.hstack([nx, np.zeros_like(t)])) if normals else xt

    def initial_points(self, n: int, rng: np.random.Generator, draw: Draw | None = None) -> np.ndarray:
        """Exactly ``n`` points (x, t0) with x in the space domain (its interior points)."""
        x = self.geometry.interior_points(n, rng, draw)
        return np.hstack([x, np.full((len(x), 1), self.t0)])

    def normal(self, xt, tol: float = TOL) -> np.ndarray:
        """The outward normal of the lateral boundary, shape (n, dim): the space normal and a 0 time
        component (nan rows off the lateral boundary)."""
        xt = as_points(xt, self.dim)
        n = np.hstack([self.geometry.normal(xt[:, :-1], tol), np.zeros((len(xt), 1))])
        n[~self._in_time(xt[:, -1], tol)] = np.nan
        return n

    def distance(self, xt, parts: Parts = None) -> np.ndarray:
        """The space distance to the chosen parts, whatever t: it vanishes on the lateral boundary only
        (multiply by t - t0 for a hard initial condition)."""
        xt = as_points(xt, self.dim)
        return self.geometry.distance(xt[:, :-1], parts)
