"""The primitives: boxes and balls in any dimension (here), ellipses, triangles and polygons in
the plane (:mod:`pinnrun.geometry.planar`, re-exported here), and the base class
:class:`~pinnrun.geometry.base.Geometry`.

Every primitive's measure, boundary measure, normals and distance are exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from scipy.special import gammaln, ndtri

from pinnrun.config import ConfigError
from pinnrun.geometry.base import (
    TOL,
    Draw,
    Geometry,
    Primitive,
    as_name,
    as_points,
    as_vector,
    r_and,
    trimmed_flat,
    uniform_draw,
)
from pinnrun.geometry.planar import Ellipse, Polygon, Triangle

__all__ = [
    "Ball",
    "Box",
    "Cuboid",
    "Disk",
    "Ellipse",
    "Geometry",
    "Interval",
    "Polygon",
    "Rectangle",
    "Sphere",
    "Triangle",
]


def face_names(dim: int) -> list[str]:
    """A box's faces in piece order: "x0-", "x0+", "x1-", "x1+", ... (axis, lower | upper side)."""
    return [f"x{i}{side}" for i in range(dim) for side in "-+"]


class Box(Primitive):
    """The box [lower, upper] in any dimension. Its faces are the parts "x0-", "x0+", "x1-", ...
    (the lower and upper face on each axis) unless renamed: ``name`` names every face, ``names``
    maps some faces to names of their own (``{"x0-": "inlet"}``), the others keep ``name`` or their
    default. In 1-D the faces are the two end points (each of measure 1)."""

    def __init__(self, lower, upper, name: str | None = None, names: Mapping[str, str] | None = None):
        kind = type(self).__name__
        lower = as_vector(lower, f"{kind} lower")
        upper = as_vector(upper, f"{kind} upper", lower.size)
        bad = np.flatnonzero(lower >= upper)
        if bad.size:
            i = int(bad[0])
            raise ConfigError(f"geometry: {kind} needs lower < upper on each axis (axis {i}: {lower[i]} >= {upper[i]})")
        self.lower, self.upper, self.dim = lower, upper, lower.size
        faces = face_names(self.dim)
        names = dict(names or {})
        for face, value in names.items():
            if face not in faces:
                raise ConfigError(f"geometry: {kind} names: unknown face {face!r} (faces: {', '.join(faces)})")
            as_name(value, f"{kind} names[{face!r}]")
        if name is not None:
            as_name(name, f"{kind} name")
        super().__init__([names.get(f, name or f) for f in faces])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower={self.lower.tolist()}, upper={self.upper.tolist()})"

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.lower.copy(), self.upper.copy()

    @property
    def measure(self) -> float:
        return float(np.prod(self.upper - self.lower))

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        x = as_points(x, self.dim)
        return np.all((x >= self.lower - tol) & (x <= self.upper + tol), axis=1)

    def interior_points(self, n: int, rng: np.random.Generator, draw: Draw | None = None) -> np.ndarray:
        """The draw itself, ``(draw or uniform)(n, lower, upper, rng)``: nothing is rejected (a
        ``grid`` draw keeps its own count)."""
        return np.asarray((draw or uniform_draw)(n, self.lower, self.upper, rng), dtype=np.float64)

    def _face(self, k: int) -> tuple[int, float]:
        axis = k // 2
        return axis, float(self.upper[axis] if k % 2 else self.lower[axis])

    def _piece_measure(self, k: int) -> float:
        return float(np.prod(np.delete(self.upper - self.lower, k // 2)))

    def _piece_unit_dim(self, k: int) -> int:
        return self.dim - 1

    def _piece_points(self, k: int, u: np.ndarray) -> np.ndarray:
        axis, value = self._face(k)
        others = np.delete(np.arange(self.dim), axis)
        x = np.empty((len(u), self.dim))
        x[:, others] = self.lower[others] + u * (self.upper[others] - self.lower[others])
        x[:, axis] = value
        return x

    def _project(self, k: int, x: np.ndarray) -> np.ndarray:
        axis, value = self._face(k)
        p = np.clip(x, self.lower, self.upper)
        p[:, axis] = value
        return p

    def _piece_normal(self, k: int, p: np.ndarray) -> np.ndarray:
        n = np.zeros((len(p), self.dim))
        n[:, k // 2] = 1.0 if k % 2 else -1.0
        return n

    def _adf(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """|f| in 1-D (f = x - the end point); else :func:`trimmed_flat` of f, the signed distance to
        the face's plane, trimmed by the R-conjunction over the face's other axes of the slabs
        (h_i^2 - (x_i - m_i)^2) / 2 h_i (m, h: the box's centre and half widths)."""
        axis, value = self._face(k)
        f = x[:, axis] - value
        others = [i for i in range(self.dim) if i != axis]
        if not others:
            return f.abs()
        mid, half = (self.lower + self.upper) / 2, (self.upper - self.lower) / 2
        slabs = [(float(half[i]) ** 2 - (x[:, i] - float(mid[i])) ** 2) / (2 * float(half[i])) for i in others]
        t = slabs[0]
        for s in slabs[1:]:
            t = r_and(t, s)
        return trimmed_flat(f, t)


class Interval(Box):
    """The interval [a, b] (1-D); its end points are the parts "x0-" (at a) and "x0+" (at b)."""

    def __init__(self, a: float, b: float, name: str | None = None, names: Mapping[str, str] | None = None):
        for key, v in (("a", a), ("b", b)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise ConfigError(f"geometry: Interval {key} must be a number, got {v!r}")
        super().__init__([a], [b], name=name, names=names)

    def __repr__(self) -> str:
        return f"Interval({self.lower[0]}, {self.upper[0]})"


class Rectangle(Box):
    """A 2-D :class:`Box`."""

    def __init__(self, lower, upper, name: str | None = None, names: Mapping[str, str] | None = None):
        as_vector(lower, "Rectangle lower", 2)
        super().__init__(lower, upper, name=name, names=names)


class Cuboid(Box):
    """A 3-D :class:`Box`."""

    def __init__(self, lower, upper, name: str | None = None, names: Mapping[str, str] | None = None):
        as_vector(lower, "Cuboid lower", 3)
        super().__init__(lower, upper, name=name, names=names)


class Ball(Primitive):
    """The closed ball |x - center| <= radius in any dimension; its sphere is one part, ``name``
    (default "boundary"). Volume pi^(d/2) r^d / Gamma(d/2 + 1), surface d/r times that."""

    _dim: int | None = None

    def __init__(self, center, radius: float, name: str | None = None):
        kind = type(self).__name__
        self.center = as_vector(center, f"{kind} center", self._dim)
        if isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating, np.integer)):
            raise ConfigError(f"geometry: {kind} radius must be a number, got {radius!r}")
        if not (math.isfinite(radius) and radius > 0):
            raise ConfigError(f"geometry: {kind} radius must be > 0, got {radius}")
        self.radius, self.dim = float(radius), self.center.size
        super().__init__([as_name(name, f"{kind} name") if name is not None else "boundary"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(center={self.center.tolist()}, radius={self.radius})"

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.center - self.radius, self.center + self.radius

    @property
    def measure(self) -> float:
        d = self.dim
        return float(math.exp(d / 2 * math.log(math.pi) - gammaln(d / 2 + 1)) * self.radius**d)

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        x = as_points(x, self.dim)
        return np.linalg.norm(x - self.center, axis=1) <= self.radius + tol

    def _piece_measure(self, k: int) -> float:
        return self.measure * self.dim / self.radius

    def _piece_unit_dim(self, k: int) -> int:
        return self.dim - 1 if self.dim in (2, 3) else self.dim

    def _directions(self, v: np.ndarray) -> np.ndarray:
        r = np.linalg.norm(v, axis=1, keepdims=True)
        out = np.divide(v, r, out=np.zeros_like(v), where=r > 0)
        out[r[:, 0] == 0, 0] = 1.0
        return out

    def _piece_points(self, k: int, u: np.ndarray) -> np.ndarray:
        """Uniform on the sphere: the angle 2 pi u in 2-D; Archimedes' z = 1 - 2 u0 and angle 2 pi u1
        in 3-D; normalised Gaussian directions (inverse normal CDF of u) in other dimensions. (A map
        of the lowest unit dimension keeps quasi-random samples well spread.)"""
        if self.dim == 2:
            t = 2 * math.pi * u[:, 0]
            v = np.stack([np.cos(t), np.sin(t)], axis=1)
        elif self.dim == 3:
            z, t = 1 - 2 * u[:, 0], 2 * math.pi * u[:, 1]
            s = np.sqrt(np.clip(1 - z * z, 0.0, None))
            v = np.stack([s * np.cos(t), s * np.sin(t), z], axis=1)
        else:
            eps = np.finfo(np.float64).eps
            v = self._directions(ndtri(np.clip(u, eps, 1 - eps)))
        return self.center + self.radius * v

    def _project(self, k: int, x: np.ndarray) -> np.ndarray:
        return self.center + self.radius * self._directions(x - self.center)

    def _piece_normal(self, k: int, p: np.ndarray) -> np.ndarray:
        return self._directions(p - self.center)

    def _adf(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """|r^2 - |x - c|^2| / 2r: smooth on either side of the sphere (the centre included)."""
        r2 = sum((x[:, i] - float(c)) ** 2 for i, c in enumerate(self.center))
        return (self.radius**2 - r2).abs() / (2 * self.radius)


class Disk(Ball):
    """A 2-D :class:`Ball`."""

    _dim = 2


class Sphere(Ball):
    """A 3-D :class:`Ball` (the solid ball; its surface is the boundary)."""

    _dim = 3
