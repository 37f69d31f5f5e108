"""A trained task's solution, as the Python API, pinnrun-predict and pinnrun-export ask for it.

Each task hands out a :class:`Predictor` (``task.predictor()``): the PINN task a
:class:`Solution` (the network's fields and input derivatives at points of the domain, the
equation's residual there), a learned inverse problem its own (x = f(y*) and P(x) from
observations y*; :class:`pinnrun.sip.task.SipPredictor`). Nothing outside the tasks asks which
kind of task it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from pinnrun import problems
from pinnrun.config import PDE_CONDITION, ConfigError
from pinnrun.derivatives import Derivatives

#: what ``predict`` and ``residual`` accept: an (n, d) array in the order of the variables, or
#: ``{variable: array or number}`` (broadcast against each other; the results take that shape)
Points = np.ndarray | Sequence[Sequence[float]] | Mapping[str, Any]


class Predictor(Protocol):
    """What a loaded run evaluates (pinnrun.api.Run, pinnrun-predict, pinnrun-export)."""

    #: the equation (with learned unknowns bound) or the learned inverse problem
    problem: Any
    #: the inputs of :meth:`predict`, in column order
    variables: tuple[str, ...]
    #: what :meth:`predict` returns by default
    fields: tuple[str, ...]
    #: where the inputs must lie (variable -> (lower, upper)); {} where anything goes
    domain: dict[str, tuple[float, float]]
    #: the columns of :meth:`module`'s output
    columns: tuple[str, ...]

    def points(self, points: Points, allow_outside: bool) -> tuple[torch.Tensor, tuple[int, ...]]:
        """``points`` checked, as an (n, d) tensor of the network's dtype and device, and the
        shape of the results (ConfigError naming what is wrong)."""

    def check(self, fields: Sequence[str] | None, derivatives: Sequence[str]) -> list[str]:
        """The fields to predict (default :attr:`fields`); ConfigError for an unknown field or
        derivative."""

    def predict(
        self, x: torch.Tensor, fields: Sequence[str], derivatives: Sequence[str], batch_size: int
    ) -> dict[str, torch.Tensor]:
        """Each field and derivative at the points ``x``, one row per point, ``batch_size`` at a time."""

    def residual(self, x: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
        """The PDE residual's components at ``x`` (ConfigError where there is none)."""

    def module(self) -> torch.nn.Module:
        """points (n, d) -> :attr:`columns` (n, k): the function pinnrun-export writes."""

    def example(self) -> torch.Tensor:
        """A few valid points (seeded) to trace :meth:`module` with."""


class Solution:
    """The PINN task's predictor: the network's outputs, derived fields and input derivatives
    (through the training's derivative engine) inside the equation's domain."""

    def __init__(self, problem: problems.Problem, model: torch.nn.Module, name: str) -> None:
        self.problem, self.model, self.name = problem, model, name
        self.variables = tuple(problem.variables)
        self.fields = self.columns = tuple(problem.fields)
        self.domain = dict(problem.domain)

    def points(self, points: Points, allow_outside: bool) -> tuple[torch.Tensor, tuple[int, ...]]:
        variables = self.variables
        if isinstance(points, Mapping):
            missing = [v for v in variables if v not in points]
            extra = [k for k in points if k not in variables]
            if missing or extra:
                raise ConfigError(
                    f"points: give each variable of {', '.join(variables)}"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unknown {', '.join(map(str, extra))}" if extra else "")
                )
            try:
                columns = np.broadcast_arrays(*(np.asarray(points[v], dtype=np.float64) for v in variables))
            except ValueError as e:
                raise ConfigError(f"points: the variables' arrays do not broadcast together ({e})") from None
            shape = columns[0].shape
            array = np.stack([c.reshape(-1) for c in columns], 1)
        else:
            array = point_columns(points, variables, "points")
            shape = (array.shape[0],)
        check_points(array, variables, self.domain, allow_outside)
        if self.problem.geometry is not None and not allow_outside:
            outside = np.flatnonzero(~self.problem.inside(array))
            if len(outside):
                raise ConfigError(
                    f"points: {len(outside)} of {len(array)} points lie outside the domain's geometry over "
                    f"{','.join(self.problem.space)} (the first: row {outside[0]}; allow_outside to extrapolate)"
                )
        p = next(self.model.parameters())
        return torch.as_tensor(array, dtype=p.dtype, device=p.device), shape

    def check(self, fields: Sequence[str] | None, derivatives: Sequence[str]) -> list[str]:
        outputs, variables = self.problem.outputs, self.variables
        known = list(dict.fromkeys([*self.fields, *outputs]))
        fields = known if fields is None else list(fields)
        bad = [f for f in fields if f not in known]
        if bad:
            raise ConfigError(f"unknown field '{bad[0]}' (fields: {', '.join(known)})")
        for name in derivatives:
            out, _, wrt = name.partition("_")
            if out not in outputs or not wrt or any(c not in variables for c in wrt):
                raise ConfigError(
                    f"derivative '{name}': write <output>_<variables>, e.g. {outputs[0]}_{variables[-1]} or "
                    f"{outputs[0]}_{variables[-1] * 2} (outputs: {', '.join(outputs)}; "
                    f"variables: {', '.join(variables)})"
                )
        return fields

    def predict(
        self, x: torch.Tensor, fields: Sequence[str], derivatives: Sequence[str], batch_size: int
    ) -> dict[str, torch.Tensor]:
        outputs = self.problem.outputs
        chunks: dict[str, list[torch.Tensor]] = {}
        for batch in x.split(batch_size):
            if derivatives:
                with torch.enable_grad():
                    d = Derivatives(self.model, batch, self.problem.variables, outputs)
                    out = {o: d[o] for o in outputs}
                    extra = {n: d[n] for n in derivatives}
            else:
                with torch.no_grad():
                    values = self.model(batch)
                out, extra = {o: values[:, i] for i, o in enumerate(outputs)}, {}
            with torch.no_grad():
                named = {**{o: out[o] for o in outputs}, **self.problem.derived(out)}
            for n in fields:
                chunks.setdefault(n, []).append(named[n].detach())
            for n, v in extra.items():
                chunks.setdefault(n, []).append(v.detach())
        return {n: torch.cat(v) for n, v in chunks.items()}

    def residual(self, x: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
        condition = self.problem.conditions().get(PDE_CONDITION)
        if condition is None:
            raise ConfigError(f"equation {self.name} has no PDE residual (no '{PDE_CONDITION}' condition)")
        chunks: dict[str, list[torch.Tensor]] = {}
        for batch in x.split(batch_size):
            with torch.enable_grad():
                res = condition.residual(Derivatives(self.model, batch, self.problem.variables, self.problem.outputs))
            for k, v in res.items():
                chunks.setdefault(k, []).append(v.detach())
        return {k: torch.cat(v) for k, v in chunks.items()}

    def module(self) -> torch.nn.Module:
        return Fields(self.model, self.problem)

    def example(self) -> torch.Tensor:
        p = next(self.model.parameters())
        lo = torch.tensor(self.problem.lower, dtype=torch.float64)
        hi = torch.tensor(self.problem.upper, dtype=torch.float64)
        u = torch.rand(7, len(lo), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        return (lo + (hi - lo) * u).to(p.device, p.dtype)


class Fields(torch.nn.Module):
    """points (n, d) -> fields (n, k): the network, then the equation's derived fields."""

    def __init__(self, net: torch.nn.Module, problem: problems.Problem) -> None:
        super().__init__()
        self.net, self.problem = net, problem

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        out = self.net(points)
        named = {o: out[:, i] for i, o in enumerate(self.problem.outputs)}
        fields = self.problem.derived(named)
        return torch.stack([fields[f] for f in self.problem.fields], 1)


def point_columns(points: Any, variables: Sequence[str], what: str) -> np.ndarray:
    """``points`` as an (n, d) float64 array, one column per variable (a 1-D array for one
    variable); else a ConfigError naming ``what`` (the argument, or the file it came from)."""
    array = np.asarray(points)
    if array.dtype.kind not in "iuf":
        raise ConfigError(f"{what}: not an array of numbers (dtype {array.dtype})")
    array = array.astype(np.float64)
    if array.ndim == 1 and len(variables) == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != len(variables):
        raise ConfigError(
            f"{what}: expected an (n, {len(variables)}) array (columns {', '.join(variables)}), got shape {array.shape}"
        )
    return array


def check_points(
    array: np.ndarray, variables: Sequence[str], domain: Mapping[str, tuple[float, float]], allow_outside: bool
) -> None:
    """No NaN or infinite coordinate; inside the domain unless ``allow_outside`` (a relative
    tolerance of 1e-9 of each side's length, for grids that end on the bounds)."""
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ConfigError(f"points: row {row} has {variables[col]} = {array[row, col]} (not a finite number)")
    if allow_outside:
        return
    for i, v in enumerate(variables):
        lo, hi = domain[v]
        tol = 1e-9 * (hi - lo)
        out = (array[:, i] < lo - tol) | (array[:, i] > hi + tol)
        if out.any():
            row = int(np.argmax(out))
            raise ConfigError(
                f"points: row {row} has {v} = {array[row, i]:g}, outside the domain {v} in [{lo:g}, {hi:g}] "
                "(allow_outside to extrapolate)"
            )


__all__ = ["Fields", "Points", "Predictor", "Solution", "check_points", "point_columns"]
