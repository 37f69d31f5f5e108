"""The planar primitives: :class:`Ellipse`, :class:`Polygon` (simple, convex or not) and
:class:`Triangle`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.special import ellipe, ellipeinc

from pinnrun.config import ConfigError
from pinnrun.geometry.base import TOL, Primitive, as_name, as_points, as_vector, trimmed_flat

BISECTIONS = 64  # halvings of the bracket of the nearest point on an ellipse: below float64's resolution


def _number(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
        raise ConfigError(f"geometry: {what} must be a finite number, got {v!r}")
    return float(v)


def nearest_on_ellipse(y: np.ndarray, a: float, b: float) -> np.ndarray:
    """The nearest point of the ellipse (x0/a)^2 + (x1/b)^2 = 1 to each row of ``y`` (local frame).

    Eberly's method: by symmetry work in the first quadrant with a >= b; the nearest point is
    x = (r y0 / (s + r), y1 / (s + 1)) with r = (a/b)^2 and s the root of
    F(s) = (r z0 / (s + r))^2 + (z1 / (s + 1))^2 - 1 (z = y / (a, b)), decreasing on s > -1 and
    bracketed by [z1 - 1, max(0, |(r z0, z1)| - 1)]; bisection to float64's resolution. On the
    major axis (y1 = 0) the nearest point is off the axis when a y0 < a^2 - b^2.
    """
    swap = b > a
    if swap:
        y, a, b = y[:, ::-1], b, a
    sign = np.where(y < 0, -1.0, 1.0)
    y0, y1 = np.abs(y[:, 0]), np.abs(y[:, 1])
    x0, x1 = np.empty_like(y0), np.empty_like(y1)
    gen = y1 > 0
    r = (a / b) ** 2
    z0, z1 = y0[gen] / a, y1[gen] / b
    n0 = r * z0
    lo = z1 - 1
    hi = np.where(z0**2 + z1**2 - 1 < 0, 0.0, np.hypot(n0, z1) - 1)
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        pos = (n0 / (mid + r)) ** 2 + (z1 / (mid + 1)) ** 2 - 1 > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    s = 0.5 * (lo + hi)
    x0[gen], x1[gen] = r * y0[gen] / (s + r), y1[gen] / (s + 1)
    axis = ~gen  # on the major axis
    numer, denom = a * y0[axis], a * a - b * b
    off = numer < denom
    xde = np.where(off, numer / (denom if denom > 0 else 1.0), 1.0)
    x0[axis], x1[axis] = a * xde, np.where(off, b * np.sqrt(np.clip(1 - xde**2, 0.0, None)), 0.0)
    out = np.stack([x0, x1], axis=1) * sign
    return out[:, ::-1] if swap else out


class Ellipse(Primitive):
    """The ellipse with ``center``, ``semi_axes`` (a, b) along its own axes, turned by ``angle``
    (radians, counter-clockwise); one part, ``name`` (default "boundary"). Area pi a b; perimeter
    4 max(a,b) E(1 - min(a,b)^2/max(a,b)^2) (complete elliptic integral of the second kind).

    Boundary points are uniform in arc length: on x = (a cos t, b sin t) the arc length from t = 0
    is an incomplete elliptic integral of the second kind, inverted by a table on 513 values of t
    and three Newton steps (ds/dt = sqrt(a^2 sin^2 t + b^2 cos^2 t) >= min(a, b) > 0)."""

    def __init__(self, center, semi_axes, angle: float = 0.0, name: str | None = None):
        self.center = as_vector(center, "Ellipse center", 2)
        self.semi_axes = as_vector(semi_axes, "Ellipse semi_axes", 2)
        if (self.semi_axes <= 0).any():
            raise ConfigError(f"geometry: Ellipse semi_axes must be > 0, got {self.semi_axes.tolist()}")
        self.angle, self.dim = _number(angle, "Ellipse angle"), 2
        c, s = math.cos(self.angle), math.sin(self.angle)
        self._rot = np.array([[c, -s], [s, c]])  # local -> global: x = center + R u
        t = np.linspace(0.0, 2 * math.pi, 513)
        self._table = (self._arc(t), t)
        super().__init__([as_name(name, "Ellipse name") if name is not None else "boundary"])

    def __repr__(self) -> str:
        return f"Ellipse(center={self.center.tolist()}, semi_axes={self.semi_axes.tolist()}, angle={self.angle})"

    def _arc(self, t: np.ndarray) -> np.ndarray:
        """Arc length from parameter 0 to ``t``."""
        a, b = self.semi_axes
        if a >= b:  # a sqrt(1 - m cos^2 t), t = pi/2 - phi
            m = 1 - (b / a) ** 2
            return a * (ellipe(m) - ellipeinc(math.pi / 2 - t, m))
        return b * ellipeinc(t, 1 - (a / b) ** 2)  # b sqrt(1 - m sin^2 t)

    def _local(self, x: np.ndarray) -> np.ndarray:
        return (x - self.center) @ self._rot

    def _global(self, u: np.ndarray) -> np.ndarray:
        return self.center + u @ self._rot.T

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.sqrt((self._rot**2) @ self.semi_axes**2)
        return self.center - half, self.center + half

    @property
    def measure(self) -> float:
        return float(math.pi * np.prod(self.semi_axes))

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        u = self._local(as_points(x, self.dim))
        rho = np.sqrt(((u / self.semi_axes) ** 2).sum(axis=1))  # rho - 1 > tol / min(a, b) => farther than tol
        ins = rho <= 1
        near = np.flatnonzero(~ins & (rho - 1 <= tol / self.semi_axes.min()))
        gap = np.linalg.norm(u[near] - nearest_on_ellipse(u[near], *self.semi_axes), axis=1)
        ins[near[gap <= tol]] = True
        return ins

    def _piece_measure(self, k: int) -> float:
        return float(self._arc(2 * math.pi))

    def _piece_unit_dim(self, k: int) -> int:
        return 1

    def _piece_points(self, k: int, u: np.ndarray) -> np.ndarray:
        a, b = self.semi_axes
        s = u[:, 0] * self._piece_measure(0)
        t = np.interp(s, *self._table)
        for _ in range(3):
            t = t - (self._arc(t) - s) / np.hypot(a * np.sin(t), b * np.cos(t))
        return self._global(np.stack([a * np.cos(t), b * np.sin(t)], axis=1))

    def _project(self, k: int, x: np.ndarray) -> np.ndarray:
        return self._global(nearest_on_ellipse(self._local(x), *self.semi_axes))

    def _piece_normal(self, k: int, p: np.ndarray) -> np.ndarray:
        g = self._local(p) / self.semi_axes**2  # the gradient of (u0/a)^2 + (u1/b)^2, halved
        return (g / np.linalg.norm(g, axis=1, keepdims=True)) @ self._rot.T

    def _adf(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """|q| / sqrt(|grad q|^2 + 4 q^2 / ab), q = (u0/a)^2 + (u1/b)^2 - 1 in the ellipse's own axes:
        |q| / |grad q| (the distance to first order) on the ellipse, finite and smooth at its centre."""
        (a, b), (cx, cy) = map(float, self.semi_axes), map(float, self.center)
        c, s = float(self._rot[0, 0]), float(self._rot[1, 0])
        dx, dy = x[:, 0] - cx, x[:, 1] - cy
        u0, u1 = (c * dx + s * dy) / a, (c * dy - s * dx) / b
        q = u0 * u0 + u1 * u1 - 1
        grad2 = 4 * (u0 * u0 / (a * a) + u1 * u1 / (b * b))
        return q.abs() / torch.sqrt(grad2 + 4 * q * q / (a * b))


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _segments_meet(p1, p2, q1, q2, eps: float) -> np.ndarray:
    """Whether the closed segments p1p2 and q1q2 meet (arrays broadcast; ``eps`` for collinearity)."""

    def on(a, b, c):  # c on the segment ab, given collinear
        lo, hi = np.minimum(a, b) - eps, np.maximum(a, b) + eps
        return np.all((c >= lo) & (c <= hi), axis=-1)

    d1, d2 = _cross(q2 - q1, p1 - q1), _cross(q2 - q1, p2 - q1)
    d3, d4 = _cross(p2 - p1, q1 - p1), _cross(p2 - p1, q2 - p1)
    proper = (((d1 > eps) & (d2 < -eps)) | ((d1 < -eps) & (d2 > eps))) & (
        ((d3 > eps) & (d4 < -eps)) | ((d3 < -eps) & (d4 > eps))
    )
    touch = (
        ((np.abs(d1) <= eps) & on(q1, q2, p1))
        | ((np.abs(d2) <= eps) & on(q1, q2, p2))
        | ((np.abs(d3) <= eps) & on(p1, p2, q1))
        | ((np.abs(d4) <= eps) & on(p1, p2, q2))
    )
    return proper | touch


class Polygon(Primitive):
    """A simple polygon (convex or not, e.g. an L-shape) from its ``vertices`` in either orientation,
    stored counter-clockwise. Edge i runs from vertex i to vertex i+1 (the last back to the first);
    each edge is a piece: ``edge_names`` names them one by one (in the order of the vertices as
    given), else all are ``name`` (default "boundary"). Fewer than 3 vertices, a repeated vertex,
    zero area or edges that cross or touch are refused."""

    def __init__(self, vertices, name: str | None = None, edge_names: Sequence[str] | None = None):
        kind = type(self).__name__
        try:
            v = np.asarray(vertices, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"geometry: {kind} vertices must be a list of [x, y] pairs, got {vertices!r}") from None
        if v.ndim != 2 or v.shape[1] != 2 or not np.isfinite(v).all():
            raise ConfigError(f"geometry: {kind} vertices must be a list of finite [x, y] pairs, got {vertices!r}")
        m = len(v)
        if m < 3:
            raise ConfigError(f"geometry: {kind} needs at least 3 vertices, got {m}")
        default = as_name(name, f"{kind} name") if name is not None else "boundary"
        if edge_names is None:
            names = [default] * m
        elif isinstance(edge_names, str) or len(edge_names) != m:
            raise ConfigError(f"geometry: {kind} edge_names must be {m} names (one per edge), got {edge_names!r}")
        else:
            names = [as_name(e, f"{kind} edge_names[{i}]") for i, e in enumerate(edge_names)]
        w = np.roll(v, -1, axis=0)
        if (np.linalg.norm(w - v, axis=1) == 0).any():
            raise ConfigError(f"geometry: {kind} has a repeated vertex (consecutive vertices must differ)")
        scale = float(np.ptp(v, axis=0).max()) ** 2
        self._check_simple(v, w, 1e-12 * scale, kind)
        area = 0.5 * float(_cross(v, w).sum())
        if abs(area) <= 1e-12 * scale:
            raise ConfigError(f"geometry: {kind} has zero area (vertices on one line)")
        self._check_folds(v, w, 1e-12 * scale, kind)
        if area < 0:  # clockwise: reverse; edge j of the reversed polygon is edge m-2-j of the given one
            v, names = v[::-1].copy(), [names[(m - 2 - j) % m] for j in range(m)]
        self.vertices, self.dim, self._area = v, 2, abs(area)
        self._a, self._d = v, np.roll(v, -1, axis=0) - v
        self._len = np.linalg.norm(self._d, axis=1)
        self._out = np.stack([self._d[:, 1], -self._d[:, 0]], axis=1) / self._len[:, None]  # outward for ccw
        super().__init__(names)

    @staticmethod
    def _check_simple(v: np.ndarray, w: np.ndarray, eps: float, kind: str) -> None:
        """No two edges that are not neighbours meet (cross, touch, or share a point)."""
        m = len(v)
        i, j = np.triu_indices(m, k=1)
        adjacent = (j == i + 1) | ((i == 0) & (j == m - 1))
        meet = _segments_meet(v[i], w[i], v[j], w[j], eps) & ~adjacent
        if meet.any():
            k = int(np.flatnonzero(meet)[0])
            raise ConfigError(f"geometry: {kind} is self-intersecting (edges {i[k]} and {j[k]} meet)")

    @staticmethod
    def _check_folds(v: np.ndarray, w: np.ndarray, eps: float, kind: str) -> None:
        """No edge folds back onto its neighbour (collinear, opposite directions)."""
        d, e = w - v, np.roll(w - v, -1, axis=0)
        fold = (np.abs(_cross(d, e)) <= eps) & ((d * e).sum(axis=1) < 0)
        if fold.any():
            k = int(np.flatnonzero(fold)[0])
            raise ConfigError(f"geometry: {kind} is self-intersecting (edges {k} and {(k + 1) % len(v)} overlap)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vertices.tolist()})"

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    @property
    def measure(self) -> float:
        return self._area

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        """Even-odd rule (a ray towards +x crosses the boundary an odd number of times), or within
        ``tol`` of an edge."""
        x = as_points(x, self.dim)
        odd = np.zeros(len(x), dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            for (ax, ay), (dx, dy) in zip(self._a, self._d):
                crosses = (ay > x[:, 1]) != (ay + dy > x[:, 1])
                odd ^= crosses & (x[:, 0] < ax + (x[:, 1] - ay) * dx / dy)
        out = np.flatnonzero(~odd)
        near = np.zeros(len(out), dtype=bool)
        for k in range(len(self._a)):
            near |= np.linalg.norm(x[out] - self._project(k, x[out]), axis=1) <= tol
        odd[out[near]] = True
        return odd

    def _piece_measure(self, k: int) -> float:
        return float(self._len[k])

    def _piece_unit_dim(self, k: int) -> int:
        return 1

    def _piece_points(self, k: int, u: np.ndarray) -> np.ndarray:
        return self._a[k] + u[:, :1] * self._d[k]

    def _project(self, k: int, x: np.ndarray) -> np.ndarray:
        t = np.clip((x - self._a[k]) @ self._d[k] / self._len[k] ** 2, 0.0, 1.0)
        return self._a[k] + t[:, None] * self._d[k]

    def _piece_normal(self, k: int, p: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._out[k], p.shape).copy()

    def _adf(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """:func:`trimmed_flat` of the edge: f the signed distance to its line, t = ((L/2)^2 - s^2) / L
        with s the coordinate along the edge from its midpoint (L its length)."""
        (ax, ay), (dx, dy), length = map(float, self._a[k]), map(float, self._d[k]), float(self._len[k])
        rx, ry = x[:, 0] - ax, x[:, 1] - ay
        f = (dx * ry - dy * rx) / length
        s = (dx * rx + dy * ry) / length - length / 2
        return trimmed_flat(f, (length**2 / 4 - s * s) / length)


class Triangle(Polygon):
    """The triangle with vertices ``a``, ``b``, ``c``; edges ab, bc, ca as in :class:`Polygon`."""

    def __init__(self, a, b, c, name: str | None = None, edge_names: Sequence[str] | None = None):
        pts = [as_vector(p, f"Triangle {k}", 2) for k, p in zip("abc", (a, b, c))]
        super().__init__(np.stack(pts), name=name, edge_names=edge_names)
