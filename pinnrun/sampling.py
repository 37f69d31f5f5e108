"""Collocation points for every condition, drawn with scipy.stats.qmc.

Points of resampling round r for condition c are a pure function of
(seed, c, r), so a resumed run draws exactly the points the uninterrupted run
had, and only the round number needs to be checkpointed.

A condition on faces of the domain (:meth:`~pinnrun.problems.Condition.faces`)
has its points shared among the faces in proportion to their size (the product
of the other free variables' ranges), dealt out in random order; a condition in
``equation.per_face`` has ``points`` on each face, stored face after face, so
that its loss can be the sum of the per-face means (:attr:`PointSets.faces`).
Conditions in ``equation.observations.collocate`` keep the observed points
(:meth:`PointSets.collocate`).

Residual-based adaptive distribution (RAD; Wu, Zhu, Tan, Kartha & Lu 2023, "A comprehensive
study of non-adaptive and residual-based adaptive sampling for physics-informed neural
networks", CMAME 403, 115671) for the conditions in ``sampler.rad.conditions``: at
resampling round r >= 1, ``candidates`` fresh points are drawn with the condition's method
(seeded by (seed, condition, r) like any draw), and the condition's points are chosen among
them without replacement with probability

    p(x) proportional to |r(x)|^k / mean_candidates |r|^k + c,

|r(x)| the norm over the residual's components of the current network at x (the
:attr:`PointSets.scorer` the task gives). Round 0 is a plain draw, as in the paper's
algorithm (uniform points first, RAD after some training). These points depend on the
network at the round's first step, so they are checkpointed (:meth:`PointSets.state_dict`).

In a distributed run (:mod:`pinnrun.distributed`) every rank draws the whole set and trains on
its part (:meth:`PointSets.at`; :meth:`PointSets.everywhere` is the whole set): a slice of each
face's points, and for the condition of causal training (``ordered``) a slice of each chunk of
the points sorted along its variable. RAD's candidates are scored in parts and gathered.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from scipy.stats import qmc

from pinnrun.config import ConfigError, EquationConfig, RadConfig, SamplerConfig, SamplerMethod
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.geometry import WHOLE

#: (condition, candidate points (N, d)) -> |r| at each point, shape (N,)
Scorer = Callable[[str, torch.Tensor], Any]


class Observations(NamedTuple):
    """Data of an inverse problem (``equation.observations``): the observed ``points`` (n, d), the
    ``values`` (n, m) of the observed ``outputs`` there, in that order (m of the problem's outputs)."""

    points: torch.Tensor
    values: torch.Tensor
    outputs: tuple[str, ...]


#: the methods that lay points on a regular grid (round(n ** (1/k)) per axis, not always n)
GRIDS = (SamplerMethod.grid, SamplerMethod.linspace)


def sample_box(
    method: SamplerMethod, n: int, lower: Sequence[float], upper: Sequence[float], rng: np.random.Generator
) -> np.ndarray:
    """``n`` points in the box [lower, upper] (one column per dimension).

    ``grid`` puts m = round(n ** (1/k)) points on each of the k axes (cell
    centres, so no two conditions share a point), m**k points in all; ``linspace``
    as many at linspace(lower, upper, m) per axis, both ends included (jaxpi's
    ``x_star`` and ``t_star``: a condition on a fixed grid of given size).
    """
    k = len(lower)
    if k == 0:
        return np.zeros((n, 0))
    if method is SamplerMethod.lhs:
        unit = qmc.LatinHypercube(d=k, rng=rng).random(n)
    elif method is SamplerMethod.sobol:
        with warnings.catch_warnings():  # balance warning for n not a power of 2
            warnings.simplefilter("ignore", UserWarning)
            unit = qmc.Sobol(d=k, scramble=True, rng=rng).random(n)
    elif method is SamplerMethod.uniform:
        unit = rng.random((n, k))
    elif method is SamplerMethod.hammersley:
        unit = hammersley(n, k)
    elif method in GRIDS:
        m = max(1, round(n ** (1.0 / k)))
        axis = (np.arange(m) + 0.5) / m if method is SamplerMethod.grid else np.linspace(0.0, 1.0, m)
        unit = np.stack(np.meshgrid(*([axis] * k), indexing="ij"), -1).reshape(-1, k)
    else:  # pragma: no cover - the schema only admits the methods above
        raise ConfigError(f"sampler.method: unknown '{method}'")
    return qmc.scale(unit, lower, upper)


def hammersley(n: int, k: int) -> np.ndarray:
    """The Hammersley set of ``n`` points in [0, 1)^k without its first point (the origin), as
    DeepXDE and the PINNacle benchmark draw it: point i = 1..n has the van der Corput radical
    inverses of i in bases 2, 3, 5, ... (an unscrambled Halton sequence) for its first k - 1
    coordinates and i / (n + 1) for its last; in one dimension, the base-2 van der Corput sequence
    from i = 1. Deterministic: no random state, so every draw of n points is the same."""
    if k == 1:
        return qmc.Halton(d=1, scramble=False).random(n + 1)[1:]
    halton = qmc.Halton(d=k - 1, scramble=False).random(n + 1)[1:]
    return np.concatenate([halton, (np.arange(1, n + 1) / (n + 1))[:, None]], axis=1)


def box_count(method: SamplerMethod, n: int, k: int) -> int:
    """How many points :func:`sample_box` gives when asked for ``n`` in ``k`` dimensions."""
    return max(1, round(n ** (1.0 / k))) ** k if method in GRIDS and k > 0 else n


def rad_probabilities(norms: np.ndarray, k: float, c: float) -> np.ndarray:
    """RAD's selection probabilities (Wu et al. 2023): p_i proportional to
    |r_i|^k / mean_j |r_j|^k + c over the candidates.

    Where the mean is 0 or not finite (a network with no residual, or a diverged one) every
    candidate is equally likely; with c = 0, candidates with |r| = 0 keep a tiny weight so that
    enough of them can still be drawn without replacement.
    """
    e = np.abs(np.asarray(norms, dtype=np.float64)) ** k  # k = 0: 0 ** 0 = 1, uniform
    mean = e.mean() if len(e) else 0.0
    if not (np.isfinite(mean) and mean > 0):
        w = np.ones_like(e)
    else:
        w = e / mean + c
        w = np.where(w > 0, w, w.max() * 1e-12)
    return w / w.sum()


def check_conditions(
    problem,
    conditions: Mapping[str, Any],
    counts: Mapping[str, int],
    per_condition: Mapping[str, Any],
    per_face: Sequence[str],
    rad: Sequence[str],
) -> None:
    """Every condition named by the settings is one of the equation's; each has a point count; the
    faces of a condition are faces of free variables."""
    for key, name in (
        ("equation.points", counts),
        ("sampler.per_condition", per_condition),
        ("equation.per_face", per_face),
        ("sampler.rad.conditions", rad),
    ):
        unknown = set(name) - set(conditions)
        if unknown:
            raise ConfigError(
                f"{key}: unknown condition {sorted(unknown)} (this equation has: {', '.join(conditions)})"
            )
    missing = set(conditions) - set(counts)
    if missing:
        raise ConfigError(f"equation.points: no point count for {sorted(missing)}")
    for c in per_face:
        if not conditions[c].faces() and not conditions[c].on:
            raise ConfigError(f"equation.per_face: condition '{c}' does not lie on faces or parts of the domain")
    for c, cond in conditions.items():
        if problem.geometry is not None:
            check_on_geometry(problem, c, cond)
        elif cond.on:
            raise ConfigError(
                f"condition '{c}': on={list(cond.on)} names parts of a geometry, but equation.domain is a box "
                f"({', '.join(problem.variables)}); give one as equation.domain.geometry"
            )
        for var, _ in cond.faces():
            if var not in problem.variables or var in cond.fixed:
                raise ConfigError(
                    f"condition '{c}': boundary face of '{var}', which is not a free variable "
                    f"(variables: {', '.join(problem.variables)})"
                )


def check_on_geometry(problem, c: str, cond) -> None:
    """A condition of a problem on a geometry: it lies on named boundary parts (``on``) or inside;
    it neither fixes a space variable nor names box faces of one."""
    fixed = sorted(set(cond.fixed) & set(problem.space))
    faces = sorted({v for v, _ in cond.faces()} & set(problem.space))
    if fixed or faces:
        raise ConfigError(
            f"condition '{c}': {'fixes' if fixed else 'lies on faces of'} {fixed or faces}, space variables of "
            f"the geometry ({','.join(problem.space)}); name its boundary parts with on= "
            f"(parts: {', '.join(problem.geometry.parts)})"
        )
    try:
        problem.geometry.check_parts(cond.on or None)
    except ConfigError as e:
        raise ConfigError(f"condition '{c}': {e}") from None


def face_shares(domain: Mapping[str, Sequence[float]], faces: Sequence[tuple[str, int]], free: Sequence[str], n: int):
    """``n`` points apportioned to ``faces`` in proportion to their sizes (largest remainder)."""
    size = np.array([np.prod([np.subtract(*domain[u][::-1]) for u in free if u != v]) for v, _ in faces])
    exact = n * size / size.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact, kind="stable")[: n - counts.sum()]] += 1
    return counts


def condition_points(
    problem, cond, method: SamplerMethod, n: int, per_face: bool, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points of the condition ``cond`` (its faces, its fixed variables) as one array, one
    column per variable of ``problem``; ``per_face``: ``n`` on each face, face after face. On a
    geometry: :func:`geometry_points`."""
    if problem.geometry is not None:
        return geometry_points(problem, cond.on, cond.fixed, method, n, per_face, rng)
    free = [v for v in problem.variables if v not in cond.fixed]
    lower = [problem.domain[v][0] for v in free]
    upper = [problem.domain[v][1] for v in free]
    faces = cond.faces()
    if per_face and method in GRIDS:
        # a grid on each face over the face's own variables (its variable is the face's bound):
        # n on each face where the grid has them exactly (one free variable: linspace(t0, t1, n))
        blocks = []
        for v, side in faces:
            dims = [i for i, u in enumerate(free) if u != v]
            sub = sample_box(method, n, [lower[i] for i in dims], [upper[i] for i in dims], rng)
            block = np.full((len(sub), len(free)), float(problem.domain[v][side]))
            block[:, dims] = sub
            blocks.append(block)
        return in_order(
            problem,
            {v: col for v, col in zip(free, np.concatenate(blocks).T)},
            cond.fixed,
            len(blocks) * len(blocks[0]),
        )
    if per_face:
        box = np.concatenate([sample_box(method, n, lower, upper, rng) for _ in faces])
        face_of = np.repeat(np.arange(len(faces)), n)
    else:
        box = sample_box(method, n, lower, upper, rng)
        if faces:
            # shares in proportion to the faces' sizes, dealt out in random order: the samplers'
            # own order has structure (Sobol, grid) that a fixed deal would follow
            shares = face_shares(problem.domain, faces, free, len(box))
            face_of = rng.permutation(np.repeat(np.arange(len(faces)), shares))
    cols = {v: box[:, i] for i, v in enumerate(free)}
    for j, (v, side) in enumerate(faces):
        cols[v] = np.where(face_of == j, problem.domain[v][side], cols[v])
    return in_order(problem, cols, cond.fixed, len(box))


def in_order(problem, cols: Mapping[str, np.ndarray], fixed: Mapping[str, float], n: int) -> np.ndarray:
    """(n, d): the columns ``cols`` and the ``fixed`` values in the order of the problem's variables."""
    return np.stack([cols[v] if v in cols else np.full(n, fixed[v]) for v in problem.variables], axis=1)


def geometry_points(
    problem, on: Sequence[str], fixed: Mapping[str, float], method: SamplerMethod, n: int, per_part: bool, rng
) -> np.ndarray:
    """``n`` points on a problem whose space variables span a geometry: inside it, or on its parts
    ``on`` (``per_part``: ``n`` on each part, part after part) with the outward normals as k more
    columns after the variables (:mod:`pinnrun.derivatives`). The other free variables (time) are
    drawn with the same method in their bounds; the ``fixed`` ones are set."""
    if method in GRIDS:
        raise ConfigError(
            f"sampler.method={method.value}: condition of a geometry ({','.join(problem.space)}) cannot be a grid with "
            "exactly its point count; choose sobol, lhs or uniform (sampler.per_condition for this one)"
        )
    geometry, space = problem.geometry, problem.space
    normals = None
    if on:
        groups = [[p] for p in on] if per_part else [list(on)]
        drawn = [geometry.boundary_points(n, rng, part=g, normals=True) for g in groups]
        xs, normals = (np.concatenate(a) for a in zip(*drawn))
    else:
        xs = geometry.interior_points(n, rng, draw=functools.partial(sample_box, method))
    rest = [v for v in problem.variables if v not in space and v not in fixed]
    cols = {v: xs[:, i] for i, v in enumerate(space)}
    if rest:
        other = sample_box(
            method, len(xs), [problem.domain[v][0] for v in rest], [problem.domain[v][1] for v in rest], rng
        )
        cols.update({v: other[:, i] for i, v in enumerate(rest)})
    out = in_order(problem, cols, fixed, len(xs))
    return out if normals is None else np.concatenate([out, normals], 1)


def scattered_points(problem, n: int) -> np.ndarray:
    """``n`` points where a problem on a geometry is evaluated, columns in variable order: a Sobol
    draw (seed 0) inside the geometry and a tenth of them on its boundary (no normals), the other
    variables drawn in their bounds."""
    rng = np.random.default_rng(0)
    inner = geometry_points(problem, (), {}, SamplerMethod.sobol, n - n // 10, False, rng)
    on = geometry_points(problem, (WHOLE,), {}, SamplerMethod.sobol, n // 10, False, rng)
    return np.concatenate([inner, on[:, : len(problem.variables)]])


class PointSets:
    """The current points of every condition, resampled every ``resample_every`` steps."""

    def __init__(
        self,
        problem,
        counts: Mapping[str, int],
        method: SamplerMethod,
        per_condition: Mapping[str, SamplerMethod],
        resample_every: int,
        seed: int,
        device: torch.device,
        dtype: torch.dtype,
        per_face: Sequence[str] = (),
        rad: RadConfig | None = None,
        ranks: Ranks = SINGLE,
    ) -> None:
        conditions = problem.conditions()
        check_conditions(problem, conditions, counts, per_condition, per_face, rad.conditions if rad else ())
        # a condition with 0 points is left out of the loss
        self.conditions = {c: cond for c, cond in conditions.items() if counts[c] > 0}
        self.order = list(conditions)  # seeds follow the equation's order, whatever is left out
        self.problem, self.counts = problem, dict(counts)
        self.methods = {c: per_condition.get(c, method) for c in self.conditions}
        #: how many equal parts a condition's points come in, each with its own mean square
        self.faces = {
            c: (len(cond.on) or len(cond.faces())) if c in per_face else 1 for c, cond in self.conditions.items()
        }
        self.pinned: dict[str, torch.Tensor] = {}
        self.resample_every, self.seed = resample_every, seed
        self.device, self.dtype = device, dtype
        self.round = -1
        self.points: dict[str, torch.Tensor] = {}  # every point of the round
        self.local: dict[str, torch.Tensor] = {}  # this rank's part of them
        #: the processes of the run, and the conditions whose parts are taken chunk by chunk of their
        #: points sorted along a column: {condition: (column, chunks)} (:meth:`order_by`)
        self.ranks, self.ordered = ranks, {}
        self.rad = rad or RadConfig()
        for key in ("k", "c"):
            if self.rad.conditions and not getattr(self.rad, key) >= 0:
                raise ConfigError(f"sampler.rad.{key} must be >= 0, got {getattr(self.rad, key)}")
        #: the conditions drawn by RAD from round 1 on, and their number of points
        self.adaptive = {c: rad_count(self, c) for c in self.rad.conditions}
        #: |r| of the current network at candidate points (:meth:`score_by`; RAD needs it)
        self.scorer: Scorer | None = None

    @classmethod
    def build(
        cls,
        problem,
        eq: EquationConfig,
        sampler: SamplerConfig,
        seed: int,
        device: torch.device,
        dtype: torch.dtype,
        ranks: Ranks = SINGLE,
        leave_out: Iterable[str] = (),
    ) -> PointSets:
        """The point sets of ``equation.points`` drawn as ``sampler`` says; the conditions of
        ``leave_out`` (satisfied by construction) get no points."""
        leave_out = set(leave_out)
        counts = {c: 0 if c in leave_out else n for c, n in eq.points.items()}
        return cls(
            problem,
            counts,
            sampler.method,
            sampler.per_condition,
            sampler.resample_every,
            seed,
            device,
            dtype,
            per_face=eq.per_face,
            rad=sampler.rad,
            ranks=ranks,
        )

    # -- what the objective asks of its points ---------------------------------------------
    def score_by(self, scorer: Scorer) -> None:
        """RAD draws its points by ``scorer``'s |r| at candidate points (the objective's residuals)."""
        self.scorer = scorer

    def order_by(self, condition: str, column: int, chunks: int) -> None:
        """``condition``'s points come in ``chunks`` equal chunks along ``column`` (causal training):
        a distributed run gives each rank its part of every chunk."""
        self.ordered[condition] = (column, chunks)
        self.round = -1

    def round_at(self, step: int) -> int:
        return step // self.resample_every if self.resample_every else 0

    def collocate(self, conditions: Sequence[str], points: torch.Tensor) -> None:
        """These conditions take ``points`` (the observed points) at every step, instead of drawing."""
        for c in conditions:
            check_collocated(self, c)
            self.pinned[c] = points
        self.round = -1

    def at(self, step: int) -> dict[str, torch.Tensor]:
        """This rank's points of every condition at ``step`` (all of them in a one-process run)."""
        r = self.round_at(step)
        if r != self.round:
            self._set({c: self._points(c, r) for c in self.conditions}, r)
        return self.local

    def everywhere(self, step: int) -> dict[str, torch.Tensor]:
        """Every point of every condition at ``step``, whichever rank trains on it."""
        self.at(step)
        return self.points

    def drawn(self) -> dict[str, tuple[np.ndarray, str]]:
        """Every condition's current points (coordinates only) with its kind: "boundary" (on faces or
        parts), "initial" (a fixed variable) or "interior"; for predictions.h5 and plots/points.png."""
        d = len(self.problem.variables)
        out = {}
        for c, pts in self.points.items():
            cond = self.conditions[c]
            kind = "boundary" if cond.on or cond.faces() else "initial" if cond.fixed else "interior"
            out[c] = (pts[:, :d].detach().cpu().double().numpy(), kind)
        return out

    def total(self, condition: str, local: torch.Tensor) -> int:
        """The number of points (on each face) of ``condition`` over all ranks, whose part is
        ``local`` (its own length in a one-process run)."""
        n = len(self.points[condition]) if self.ranks.split else len(local)
        return n // self.faces[condition]

    def _set(self, points: dict[str, torch.Tensor], round_: int) -> None:
        self.points, self.round = points, round_
        self.local = {c: self.shard(c, p) for c, p in points.items()} if self.ranks.split else points

    def shard(self, condition: str, points: torch.Tensor) -> torch.Tensor:
        """This rank's part of ``condition``'s points: a slice of each face's (per-face conditions),
        of each chunk's (along ``ordered``), or of all of them."""
        n, faces = len(points), self.faces[condition]
        if faces > 1:
            return points[self.ranks.indices(n // faces, faces).to(points.device)]
        column, chunks = self.ordered.get(condition, (None, 0))
        if column is not None and chunks > 0 and n % chunks == 0:
            order = torch.sort(points[:, column], stable=True).indices
            return points[order[self.ranks.indices(n // chunks, chunks).to(points.device)]]
        return points[self.ranks.part(n)]

    def _points(self, c: str, round_: int) -> torch.Tensor:
        if c in self.pinned:
            return self.pinned[c]
        if c in self.adaptive and round_ > 0:
            return self.draw_rad(c, round_)
        return self.draw(c, round_)

    def draw(self, condition: str, round_: int) -> torch.Tensor:
        """The points of ``condition`` in resampling round ``round_`` (a plain draw)."""
        rng = np.random.default_rng([self.seed, self.order.index(condition), round_])
        return self._tensor(self._box(condition, self.counts[condition], rng))

    def draw_rad(self, condition: str, round_: int) -> torch.Tensor:
        """RAD's points of ``condition`` in round ``round_``: chosen among ``rad.candidates`` fresh
        points by the residual of the network as it is now (:func:`rad_probabilities`)."""
        if self.scorer is None:
            raise RuntimeError(f"sampler.rad: no residual scorer was given for condition '{condition}'")
        rng = np.random.default_rng([self.seed, self.order.index(condition), round_])
        candidates = self._box(condition, self.rad.candidates, rng)
        mine = self.scorer(condition, self._tensor(candidates[self.ranks.part(len(candidates))]))
        norms = self.ranks.gather(torch.as_tensor(mine, device=self.device), len(candidates))
        norms = norms.detach().cpu().double().numpy()
        p = rad_probabilities(norms.reshape(-1), self.rad.k, self.rad.c)
        chosen = rng.choice(len(candidates), size=self.adaptive[condition], replace=False, p=p)
        return self._tensor(candidates[chosen])

    def _tensor(self, points: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(points, dtype=self.dtype, device=self.device)

    def _box(self, condition: str, n: int, rng: np.random.Generator) -> np.ndarray:
        return condition_points(
            self.problem, self.conditions[condition], self.methods[condition], n, self.faces[condition] > 1, rng
        )

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint needs: the round, and RAD's points (they depend on the network at the
        round's start, so they cannot be drawn again on resume)."""
        return {"round": self.round, "rad": {c: self.points[c] for c in self.adaptive if c in self.points}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """The points of the checkpointed round: RAD's as saved, the others drawn again."""
        saved, r = state.get("rad", {}), state.get("round", -1)
        if not self.adaptive or r < 0:
            return
        missing = sorted(set(self.adaptive) - set(saved))
        if missing:
            raise ConfigError(f"the checkpoint holds no RAD points of {missing} (sampler.rad.conditions)")
        self._set(
            {
                c: saved[c].to(self.device, self.dtype) if c in self.adaptive else self._points(c, r)
                for c in self.conditions
            },
            r,
        )


def check_collocated(sets: PointSets, c: str) -> None:
    """Condition ``c`` of ``sets`` can take the observed points (equation.observations.collocate)."""
    where = f"equation.observations.collocate: condition '{c}'"
    if c not in sets.conditions:
        raise ConfigError(
            f"equation.observations.collocate: unknown condition '{c}' (this equation has: {', '.join(sets.order)})"
        )
    if sets.conditions[c].faces() or sets.conditions[c].fixed:
        raise ConfigError(f"{where} lies on part of the domain, not at the observed points")
    if c in sets.adaptive:
        raise ConfigError(f"{where} is also in sampler.rad.conditions")


def rad_count(sets: PointSets, c: str) -> int:
    """The points of RAD condition ``c`` of ``sets`` per round (a plain draw's); checks RAD's settings."""
    if sets.counts[c] == 0 or c not in sets.conditions:
        raise ConfigError(f"sampler.rad.conditions: condition '{c}' has no points (it is left out of the loss)")
    if sets.faces[c] > 1:
        raise ConfigError(f"sampler.rad.conditions: condition '{c}' is in equation.per_face (not supported by RAD)")
    if sets.resample_every <= 0:
        raise ConfigError(
            f"sampler.rad.conditions={list(sets.rad.conditions)} needs sampler.resample_every > 0 "
            f"(RAD draws new points every resampling round), got {sets.resample_every}"
        )
    k = len([v for v in sets.problem.variables if v not in sets.conditions[c].fixed])
    n = box_count(sets.methods[c], sets.counts[c], k)
    if sets.rad.candidates < n or box_count(sets.methods[c], sets.rad.candidates, k) < n:
        raise ConfigError(
            f"sampler.rad.candidates={sets.rad.candidates} is fewer than the {n} points of condition '{c}' "
            f"(equation.points.{c})"
        )
    return n
