"""Evaluation of a PINN: predictions on the reference grid, relative L2 errors, test loss.

The reference is the problem's (a dataset of :mod:`pinnrun.reference` or its exact solution
on a grid; on scattered points: a reference file, or on a geometry the exact solution at
scattered points of the domain); a problem without one is predicted on a uniform grid (on a
geometry: scattered points of it) with no errors. On scattered points with several outputs,
``l2/all`` pools them: the norm of all their errors over the norm of all their reference values
(PINNacle's L2RE). The relative L2 error of a field f over the whole grid is ||pred_f - ref_f||_2 / ||ref_f||_2 (the
papers' metric). ``test_loss`` is the mean squared error of the outputs against the exact
solution at held-out uniform random points (``equation.test_points``).

In a distributed run each rank predicts its part of the grid and of the held-out points, and
the parts are gathered (:class:`~pinnrun.distributed.Ranks`): every rank gets the whole.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import numpy as np
import torch

from pinnrun import reference
from pinnrun.config import ConfigError, ObservationConfig
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.io import Predictions
from pinnrun.problems import Problem
from pinnrun.sampling import Observations, scattered_points

EVAL_BATCH = 65536
PLAIN_GRID = 201  # points per axis of the prediction grid of a problem without reference


class Evaluation:
    """The reference grid of ``problem`` and the errors of ``model`` on it (and at held-out points)."""

    def __init__(
        self, problem: Problem, model: torch.nn.Module, test_points: int = 0, seed: int = 0, ranks: Ranks = SINGLE
    ) -> None:
        self.problem, self.model, self.ranks = problem, model, ranks
        p = next(model.parameters())
        self.device, self.dtype = p.device, p.dtype
        ref = problem.reference()
        if ref is None and problem.geometry is not None:  # scattered points of the domain
            points = scattered_points(problem, problem.reference_points)
            exact = problem.has_exact()
            ref = problem.exact_at(points) if exact else reference.PointReference(problem.variables, points, {}, "")
        if ref is None:  # no reference for this domain: predictions on a uniform grid, no L2
            ref = ({v: np.linspace(lo, hi, PLAIN_GRID) for v, (lo, hi) in problem.domain.items()}, {})
        if isinstance(ref, reference.PointReference):
            self.layout = "points"
            self.grid, self.ref = {v: ref.points[:, i] for i, v in enumerate(ref.variables)}, dict(ref.fields)
            self.grid_shape, points = (len(ref.points),), ref.points
        else:
            self.layout = "grid"
            self.grid, self.ref = ref
            mesh = np.meshgrid(*(self.grid[v] for v in problem.variables), indexing="ij")
            self.grid_shape, points = mesh[0].shape, np.stack([m.ravel() for m in mesh], 1)
        self.points = torch.as_tensor(points, dtype=self.dtype, device=self.device)
        self.fields = [f for f in problem.fields if f in self.ref]
        #: the outputs ``l2/all`` pools (on scattered points, with several outputs; else none)
        outputs = [o for o in problem.outputs if o in self.fields]
        self.pooled = outputs if self.layout == "points" and len(outputs) > 1 else []
        #: the names of the l2/<name> columns
        self.l2_names = self.fields + ["all"] * bool(self.pooled)
        self.test_set = self._held_out(test_points, seed)

    def _held_out(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(points, exact outputs) at ``n`` uniform random points of the domain."""
        if n == 0:
            return None
        if not self.problem.has_exact():
            raise ConfigError("equation.test_points: this equation has no exact solution to test against")
        rng = np.random.default_rng([seed, 15485863])  # not the samplers' or observations' streams
        lo, hi = np.array(self.problem.lower), np.array(self.problem.upper)
        pts = torch.as_tensor(lo + (hi - lo) * rng.random((n, len(lo))), dtype=torch.float64)
        values = self.problem.exact_net()(pts)
        return pts.to(self.device, self.dtype), values.to(self.device, self.dtype)

    @torch.no_grad()
    def predict(self, ranks: Ranks | None = None) -> dict[str, np.ndarray]:
        """Every evaluated field of the problem on the grid (split among ``ranks``, default the run's)."""
        out = self.outputs(self.points, ranks)
        named = {o: out[:, i] for i, o in enumerate(self.problem.outputs)}
        fields = self.problem.derived(named)
        return {f: fields[f].double().cpu().numpy().reshape(self.grid_shape) for f in self.problem.fields}

    def l2_errors(self, pred: dict[str, np.ndarray]) -> dict[str, float]:
        """Relative L2 over the whole reference grid: ||pred - ref||_2 / ||ref||_2 per field; with
        several outputs of a scattered reference also ``l2`` pooled over the outputs (PINNacle's)."""
        out = {f: float(np.linalg.norm(pred[f] - self.ref[f]) / np.linalg.norm(self.ref[f])) for f in self.fields}
        if self.pooled:
            err = np.sqrt(sum(np.sum((pred[o] - self.ref[o]) ** 2) for o in self.pooled))
            out["all"] = float(err / np.sqrt(sum(np.sum(self.ref[o] ** 2) for o in self.pooled)))
        return out

    @torch.no_grad()
    def test_loss(self, ranks: Ranks | None = None) -> float | None:
        """Mean squared error of the outputs on the held-out points (None without them)."""
        if self.test_set is None:
            return None
        pts, values = self.test_set
        return float((self.outputs(pts, ranks) - values).pow(2).mean())

    def outputs(self, points: torch.Tensor, ranks: Ranks | None = None) -> torch.Tensor:
        """The network's outputs at ``points``, in batches; each rank computes its part."""
        ranks = ranks or self.ranks
        n, part = len(points), ranks.part(len(points))
        mine = [self.model(x) for x in points[part].split(EVAL_BATCH)]
        mine = torch.cat(mine) if mine else points.new_zeros((0, len(self.problem.outputs)))
        return ranks.gather(mine, n)

    def metrics(self, pred: dict[str, np.ndarray] | None = None, ranks: Ranks | None = None) -> dict[str, float]:
        """The evaluation's columns of metrics.csv: ``l2/<field>`` (of ``pred``, predicted here if
        not given) and ``test_loss``."""
        out = {}
        if self.fields:
            out = {f"l2/{k}": v for k, v in self.l2_errors(self.predict(ranks) if pred is None else pred).items()}
        if self.test_set is not None:
            out["test_loss"] = self.test_loss(ranks)
        return out

    def payload(
        self, ranks: Ranks | None = None, collocation: Mapping[str, tuple[np.ndarray, str]] | None = None
    ) -> tuple[Predictions, dict[str, float]]:
        """What predictions.h5 holds (with the training points ``collocation``), and the final metrics
        (computed split among ``ranks``)."""
        pred, p = self.predict(ranks), self.problem
        out = Predictions(p.variables, self.grid, pred, self.ref, self.layout, p.space, dict(collocation or {}))
        return out, self.metrics(pred, ranks)

    def observations(self, cfg: ObservationConfig, seed: int) -> Observations | None:
        """The data of ``equation.observations``: ``cfg.count`` reference grid points (or the points
        of the file ``cfg.at``, all of them or ``cfg.count`` drawn from them, with the exact
        solution's values) with the observed outputs there, plus Gaussian noise of standard
        deviation sqrt((noise * the output's standard deviation)^2 + noise_sd^2)."""
        if cfg.count == 0 and not cfg.at:
            return None
        p = self.problem
        outputs = tuple(cfg.outputs) or p.outputs
        unknown = [o for o in outputs if o not in p.outputs]
        if unknown or len(set(outputs)) < len(outputs):
            raise ConfigError(
                f"equation.observations.outputs: {list(cfg.outputs)} must be distinct outputs of this equation "
                f"({', '.join(p.outputs)})"
            )
        rng = np.random.default_rng([seed, 104729])  # not the samplers' streams
        if cfg.at:
            if not p.has_exact():
                raise ConfigError(
                    f"equation.observations.at: equation '{type(p).__name__}' has no exact solution to take the "
                    "observed values from"
                )
            points = observed_points(p, cfg.at)
            if cfg.count > len(points):
                raise ConfigError(
                    f"equation.observations.count: {cfg.count} is more than the {len(points)} points of {cfg.at}"
                )
            if cfg.count:
                points = points[rng.choice(len(points), size=cfg.count, replace=False)]
            exact = p.exact_net()(torch.as_tensor(points, dtype=torch.float64)).numpy()
            values = exact[:, [p.outputs.index(o) for o in outputs]]
            points = torch.as_tensor(points, dtype=self.dtype, device=self.device)
        else:
            missing = [o for o in outputs if o not in self.ref]
            if missing:
                raise ConfigError(
                    f"equation.observations: no reference solution for output(s) {missing} "
                    "of this equation and domain to draw observations from"
                )
            n = int(np.prod(self.grid_shape))
            if cfg.count > n:
                raise ConfigError(
                    f"equation.observations.count: {cfg.count} is more than the {n} reference grid points"
                )
            idx = rng.choice(n, size=cfg.count, replace=False)
            values = np.stack([self.ref[o].ravel()[idx] for o in outputs], 1)
            points = self.points[idx]
        sd = np.hypot(cfg.noise * values.std(0), cfg.noise_sd)
        values = values + sd * rng.standard_normal(values.shape)
        return Observations(points, torch.as_tensor(values, dtype=self.dtype, device=self.device), outputs)


def observed_points(problem: Problem, at: str) -> np.ndarray:
    """The points of the file ``at`` (``equation.observations.at``: relative to the data directory,
    or absolute), one row per point and a column per variable, every one in the domain; a missing,
    unreadable or misshapen file is a ConfigError of one line."""
    path = reference.data_dir() / os.path.expanduser(at)
    where = f"equation.observations.at: {path}"
    if not path.is_file():
        file = reference.pinnacle.file_of(at)
        get = f": place PINNacle's {file} there (from {reference.pinnacle.url(file)})" if file else ""
        raise ConfigError(f"{where} does not exist{get}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file: the shape check below says so
            points = np.loadtxt(path, ndmin=2, comments=("%", "#"), dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where} is not a table of numbers ({str(exc).splitlines()[0]})") from None
    k = len(problem.variables)
    if points.shape[0] == 0 or points.shape[1] != k:
        raise ConfigError(
            f"{where} must hold one point a row with {k} columns ({', '.join(problem.variables)}), "
            f"got shape {points.shape}"
        )
    if not np.isfinite(points).all():
        raise ConfigError(f"{where} holds values that are not finite numbers")
    outside = int((~problem.inside(points, tol=1e-6)).sum())
    if outside:
        raise ConfigError(f"{where}: {outside} of {len(points)} points lie outside the domain")
    return points


__all__ = ["EVAL_BATCH", "Evaluation", "observed_points"]
