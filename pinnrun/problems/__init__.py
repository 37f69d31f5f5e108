"""Equations. Each module here holds one small declarative Problem subclass.

A problem states its input variables, its network outputs, the fields it is
evaluated on, its conditions (each a set of named loss terms on a region of
the domain) and its reference solution. Residual functions get a
:class:`~pinnrun.derivatives.Derivatives` evaluator and return tensors.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Sequence

import numpy as np
import torch

from pinnrun import reference
from pinnrun.config import ConfigError, EquationConfig
from pinnrun.derivatives import Derivatives

Net = Callable[[torch.Tensor], Derivatives]
LossFn = Callable[[torch.Tensor, Net], Dict[str, torch.Tensor]]


@dataclass
class Condition:
    """A set of loss terms sampled on one region of the domain.

    ``fixed`` pins some variables (t = 0 for an initial condition); the others
    are sampled over their domain bounds. ``boundary`` names variables whose
    lower and upper faces the points lie on (``("x",)``: x = lower or upper,
    alternately; ``("x", "y")``: the four edges of a rectangle, in equal
    shares). ``loss(points, net)`` returns one residual tensor per name in
    ``terms``; the loss term ``<condition>_<name>`` is the mean of its square.
    """

    terms: Sequence[str]
    loss: LossFn
    fixed: Mapping[str, float] = field(default_factory=dict)
    boundary: Sequence[str] = ()


class Problem:
    variables: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()       # evaluated fields: outputs and derived ones
    metric: str = ""                   # the field a paper reports (default: first field)
    params: Dict[str, Any] = {}        # equation constants and their defaults
    grid_points: int = 201             # per axis, of the grid an exact solution is evaluated on
    dataset: str = ""                  # a reference dataset of pinnrun.reference, made for ...
    dataset_domain: Dict[str, tuple] = {}   # ... this domain only

    def __init__(self, domain: Mapping[str, Sequence[float]], params: Mapping[str, Any] | None = None):
        if tuple(domain) != self.variables:
            raise ConfigError(
                f"equation.domain: {type(self).__name__} needs variables {list(self.variables)} "
                f"in that order, got {list(domain)}"
            )
        self.domain = {v: (float(lo), float(hi)) for v, (lo, hi) in domain.items()}
        unknown = set(params or {}) - set(self.params)
        if unknown:
            raise ConfigError(
                f"equation.params: unknown {sorted(unknown)} (this equation takes: {sorted(self.params) or 'none'})"
            )
        self.p = {**self.params, **(params or {})}

    # -- what an equation module defines --------------------------------------
    def conditions(self) -> Dict[str, Condition]:
        raise NotImplementedError

    def derived(self, out: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Evaluated fields from the network outputs (default: the outputs)."""
        return {f: out[f] for f in self.fields}

    def exact(self, x: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The exact solution, if the problem has one: each output at the points ``x[var]``."""
        raise NotImplementedError

    def has_exact(self) -> bool:
        return type(self).exact is not Problem.exact

    def reference(self) -> tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]] | None:
        """(grid, ref): 1-D axis per variable, and each field on that grid; None if there is none.

        Default: the reference dataset ``dataset`` if the domain is its
        ``dataset_domain``, else the exact solution on ``grid_points``
        equispaced points per axis.
        """
        if self.dataset:  # made for dataset_domain and the equation's default constants only
            same = (all(np.allclose(self.domain[v], self.dataset_domain[v]) for v in self.variables)
                    and all(np.isclose(float(self.p[k]), float(v)) for k, v in self.params.items()))
            return reference.load(reference.ensure(self.dataset)) if same else None
        if not self.has_exact():
            return None
        grid = {v: np.linspace(lo, hi, self.grid_points) for v, (lo, hi) in self.domain.items()}
        mesh = torch.meshgrid(*(torch.as_tensor(a, dtype=torch.float64) for a in grid.values()), indexing="ij")
        fields = self.derived(self.exact({v: m.reshape(-1) for v, m in zip(grid, mesh)}))
        return grid, {f: fields[f].reshape(mesh[0].shape).numpy() for f in self.fields}

    def exact_net(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The exact solution as a 'network' (points (N, d) -> outputs (N, m)), to check an equation."""
        def net(points: torch.Tensor) -> torch.Tensor:
            out = self.exact({v: points[:, i] for i, v in enumerate(self.variables)})
            return torch.stack([out[o] for o in self.outputs], 1)
        return net

    # -- shared helpers ---------------------------------------------------------
    @property
    def lower(self) -> list[float]:
        return [self.domain[v][0] for v in self.variables]

    @property
    def upper(self) -> list[float]:
        return [self.domain[v][1] for v in self.variables]

    @property
    def primary_field(self) -> str:
        return self.metric or self.fields[0]

    def terms(self) -> list[str]:
        return [f"{c}_{t}" for c, cond in self.conditions().items() for t in cond.terms]

    def periodic(self, var: str, names: Sequence[str]) -> LossFn:
        """Loss for periodicity in ``var``: each named quantity equal at its lower and upper bound.

        Use with ``Condition(names, self.periodic(var, names), fixed={var: lower})``.
        """
        def loss(pts: torch.Tensor, net: Net) -> Dict[str, torch.Tensor]:
            lo, hi = net(pts), net(self.at(pts, **{var: self.domain[var][1]}))
            return {k: lo[k] - hi[k] for k in names}
        return loss

    def at(self, points: torch.Tensor, **values: float) -> torch.Tensor:
        """A copy of ``points`` with the named variables set to fixed values."""
        moved = points.clone()
        for var, value in values.items():
            moved[:, self.variables.index(var)] = value
        return moved


class FunctionFit(Problem):
    """Fitting instead of solving: the network's outputs are fitted to ``exact`` (the target
    function) at the sampled points of the one condition ``fit`` (loss terms ``fit_<output>``,
    the mean squared error). With ``equation.test_points`` the run also logs the MSE on
    held-out random points (``test_loss``)."""

    def conditions(self) -> Dict[str, Condition]:
        return {"fit": Condition(self.outputs, self.misfit)}

    def misfit(self, pts: torch.Tensor, net: Net) -> Dict[str, torch.Tensor]:
        d = net(pts)
        target = self.exact({v: d.input(v) for v in self.variables})
        return {o: d[o] - target[o] for o in self.outputs}


class Inversion:
    """A learned inverse problem (Holl, Koltun & Thuerey 2022): a network f maps an observed
    state y* to x with P(x) = y*, P a differentiable simulator.

    A module states the simulator ``simulate`` (P, batched: (n, x_dim) -> (n, y_dim)), a local
    inverse ``local_inverse(x, y, y_target)`` (an x_tilde with P(x_tilde) near y_target, from x
    with y = P(x)), and ``draw(n, generator)``: n states x* with their observations y* = P(x*).
    ``domain`` names the axes of the predictions file (problem-specific); the evaluated fields
    are x (against x*) and y (P(f(y*)) against y*).
    """

    variables: tuple[str, ...] = ()
    params: Dict[str, Any] = {}
    x_dim: int = 0
    y_dim: int = 0
    fields = ("x", "y")
    primary_field = "x"

    def __init__(self, domain: Mapping[str, Sequence[float]], params: Mapping[str, Any] | None = None):
        Problem.__init__(self, domain, params)  # the same checks of domain and params

    def simulate(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def local_inverse(self, x: torch.Tensor, y: torch.Tensor, y_target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(y*, x*), float64, each (n, dim)."""
        raise NotImplementedError

    def input_bounds(self) -> tuple[list[float], list[float]]:
        """Bounds of y* for the network's input normalisation (default: y* as it is)."""
        return [-1.0] * self.y_dim, [1.0] * self.y_dim

    def axes(self, n: int) -> Dict[str, np.ndarray]:
        """The predictions file's axes for n samples: sample index and component of x."""
        return {"sample": np.arange(n), "component": np.arange(self.x_dim)}


def build(cfg: EquationConfig) -> Problem | Inversion:
    """The problem named by ``equation.name``: a module of pinnrun.problems, or 'pkg.module:Class'."""
    name = cfg.name
    if ":" in name:
        module_name, _, cls_name = name.partition(":")
        if os.getcwd() not in sys.path:  # a user's package in the directory pinnrun runs from
            sys.path.append(os.getcwd())
    else:
        module_name, cls_name = f"pinnrun.problems.{name}", None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and module_name.startswith(e.name):  # the module itself, or its package
            raise ConfigError(
                f"equation.name: unknown equation '{name}' (built in: {', '.join(available())}; "
                "or give 'package.module:ClassName')"
            ) from None
        raise
    if cls_name is None:
        cls = getattr(module, "PROBLEM", None)
    else:
        cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, (Problem, Inversion))):
        raise ConfigError(f"equation.name: '{name}' does not name a pinnrun Problem class")
    return cls(dict(cfg.domain), dict(cfg.params))


def available() -> list[str]:
    import pkgutil

    import pinnrun.problems as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))


__all__ = ["Condition", "FunctionFit", "Inversion", "Problem", "build", "available"]
