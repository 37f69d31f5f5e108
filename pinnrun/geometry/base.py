"""The interface every geometry answers (:class:`Geometry`), the boundary pieces it is made of
(:class:`Piece`) and the rejection loop both kinds of sampling share.

A geometry's boundary is a tuple of pieces: a box face, a polygon edge, a sphere, an ellipse. A
primitive's pieces are its own; a CSG result's pieces are its children's pieces, each with a
*clip*: the rule that says which of its points lie on the result's boundary, and the sign of its
normal there (-1 on the cut-out surfaces of a difference). Sampling, ``on_boundary``, ``normal``,
``boundary_measure`` and ``distance`` are written once, here, over the pieces.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.stats import qmc

from pinnrun.config import ConfigError

TOL = 1e-9  # the default tolerance of inside / on_boundary / normal (absolute, in the domain's units)
MAX_ROUNDS = 50  # rejection rounds before giving up
MAX_BATCH = 2**20  # candidates drawn in one round at most
EMPTY_AFTER = 2**18  # candidates drawn without one accepted: the domain is empty (or < 4e-6 of its box)
PROBE = 1e-7  # the least step of the probes that tell coinciding faces apart (Piece.keep)
#: the part name that always stands for the whole boundary (also the default name of a one-part primitive)
WHOLE = "boundary"
SEED = 20250101  # the fixed seed of every quasi-Monte Carlo estimate (measures, kept pieces)

Draw = Callable[[int, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]
Parts = str | Iterable[str] | None


class GeometryWarning(UserWarning):
    """A geometry that is valid but probably not what was meant (a hole that misses the domain)."""


def as_points(x, dim: int) -> np.ndarray:
    """``x`` as a float64 array of shape (n, dim); a 1-D array is a column when ``dim`` is 1."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1 and dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ConfigError(f"geometry: points must have shape (n, {dim}), got {x.shape}")
    return x


def as_vector(v, what: str, size: int | None = None) -> np.ndarray:
    """``v`` as a finite float64 vector (of ``size`` entries when given), or a one-line ConfigError."""
    try:
        out = np.atleast_1d(np.asarray(v, dtype=np.float64))
    except (TypeError, ValueError):
        raise ConfigError(f"geometry: {what} must be a list of numbers, got {v!r}") from None
    if out.ndim != 1 or out.size == 0 or (size is not None and out.size != size):
        want = f"{size} numbers" if size is not None else "a non-empty list of numbers"
        raise ConfigError(f"geometry: {what} must be {want}, got {np.asarray(v).tolist()!r}")
    if not np.isfinite(out).all():
        raise ConfigError(f"geometry: {what} must be finite, got {out.tolist()!r}")
    return out


def as_name(name, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"geometry: {what} must be a non-empty string, got {name!r}")
    return name


#: the least value the approximate distance functions take (a square root's argument is clamped to
#: its square): 0 on the boundary to float precision, with finite derivatives there
ADF_FLOOR = 1e-15


def root(q: torch.Tensor) -> torch.Tensor:
    """sqrt(q) with q clamped at ADF_FLOOR^2: finite derivatives where q reaches 0."""
    return torch.sqrt(q.clamp_min(ADF_FLOOR * ADF_FLOOR))


def trimmed_flat(f: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The approximate distance to a flat piece (a segment, a rectangular face): ``f`` the signed
    distance to its line or plane, ``t`` a trimming function positive on the piece and negative on
    the rest of the plane. sqrt(f^2 + ((sqrt(t^2 + f^4) - t) / 2)^2) vanishes on the piece only, is
    smooth off it and equals |f| to first order near it (Sukumar & Srivastava 2022, "Exact imposition
    of boundary conditions with distance functions in physics-informed deep neural networks", CMAME
    389, 114333, eq. 11)."""
    r = root(t * t + f**4)
    return root(f * f + ((r - t) / 2) ** 2)


def r_and(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The R-conjunction a + b - sqrt(a^2 + b^2): positive where both are."""
    return a + b - root(a * a + b * b)


def uniform_draw(n: int, lower: np.ndarray, upper: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The default point sampler: ``n`` points uniform in the box [lower, upper]."""
    return lower + (upper - lower) * rng.random((n, len(lower)))


def unit_sobol(d: int, n: int) -> np.ndarray:
    """``n`` scrambled Sobol points in [0, 1)^d from the fixed seed (``n`` a power of 2)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(SEED)).random(n)


def collect(n: int, draw_round: Callable[[int], tuple[tuple[np.ndarray, ...], int]], fail) -> tuple[np.ndarray, ...]:
    """Rejection sampling's refill loop: ``draw_round(m)`` draws ``m`` candidates and returns the
    arrays of the accepted ones (rows aligned) and how many it drew; rounds are repeated with
    m = (n - kept) / rate * 1.2 + 16 candidates until ``n`` are kept, and the first ``n`` in draw
    order are returned. ``fail(kept, drawn)`` builds the error raised when nothing is accepted after
    EMPTY_AFTER candidates, or too few after MAX_ROUNDS rounds."""
    chunks: list[tuple[np.ndarray, ...]] = []
    have = drawn = 0
    m = n
    for _ in range(MAX_ROUNDS):
        kept, count = draw_round(m)
        chunks.append(kept)
        have += len(kept[0])
        drawn += count
        if have >= n:
            return tuple(np.concatenate([c[i] for c in chunks])[:n] for i in range(len(kept)))
        if have == 0 and drawn >= EMPTY_AFTER:
            break
        m = min(math.ceil((n - have) * drawn / have * 1.2) + 16 if have else 4 * m + 16, MAX_BATCH)
    raise fail(have, drawn)


class Piece:
    """One piece of a primitive's boundary (``owner``'s piece ``index``) as a geometry keeps it:
    its part ``name``, the ``sign`` of its normal, and the ``clips`` of the CSG operations above it,
    innermost first. A clip ``(op, first, other, complement, sign)`` keeps the points of the piece
    that lie on the boundary of ``self_operand op other`` (``op`` "or" or "and"; ``other`` taken as
    its complement when ``complement``: a difference is A and not B), ``first`` telling which
    operand the piece belongs to, ``sign`` its normal's sign at that level."""

    def __init__(self, owner, index: int, name: str, sign: float = 1.0, clips: tuple = ()):
        self.owner, self.index, self.name, self.sign, self.clips = owner, index, name, sign, clips
        self._sample: tuple[np.ndarray, np.ndarray] | None = None
        self._tree: cKDTree | None | bool = False

    @property
    def measure(self) -> float:
        """The measure of the whole (unclipped) piece."""
        return self.owner._piece_measure(self.index)

    @property
    def unit_dim(self) -> int:
        return self.owner._piece_unit_dim(self.index)

    def points(self, u: np.ndarray) -> np.ndarray:
        """Points of the piece from unit-cube coordinates: uniform ``u`` gives uniform points."""
        return self.owner._piece_points(self.index, u)

    def project(self, x: np.ndarray) -> np.ndarray:
        """The nearest point of the (unclipped) piece to each row of ``x``."""
        return self.owner._project(self.index, x)

    def primitive_normal(self, p: np.ndarray) -> np.ndarray:
        """The owner's outward unit normal at points ``p`` of the piece."""
        return self.owner._piece_normal(self.index, p)

    def adf(self, x: torch.Tensor) -> torch.Tensor:
        """The owner's approximate distance to the whole (unclipped) piece, a torch function of the
        points (n, dim) -> (n,): 0 on the piece, positive off it, smooth in the domain."""
        return self.owner._adf(self.index, x)

    def clipped(self, op: str, first: bool, other, complement: bool, flip: bool = False) -> Piece:
        clip = (op, first, other, complement, self.sign)
        return Piece(self.owner, self.index, self.name, -self.sign if flip else self.sign, (*self.clips, clip))

    def keep(self, x: np.ndarray, pn: np.ndarray, tol: float) -> np.ndarray:
        """Which points ``x`` of the piece (owner's normals ``pn``) lie on the geometry's boundary.

        Per clip, with O the other operand (or its complement, for a difference) and n this piece's
        normal at that level:

        - union, first operand: not strictly inside O; where on O's boundary too, only if the probe
          x + eps n is outside O (a face shared in the same direction is kept once, from the first
          operand; faces touching back to back are interior);
        - union, second operand: not in closed O;
        - intersection (difference: O = the complement of B), first operand: in closed O; where on
          O's boundary too, only if the probe x - eps n is in O;
        - intersection, second operand: strictly inside O.

        Strictly inside: inside and farther than ``tol`` from O's boundary; eps = max(10 tol, 1e-7),
        so the probes decide coinciding faces, corners and edges of O alike."""
        ok = np.ones(len(x), dtype=bool)
        eps = max(10 * tol, PROBE)
        for op, first, other, complement, sign in self.clips:
            idx = np.flatnonzero(ok)
            if idx.size == 0:
                break
            y = x[idx]
            closed = other.inside(y, tol)
            on = np.zeros(len(y), dtype=bool)
            on[closed] = other.on_boundary(y[closed], tol)
            strict = closed & ~on
            if complement:
                closed, strict = ~strict, ~closed
            if not first:
                good = ~closed if op == "or" else strict
            else:
                probe = y[on] + (eps if op == "or" else -eps) * sign * pn[idx[on]]
                hit = ~other._strict_inside(probe, tol) if complement else other.inside(probe, tol)
                good = ~strict if op == "or" else closed
                good[on] = ~hit if op == "or" else hit
            ok[idx] = good
        return ok

    def _kept_sample(self) -> tuple[np.ndarray, np.ndarray]:
        """A fixed quasi-random sample of the piece (2**14 points on a curve, 2**16 on a surface)
        and which of its points are kept."""
        if self._sample is None:
            d = self.unit_dim
            u = np.zeros((1, 0)) if d == 0 else unit_sobol(d, 2**14 if d == 1 else 2**16)
            x = self.points(u)
            keep = self.keep(x, self.primitive_normal(x), TOL) if self.clips else np.ones(len(x), dtype=bool)
            self._sample = (x, keep)
        return self._sample

    @property
    def kept_fraction(self) -> float:
        """The fraction of the piece's measure on the geometry's boundary: 1 for an unclipped piece,
        else a quasi-Monte Carlo estimate (error about 1e-4 of the piece on a curve)."""
        return 1.0 if not self.clips else float(self._kept_sample()[1].mean())

    def distance(self, x: np.ndarray) -> np.ndarray:
        """The distance from ``x`` to the piece: exact where the nearest point of the unclipped piece
        is kept; elsewhere the distance to the nearest kept point of the fixed sample (an upper
        bound, too large by at most about the sample's spacing); inf where nothing is kept."""
        p = self.project(x)
        d = np.linalg.norm(x - p, axis=1)
        if self.clips:
            lost = ~self.keep(p, self.primitive_normal(p), TOL)
            if lost.any():
                if self._tree is False:
                    pts, keep = self._kept_sample()
                    self._tree = cKDTree(pts[keep]) if keep.any() else None
                d[lost] = np.inf if self._tree is None else self._tree.query(x[lost])[0]
        return d


class Geometry:
    """A closed domain in ``dim`` dimensions with a named, piecewise boundary.

    Points are float64 arrays of shape (n, dim). Subclasses give ``dim``, ``bbox``, ``measure``,
    ``inside`` and the boundary pieces ``_pieces``; everything else is written here over the pieces.
    ``a | b``, ``a - b`` and ``a & b`` are union, difference and intersection.
    """

    dim: int
    _pieces: tuple[Piece, ...]

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper): a box that holds the domain."""
        raise NotImplementedError

    @property
    def measure(self) -> float:
        """Length, area or volume."""
        raise NotImplementedError

    def inside(self, x, tol: float = TOL) -> np.ndarray:
        """Which rows of ``x`` lie in the closed domain (within ``tol`` of it counts as inside)."""
        raise NotImplementedError

    @property
    def parts(self) -> tuple[str, ...]:
        """The names of the boundary parts, in the order of the pieces."""
        return tuple(dict.fromkeys(p.name for p in self._pieces))

    def check_parts(self, part: Parts) -> None:
        """A one-line ConfigError if ``part`` names a part this geometry does not have."""
        self._select(part)

    def _select(self, part: Parts, live: bool = False) -> tuple[Piece, ...]:
        """The pieces of the named parts (all if None, or if one of them is ``"boundary"``, unless a
        part has that name); with ``live``, a ConfigError if CSG has clipped all of them away."""
        pieces = self._pieces
        names = () if part is None else (part,) if isinstance(part, str) else tuple(part)
        if part is not None and not (WHOLE in names and WHOLE not in self.parts):
            for name in names or ("",):
                if name not in self.parts:
                    raise ConfigError(
                        f"geometry: unknown boundary part {name!r} (parts: {', '.join(self.parts)}); "
                        f"'{WHOLE}' names all of them"
                    )
            pieces = tuple(p for p in self._pieces if p.name in names)
        if live and all(p.clips and p.kept_fraction == 0 for p in pieces):
            which = "the boundary" if part is None else f"part(s) {part!r}"
            raise ConfigError(f"geometry: {which} is empty: every piece of it is clipped away by the CSG")
        return pieces

    def _normals(self, x: np.ndarray, tol: float, pieces: Sequence[Piece]) -> np.ndarray:
        """The outward normal of the first of ``pieces`` that keeps each point (within ``tol``); nan rows
        for points on none of them."""
        out = np.full(x.shape, np.nan)
        todo = np.arange(len(x))
        for piece in pieces:
            if todo.size == 0:
                break
            p = piece.project(x[todo])
            near = np.linalg.norm(x[todo] - p, axis=1) <= tol
            if not near.any():
                continue
            idx, pn = todo[near], piece.primitive_normal(p[near])
            ok = piece.keep(x[idx], pn, tol)
            out[idx[ok]] = piece.sign * pn[ok]
            todo = np.setdiff1d(todo, idx[ok], assume_unique=True)
        return out

    def on_boundary(self, x, tol: float = TOL, part: Parts = None) -> np.ndarray:
        """Which rows of ``x`` lie within ``tol`` of the boundary (of the named part or parts)."""
        pieces = self._select(part)
        return np.isfinite(self._normals(as_points(x, self.dim), tol, pieces)[:, 0])

    def normal(self, x, tol: float = TOL) -> np.ndarray:
        """The outward unit normal at boundary points ``x``, shape (n, dim); rows of nan for points
        farther than ``tol`` from the boundary. At a corner or an edge, the normal of one of the
        pieces that meet there (the first in piece order)."""
        return self._normals(as_points(x, self.dim), tol, self._pieces)

    def _strict_inside(self, x: np.ndarray, tol: float) -> np.ndarray:
        """Inside and farther than ``tol`` from the boundary."""
        ins = self.inside(x, tol)
        idx = np.flatnonzero(ins)
        ins[idx[self.on_boundary(x[idx], tol)]] = False
        return ins

    def boundary_measure(self, part: Parts = None) -> float:
        """Length of the boundary curve or area of the boundary surface (of the named parts); exact
        for primitives, a quasi-Monte Carlo estimate for pieces clipped by CSG."""
        return float(sum(p.measure * p.kept_fraction for p in self._select(part)))

    def interior_points(self, n: int, rng: np.random.Generator, draw: Draw | None = None) -> np.ndarray:
        """Exactly ``n`` points in the domain, shape (n, dim): ``draw(m, lower, upper, rng)`` (default:
        uniform) draws candidates in the bounding box, those outside are rejected, rounds repeat
        until ``n`` are kept (the first ``n`` in draw order). ConfigError if the domain is empty."""
        draw = draw or uniform_draw
        lower, upper = self.bbox

        def fail(kept: int, drawn: int) -> ConfigError:
            return ConfigError(
                f"geometry: {kept} of {n} interior points accepted from {drawn} candidates in the bounding box; "
                f"the domain is empty or too thin (measure {self.measure:.3g})"
            )

        if n <= 0:
            return np.zeros((0, self.dim))
        if np.any(upper <= lower):
            raise ConfigError("geometry: no interior points: the bounding box is empty, so is the domain (measure 0)")

        def one(m: int) -> tuple[tuple[np.ndarray], int]:
            x = np.asarray(draw(m, lower, upper, rng), dtype=np.float64)
            return (x[self.inside(x, 0.0)],), len(x)

        return collect(n, one, fail)[0]

    def boundary_points(self, n: int, rng: np.random.Generator, part: Parts = None, *, normals: bool = False):
        """Exactly ``n`` points on the boundary (or on the named parts), uniform with respect to its
        measure (arc length, area); with ``normals=True``, ``(points, normals)``: the outward normal
        of the piece each point was drawn from. Candidates are split among the pieces by a
        multinomial draw weighted by their measures, drawn uniformly on each piece, shuffled, and
        those the CSG clips away are rejected (rounds repeat until ``n`` are kept)."""
        pieces = self._select(part, live=n > 0)
        weights = np.array([p.measure for p in pieces])

        def fail(kept: int, drawn: int) -> ConfigError:
            which = "the boundary" if part is None else f"part(s) {part!r}"
            return ConfigError(
                f"geometry: {kept} of {n} points on {which} accepted from {drawn} candidates; it is empty "
                f"(clipped away) or too small (boundary measure {self.boundary_measure(part):.3g})"
            )

        def one(m: int) -> tuple[tuple[np.ndarray, np.ndarray], int]:
            xs, ns = [np.zeros((0, self.dim))], [np.zeros((0, self.dim))]
            for piece, count in zip(pieces, rng.multinomial(m, weights / weights.sum())):
                if count:
                    x = piece.points(rng.random((count, piece.unit_dim)))
                    pn = piece.primitive_normal(x)
                    ok = piece.keep(x, pn, TOL) if piece.clips else slice(None)
                    xs.append(x[ok])
                    ns.append(piece.sign * pn[ok])
            order = rng.permutation(sum(len(x) for x in xs))
            return (np.concatenate(xs)[order], np.concatenate(ns)[order]), m

        if n <= 0:
            out = (np.zeros((0, self.dim)),) * 2
        else:
            out = collect(n, one, fail)
        return out if normals else out[0]

    def distance(self, x, parts: Parts = None) -> np.ndarray:
        """The distance from ``x`` to the chosen boundary parts (all if None), shape (n,), for hard
        constraints u = g + distance * N: the minimum over their pieces of :meth:`Piece.distance`
        (exact for primitives and for unclipped pieces). ConfigError if CSG clipped the parts away."""
        x = as_points(x, self.dim)
        d = np.full(len(x), np.inf)
        for piece in self._select(parts, live=True):
            d = np.minimum(d, piece.distance(x))
        return d

    def adf(self, x: torch.Tensor, parts: Parts = None) -> torch.Tensor:
        """An approximate distance to the chosen boundary parts (all if None), in torch and
        differentiable to any order, for hard constraints u = g + adf * N: points (n, dim) -> (n,).

        It vanishes on the parts (to ADF_FLOOR), is positive elsewhere and equals the distance to
        first order near them: 1 / sum_k 1 / phi_k over their pieces, with phi_k the piece's own
        approximate distance (a face or an edge: :func:`trimmed_flat`; a ball: |r^2 - |x - c|^2| / 2r;
        an ellipse: |q| / |grad q| near it, q its implicit function). Each phi_k vanishes on its whole
        primitive piece: where CSG cut a piece, the cut-off stretch lies outside the domain (a
        difference, an intersection), except in a union, where it lies inside: a ConfigError then
        names the part."""
        pieces = self._select(parts, live=True)
        for piece in pieces:
            if any(clip[0] == "or" for clip in piece.clips) and piece.kept_fraction < 1:
                raise ConfigError(
                    f"geometry: no distance function for part {piece.name!r}: a union covers part of its "
                    "boundary piece, which then lies inside the domain (hard constraints need the part's "
                    "pieces whole, or cut by a difference or an intersection)"
                )
        inverse = sum(1 / piece.adf(x) for piece in pieces)
        return 1 / inverse

    def __or__(self, other: Geometry) -> Geometry:
        from pinnrun.geometry.csg import Union

        return Union(self, other) if isinstance(other, Geometry) else NotImplemented

    def __sub__(self, other: Geometry) -> Geometry:
        from pinnrun.geometry.csg import Difference

        return Difference(self, other) if isinstance(other, Geometry) else NotImplemented

    def __and__(self, other: Geometry) -> Geometry:
        from pinnrun.geometry.csg import Intersection

        return Intersection(self, other) if isinstance(other, Geometry) else NotImplemented


class Primitive(Geometry):
    """A geometry with its own boundary pieces, one per name in ``piece_names``. Subclasses give, per
    piece k: ``_piece_measure(k)``, ``_piece_unit_dim(k)``, ``_piece_points(k, u)`` (uniform from the
    unit cube), ``_project(k, x)`` (the nearest point) and ``_piece_normal(k, p)``."""

    def __init__(self, piece_names: Sequence[str]):
        self._pieces = tuple(Piece(self, k, name) for k, name in enumerate(piece_names))

    def _piece_measure(self, k: int) -> float:
        raise NotImplementedError

    def _piece_unit_dim(self, k: int) -> int:
        raise NotImplementedError

    def _piece_points(self, k: int, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _project(self, k: int, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _piece_normal(self, k: int, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _adf(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """The approximate distance to piece k (:meth:`Piece.adf`)."""
        raise NotImplementedError
