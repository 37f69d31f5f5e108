"""Collocation points for every condition, drawn with scipy.stats.qmc.

Points of resampling round r for condition c are a pure function of
(seed, c, r), so a resumed run draws exactly the points the uninterrupted run
had, and only the round number needs to be checkpointed.
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
    ) -> None:
        conditions = problem.conditions()
        for key, name in (("equation.points", counts), ("sampler.per_condition", per_condition)):
            unknown = set(name) - set(conditions)
            if unknown:
                raise ConfigError(
                    f"{key}: unknown condition {sorted(unknown)} (this equation has: {', '.join(conditions)})"
                )
        missing = set(conditions) - set(counts)
        if missing:
            raise ConfigError(f"equation.points: no point count for {sorted(missing)}")
        # a condition with 0 points is left out of the loss
        self.conditions = {c: cond for c, cond in conditions.items() if counts[c] > 0}
        self.order = list(conditions)  # seeds follow the equation's order, whatever is left out
        self.problem, self.counts = problem, dict(counts)
        self.methods = {c: per_condition.get(c, method) for c in self.conditions}
        self.resample_every, self.seed = resample_every, seed
        self.device, self.dtype = device, dtype
        self.round = -1
        self.points: dict[str, torch.Tensor] = {}

    def round_at(self, step: int) -> int:
        return step // self.resample_every if self.resample_every else 0

    def at(self, step: int) -> dict[str, torch.Tensor]:
        r = self.round_at(step)
        if r != self.round:
            self.points = {c: self.draw(c, r) for c in self.conditions}
            self.round = r
        return self.points

    def draw(self, condition: str, round_: int) -> torch.Tensor:
        index = self.order.index(condition)
        rng = np.random.default_rng([self.seed, index, round_])
        fixed = self.conditions[condition].fixed
        free = [v for v in self.problem.variables if v not in fixed]
        box = sample_box(
            self.methods[condition],
            self.counts[condition],
            [self.problem.domain[v][0] for v in free],
            [self.problem.domain[v][1] for v in free],
            rng,
        )
        cols = {v: box[:, i] for i, v in enumerate(free)}
        faces = self.conditions[condition].boundary
        if faces:
            # equal shares of the faces (2 per variable), dealt out in random order: the
            # samplers' own order has structure (Sobol, grid) that a fixed deal would follow
            i = rng.permutation(len(box))
            which, upper = (i // 2) % len(faces), i % 2 == 1
            for j, v in enumerate(faces):
                lo, hi = self.problem.domain[v]
                cols[v] = np.where(which == j, np.where(upper, hi, lo), cols[v])
        full = np.stack([cols[v] if v in cols else np.full(len(box), fixed[v]) for v in self.problem.variables], axis=1)
        return torch.as_tensor(full, dtype=self.dtype, device=self.device)
