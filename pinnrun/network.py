"""The network of a PINN problem: the model of ``model``, built for the problem's domain and
outputs, with what the problem asks of it at construction.

    network = build_network(cfg.model, problem, placement)
    network.model             # the module trained: N, or u = A + B N with model.hard_constraints
    network.exact             # conditions it satisfies by construction: no loss term, no points
    network.pi_init_residual  # PirateNet's least-squares start (model.pi_init), or None

A model never knows which equation it solves (:mod:`pinnrun.models`); this module is where the
two meet: the output transform of ``model.hard_constraints`` (the equation's
:meth:`~pinnrun.problems.Problem.hard_constraint`), the periodicity ``model.periodic`` gives, and
PirateNet's physics-informed start, fitted to the equation's initial condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from pinnrun import problems
from pinnrun.config import ConfigError, ModelConfig
from pinnrun.device import Placement
from pinnrun.models import build_model
from pinnrun.models.constrained import HardConstrained
from pinnrun.models.pirate import PirateNet, fit_output


@dataclass
class Network:
    model: torch.nn.Module
    #: conditions the network satisfies exactly, each with the setting that makes it so
    exact: dict[str, str]
    #: the relative residual of PirateNet's least-squares start (model.pi_init), else None
    pi_init_residual: float | None = None


def build_network(
    cfg: ModelConfig,
    problem: problems.Problem,
    placement: Placement,
    prepare_reference: Callable[[], None] | None = None,
) -> Network:
    """The model of ``cfg`` for ``problem`` on ``placement``'s device and dtype (drawn from torch's
    generator as it is: the caller seeds it). ``prepare_reference`` is called once the model is
    built (its settings checked), before PirateNet's start reads the reference."""
    model = build_model(cfg, problem.lower, problem.upper, len(problem.outputs), problem.variables)
    model = model.to(placement.device, placement.dtype)
    if prepare_reference is not None:
        prepare_reference()
    residual = pi_init(model, problem, cfg)
    exact = exact_conditions(problem, cfg)
    if cfg.hard_constraints:  # u = A + B N, the network N inside (its parameters under net.)
        model = HardConstrained(model, *problem.hard_constraint().functions(problem.variables, problem.outputs))
    return Network(model, exact, residual)


def exact_conditions(problem: problems.Problem, model: ModelConfig) -> dict[str, str]:
    """The conditions the network satisfies by construction, each with the setting that makes it
    so: periodicity in a variable of ``model.periodic``, or the equation's output transform
    (``model.hard_constraints``, :func:`hard_constraint`). Their loss terms are dropped (no points)."""
    out = {}
    conditions = problem.conditions()
    for c, cond in conditions.items():
        if cond.periodic_in and cond.periodic_in in model.periodic:
            out[c] = f"model.periodic={list(model.periodic)}"
    hard = hard_constraint(problem, model)
    for c in hard.satisfies if hard is not None else ():
        assert c in conditions, f"{type(problem).__name__}.hard_constraint satisfies an unknown condition '{c}'"
        out[c] = "model.hard_constraints=true"
    return out


def hard_constraint(problem: problems.Problem, model: ModelConfig) -> problems.HardConstraint | None:
    """The equation's output transform u = A + B N if ``model.hard_constraints`` (else None).
    ConfigError where the equation declares none, or where A or B is not periodic in a variable of
    ``model.periodic`` (u would not be, though the network is)."""
    if not model.hard_constraints:
        return None
    name = type(problem).__module__.rpartition(".")[2]
    hard = problem.hard_constraint()
    if hard is None:
        declared = [
            n
            for n in problems.available()
            if getattr(problems.load_class(n), "hard_constraint", None) not in (None, problems.Problem.hard_constraint)
        ]
        raise ConfigError(
            f"model.hard_constraints=true: equation '{name}' declares no output transform "
            f"(hard_constraint; built-in ones that do: {', '.join(declared)}); set model.hard_constraints=false"
        )
    broken = [v for v in model.periodic if v not in hard.periodic_in]
    if broken:
        raise ConfigError(
            f"model.hard_constraints=true with model.periodic={list(model.periodic)}: the output transform "
            f"of '{name}' is not periodic in {broken[0]}, so the network's output would not be; use one of the two"
        )
    return hard


def pi_init(model: torch.nn.Module, problem: problems.Problem, cfg: ModelConfig) -> float | None:
    """PirateNet's physics-informed start (``model.pi_init``; Wang, Li, Chen & Perdikaris 2024,
    sec. 4.2): the output layer fitted by least squares to the initial condition u(t0, x), taken
    from the problem's reference on its grid at every 10th time, as the authors' code does (the
    initial values repeated over those times). Returns the fit's relative residual; None for
    another model, ``pi_init=false``, or with ``model.hard_constraints`` (u = A + B N holds the
    initial condition whatever N is). A problem without a reference at t = t0: ConfigError."""
    if not (isinstance(model, PirateNet) and cfg.pi_init) or cfg.hard_constraints:
        return None
    ref = problem.reference() if "t" in problem.variables else None
    ref = ref if isinstance(ref, tuple) else None  # a grid; scattered points have no initial line to fit
    fields = ref[1] if ref is not None else {}
    if ref is None or not all(o in fields for o in problem.outputs) or ref[0]["t"][0] != problem.domain["t"][0]:
        raise ConfigError(
            "model.pi_init: PirateNet's start fits the initial condition from the reference solution at "
            f"t = lower bound, which equation '{type(problem).__name__}' does not have (set model.pi_init=false)"
        )
    grid = ref[0]
    axes = [grid[v][::10] if v == "t" else grid[v] for v in problem.variables]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([m.reshape(-1) for m in mesh], 1)
    # u(t0, .) at every point, whatever its time
    t_axis = problem.variables.index("t")
    values = np.stack([np.take(fields[o], [0], axis=t_axis) * np.ones_like(mesh[0]) for o in problem.outputs], -1)
    p = next(model.parameters())
    return fit_output(
        model,
        torch.as_tensor(points, dtype=p.dtype, device=p.device),
        torch.as_tensor(values.reshape(len(points), -1), dtype=p.dtype, device=p.device),
    )


__all__ = ["Network", "build_network", "exact_conditions", "hard_constraint", "pi_init"]
