"""Constructive solid geometry: :class:`Union`, :class:`Difference`, :class:`Intersection` of two
geometries of the same dimension (``a | b``, ``a - b``, ``a & b``).

The boundary of a result is made of the pieces of its children's boundaries that lie on it, each
keeping its part name (see :meth:`pinnrun.geometry.base.Piece.keep` for the rules):

- union A | B: A's pieces outside B's interior, B's pieces outside closed A;
- intersection A & B: A's pieces in closed B, B's pieces in A's interior;
- difference A - B: A's pieces outside B's interior, B's pieces in A's interior, their normals
  reversed (a hole's normal points into the hole, out of the result).

Where a piece of A lies on B's boundary too (coinciding faces, a face through B's corner), a probe
a small step off the piece along its normal decides: a face shared facing the same way is kept
once (from A, or removed by a difference), faces back to back are interior to a union and kept by
a difference (see :meth:`pinnrun.geometry.base.Piece.keep`). Nested operations clip in turn, each
level with the normal's sign at that level.

Points are on a boundary, or inside, within a tolerance (1e-9 by default): where two boundaries
touch tangentially, a stretch of a few sqrt(R tol) (R the radius of curvature) around the contact
is dropped from both.

``measure`` is a quasi-Monte Carlo estimate: the fraction of 2**18 scrambled Sobol points (fixed
seed) of the bounding box that lie inside, times its volume. Its error for a domain with a smooth
or piecewise-flat boundary is far below 1e-3 of the box's volume (1e-5 to 4e-5 relative for a
square minus two disks, two overlapping disks, a cube minus a sphere). ``boundary_measure`` is
exact for pieces CSG leaves whole (the holes of a plate) and a quasi-Monte Carlo estimate (2**14
points on a curve, 2**16 on a surface) for clipped ones.

``distance`` is the minimum over the chosen pieces of the distance to each piece: exact where the
nearest point of the whole (unclipped) piece is kept, which covers a box minus balls inside it
and an L-shape cut from a square; where it is not, the distance to the nearest point of a fixed
sample of the kept portion (too large by at most about the sample's spacing: 4e-4 of a unit
circle, about 1e-2 of a unit sphere's radius), so the arcs CSG removes (one disk's circle inside
the other in a union) do not bring the distance down to 0 inside the domain.
"""

from __future__ import annotations

import warnings

import numpy as np

from pinnrun.config import ConfigError
from pinnrun.geometry.base import TOL, Geometry, GeometryWarning, Piece, as_points, unit_sobol

MEASURE_POINTS = 2**18
CHUNK = 2**16
OVERLAP_POINTS = 2**12  # Sobol points of the bounding boxes' overlap that look for a difference's cut


class _Boolean(Geometry):
    """Two operands ``a`` and ``b`` and the pieces of the result's boundary."""

    def __init__(self, a: Geometry, b: Geometry):
        kind = type(self).__name__
        for g in (a, b):
            if not isinstance(g, Geometry):
                raise ConfigError(f"geometry: {kind} needs two geometries, got {type(g).__name__}")
        if a.dim != b.dim:
            raise ConfigError(f"geometry: {kind} of a {a.dim}-D and a {b.dim}-D geometry (dims must agree)")
        self.a, self.b, self.dim = a, b, a.dim
        self._pieces = self._clip(a._pieces, b._pieces)
        self._measure: float | None = None

    def _clip(self, pa: tuple[Piece, ...], pb: tuple[Piece, ...]) -> tuple[Piece, ...]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.a!r}, {self.b!r})"

    @property
    def measure(self) -> float:
        """Quasi-Monte Carlo estimate over the bounding box (2**18 Sobol points, fixed seed), cached."""
        if self._measure is None:
            lower, upper = self.bbox
            if np.any(upper <= lower):
                self._measure = 0.0
            else:
                u = unit_sobol(self.dim, MEASURE_POINTS)
                hits = sum(
                    int(self.inside(lower + u[i : i + CHUNK] * (upper - lower), 0.0).sum())
                    for i in range(0, MEASURE_POINTS, CHUNK)
                )
                self._measure = float(np.prod(upper - lower)) * hits / MEASURE_POINTS
        return self._measure


class Union(_Boolean):
    """A | B: the points in A or in B."""

    def _clip(self, pa, pb):
        return tuple(p.clipped("or", True, self.b, False) for p in pa) + tuple(
            p.clipped("or", False, self.a, False) for p in pb
        )

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        (la, ua), (lb, ub) = self.a.bbox, self.b.bbox
        return np.minimum(la, lb), np.maximum(ua, ub)

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        x = as_points(x, self.dim)
        ins = self.a.inside(x, tol)
        rest = np.flatnonzero(~ins)
        ins[rest] = self.b.inside(x[rest], tol)
        return ins


class Intersection(_Boolean):
    """A & B: the points in both. Its bounding box is the overlap of theirs (empty: measure 0)."""

    def _clip(self, pa, pb):
        return tuple(p.clipped("and", True, self.b, False) for p in pa) + tuple(
            p.clipped("and", False, self.a, False) for p in pb
        )

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        (la, ua), (lb, ub) = self.a.bbox, self.b.bbox
        return np.maximum(la, lb), np.minimum(ua, ub)

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        x = as_points(x, self.dim)
        ins = self.a.inside(x, tol)
        idx = np.flatnonzero(ins)
        ins[idx] = self.b.inside(x[idx], tol)
        return ins


class Difference(_Boolean):
    """A - B: the points of A not in B's interior (the closure of A minus B). A GeometryWarning
    says so where B does not meet A (their bounding boxes do not overlap, or none of 4096 Sobol
    points of the overlap lies in both): the difference is A itself, a hole that misses."""

    def __init__(self, a: Geometry, b: Geometry):
        super().__init__(a, b)
        (la, ua), (lb, ub) = a.bbox, b.bbox
        lower, upper = np.maximum(la, lb), np.minimum(ua, ub)
        meets = bool(np.all(upper > lower))
        if meets:
            x = lower + unit_sobol(self.dim, OVERLAP_POINTS) * (upper - lower)
            meets = bool((a.inside(x, 0.0) & b.inside(x, 0.0)).any())
        if not meets:
            hole, domain = (f"{g!r}"[:80] + ("..." if len(f"{g!r}") > 80 else "") for g in (b, a))
            warnings.warn(
                f"geometry: the difference removes nothing: {hole} does not meet {domain}",
                GeometryWarning,
                stacklevel=2,
            )

    def _clip(self, pa, pb):
        return tuple(p.clipped("and", True, self.b, True) for p in pa) + tuple(
            p.clipped("and", False, self.a, False, flip=True) for p in pb
        )

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a.bbox

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        x = as_points(x, self.dim)
        ins = self.a.inside(x, tol)
        idx = np.flatnonzero(ins)
        ins[idx] = ~self.b._strict_inside(x[idx], tol)
        return ins
