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
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.stats import qmc

from pinnrun.config import ConfigError, SamplerMethod


def sample_box(
    method: SamplerMethod, n: int, lower: Sequence[float], upper: Sequence[float], rng: np.random.Generator
) -> np.ndarray:
    """``n`` points in the box [lower, upper] (one column per dimension).

    ``grid`` puts m = round(n ** (1/k)) points on each of the k axes (cell
    centres, so no two conditions share a point), m**k points in all.
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
    elif method is SamplerMethod.grid:
        m = max(1, round(n ** (1.0 / k)))
        axis = (np.arange(m) + 0.5) / m
        unit = np.stack(np.meshgrid(*([axis] * k), indexing="ij"), -1).reshape(-1, k)
    else:  # pragma: no cover - the schema only admits the methods above
        raise ConfigError(f"sampler.method: unknown '{method}'")
    return qmc.scale(unit, lower, upper)


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
    ) -> None:
        conditions = problem.conditions()
        for key, name in (
            ("equation.points", counts),
            ("sampler.per_condition", per_condition),
            ("equation.per_face", per_face),
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
            if not conditions[c].faces():
                raise ConfigError(f"equation.per_face: condition '{c}' does not lie on faces of the domain")
        for c, cond in conditions.items():
            for var, _ in cond.faces():
                if var not in problem.variables or var in cond.fixed:
                    raise ConfigError(
                        f"condition '{c}': boundary face of '{var}', which is not a free variable "
                        f"(variables: {', '.join(problem.variables)})"
                    )
        # a condition with 0 points is left out of the loss
        self.conditions = {c: cond for c, cond in conditions.items() if counts[c] > 0}
        self.order = list(conditions)  # seeds follow the equation's order, whatever is left out
        self.problem, self.counts = problem, dict(counts)
        self.methods = {c: per_condition.get(c, method) for c in self.conditions}
        #: how many equal parts a condition's points come in, each with its own mean square
        self.faces = {c: len(cond.faces()) if c in per_face else 1 for c, cond in self.conditions.items()}
        self.pinned: dict[str, torch.Tensor] = {}
        self.resample_every, self.seed = resample_every, seed
        self.device, self.dtype = device, dtype
        self.round = -1
        self.points: dict[str, torch.Tensor] = {}

    def round_at(self, step: int) -> int:
        return step // self.resample_every if self.resample_every else 0

    def collocate(self, conditions: Sequence[str], points: torch.Tensor) -> None:
        """These conditions take ``points`` (the observed points) at every step, instead of drawing."""
        for c in conditions:
            if c not in self.conditions:
                raise ConfigError(
                    f"equation.observations.collocate: unknown condition '{c}' "
                    f"(this equation has: {', '.join(self.order)})"
                )
            if self.conditions[c].faces() or self.conditions[c].fixed:
                raise ConfigError(
                    f"equation.observations.collocate: condition '{c}' lies on part of the domain, "
                    "not at the observed points"
                )
            self.pinned[c] = points
        self.round = -1

    def at(self, step: int) -> dict[str, torch.Tensor]:
        r = self.round_at(step)
        if r != self.round:
            self.points = {c: self.pinned[c] if c in self.pinned else self.draw(c, r) for c in self.conditions}
            self.round = r
        return self.points

    def draw(self, condition: str, round_: int) -> torch.Tensor:
        index = self.order.index(condition)
        rng = np.random.default_rng([self.seed, index, round_])
        cond, n = self.conditions[condition], self.counts[condition]
        free = [v for v in self.problem.variables if v not in cond.fixed]
        lower = [self.problem.domain[v][0] for v in free]
        upper = [self.problem.domain[v][1] for v in free]
        faces = cond.faces()
        if self.faces[condition] > 1:  # n on each face, face after face
            box = np.concatenate([sample_box(self.methods[condition], n, lower, upper, rng) for _ in faces])
            face_of = np.repeat(np.arange(len(faces)), n)
        else:
            box = sample_box(self.methods[condition], n, lower, upper, rng)
            if faces:
                # shares in proportion to the faces' sizes, dealt out in random order: the samplers'
                # own order has structure (Sobol, grid) that a fixed deal would follow
                face_of = rng.permutation(np.repeat(np.arange(len(faces)), self.shares(faces, free, len(box))))
        cols = {v: box[:, i] for i, v in enumerate(free)}
        for j, (v, side) in enumerate(faces):
            cols[v] = np.where(face_of == j, self.problem.domain[v][side], cols[v])
        full = np.stack(
            [cols[v] if v in cols else np.full(len(box), cond.fixed[v]) for v in self.problem.variables], axis=1
        )
        return torch.as_tensor(full, dtype=self.dtype, device=self.device)

    def shares(self, faces: Sequence[tuple[str, int]], free: Sequence[str], n: int) -> np.ndarray:
        """``n`` points apportioned to ``faces`` in proportion to their sizes (largest remainder)."""
        size = np.array(
            [np.prod([np.subtract(*self.problem.domain[u][::-1]) for u in free if u != v]) for v, _ in faces]
        )
        exact = n * size / size.sum()
        counts = np.floor(exact).astype(int)
        counts[np.argsort(counts - exact, kind="stable")[: n - counts.sum()]] += 1
        return counts
