"""The loss terms of a PINN problem at a step.

For every condition c with points x_1..x_n and every component k of its residual r_k,
the loss term ``<c>_<k>`` (:func:`~pinnrun.problems.term_name`) is the mean square

    L_{c,k} = 1/n sum_p r_k(x_p)^2,

(for a condition in ``equation.per_face``: the sum over its faces of each face's mean square),
with the residuals computed from the network's derivatives at those points. With
observations (inverse problems), ``data_<output>`` is the mean square misfit of each output
at the observed points. With adaptive activations, ``slope_recovery`` is the regularizer
S(a) = 1 / mean_k exp(mean a_k) (Jagtap, Kawaguchi & Karniadakis 2020): it is not fitted to
anything, so every weighting scheme keeps its configured weight (:attr:`Objective.regularizers`).

Unknown constants (inverse problems) are owned here: trainable parameters handed to the
residuals through a copy of the problem (:meth:`~pinnrun.problems.Problem.with_params`);
the problem itself keeps its true constants. A log-parametrised unknown (``equation.log_unknowns``)
is trained as lambda = log(value), and the residuals read exp(lambda), formed anew for every
evaluation of the loss terms.

In a distributed run (:mod:`pinnrun.distributed`) each rank has its part of the points and of
the observations; its terms are sum_{its points} r^2 / N with N the count over all ranks, so the
terms summed over the ranks are the one-process terms (the regularizer counts 1 / ranks on each).

With causal training on (``weighting.causal.chunks`` > 0; Wang, Sankaran & Perdikaris 2022,
:mod:`pinnrun.causal`), the terms of that condition are instead mean_i w_i L_{i,k} over M chunks of
its points sorted along the causal variable, with w_i = exp(-tol sum_{j<i} L_j) (no gradient).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from pinnrun.causal import Causal
from pinnrun.config import CausalConfig, ConfigError
from pinnrun.derivatives import Derivatives, Jet, JetDerivatives, Recorder, closure
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.models import AdaptiveActivation, slope_recovery
from pinnrun.models.taylor import propagate
from pinnrun.ntk import ResidualSet
from pinnrun.problems import Problem, term_name
from pinnrun.sampling import Observations, PointSets

SLOPE_RECOVERY = "slope_recovery"


class Objective:
    """The loss terms of ``problem`` for ``model``, on the points of ``points``."""

    regularizers = (SLOPE_RECOVERY,)

    def __init__(
        self,
        problem: Problem,
        model: torch.nn.Module,
        points: PointSets,
        observations: Observations | None = None,
        unknowns: Mapping[str, float] | None = None,
        taylor: bool = False,
        log_unknowns: Sequence[str] = (),
        causal: CausalConfig | None = None,
        ranks: Ranks = SINGLE,
    ) -> None:
        self.model, self.points, self.observations, self.ranks = model, points, observations, ranks
        #: this rank's part of the observations (all of them in a one-process run), and their count
        self.observed = None
        if observations is not None:
            part = ranks.part(len(observations.points))
            self.observed = (observations.points[part], observations.values[part], len(observations.points))
        # the derivative engine: reverse mode (autograd, the eager step's), or with ``taylor`` Taylor
        # mode through the network (the compiled step's: no double backward)
        self.taylor: Callable[[Jet], Jet] | None = functools.partial(propagate, model) if taylor else None
        p = next(model.parameters())
        self.unknowns = Unknowns(unknowns or {}, log_unknowns, p.dtype, p.device)
        # the residuals read the trainable constants; ``problem`` keeps the true ones
        self.problem = problem.with_params(self.unknowns.read()) if unknowns else problem
        self.conditions = {c: cond for c, cond in self.problem.conditions().items() if c in points.conditions}
        check_some_term(self.problem, self.conditions, observations)
        self.variables, self.outputs = problem.variables, problem.outputs
        self.adaptive = [m for m in model.modules() if isinstance(m, AdaptiveActivation)]
        self.terms: list[str] = (
            [term_name(c, k) for c, cond in self.conditions.items() for k in cond.components]
            + [term_name("data", o) for o in (observations.outputs if observations is not None else ())]
            + [SLOPE_RECOVERY] * bool(self.adaptive)
        )

        #: causal training of one condition's terms (None: off); its points come chunk by chunk
        self.causal: Causal | None = None
        if causal is not None and causal.chunks > 0:
            p = next(model.parameters())
            counts = {c: points.counts[c] for c in self.conditions}
            per_face = [c for c, f in points.faces.items() if f > 1]
            self.causal = Causal(causal, problem, counts, per_face, p.device, p.dtype, ranks.all_sum)
            points.order_by(causal.condition, list(problem.variables).index(causal.variable), causal.chunks)
        points.score_by(self.residual_norms)  # RAD's |r| at candidate points

        #: the space variables of the normals each condition's points carry (on a geometry's boundary)
        self.space = {c: problem.space if cond.on else () for c, cond in self.conditions.items()}
        # the partials each residual asks for (Taylor mode computes them in one pass): a residual that
        # asks for what its points cannot give is one line here, before training
        dtype = next(model.parameters()).dtype
        partials = {
            c: asked_partials(self.problem, c, cond, self.space[c], dtype) for c, cond in self.conditions.items()
        }
        self.partials = partials if taylor else {}

    def condition_terms(self, condition: str) -> list[str]:
        """The loss terms of one condition (none if it has no points)."""
        cond = self.conditions.get(condition)
        return [term_name(condition, k) for k in cond.components] if cond is not None else []

    def parameters(self) -> list[torch.nn.Parameter]:
        """Everything the optimizer trains: the network's parameters, then the unknown constants."""
        return list(self.model.parameters()) + list(self.unknowns.parameters())

    def derivatives(
        self, condition: str, points: torch.Tensor, taylor: bool | None = None
    ) -> Derivatives | JetDerivatives:
        """The derivatives at ``points`` by the objective's engine (``taylor``: Taylor mode or not)."""
        space = self.space[condition]
        if self.taylor is None or taylor is False:
            return Derivatives(self.model, points, self.variables, self.outputs, space)
        return JetDerivatives(self.taylor, points, self.variables, self.outputs, self.partials[condition], space)

    def losses(self, step: int) -> dict[str, torch.Tensor]:
        """Every loss term at ``step`` (on that step's points), with its graph."""
        return self.losses_on(self.points.at(step))

    def bind_unknowns(self, graph: bool = True) -> None:
        """Hands the residuals the unknowns' current values: exp(lambda) of a log-parametrised one is
        a new tensor each time the parameters change (``graph=False``: detached, for the NTK)."""
        if self.unknowns.log:
            self.problem.p.update({k: v if graph else v.detach() for k, v in self.unknowns.read().items()})

    def losses_on(self, points: Mapping[str, torch.Tensor], taylor: bool | None = None) -> dict[str, torch.Tensor]:
        """Every loss term on the given points of each condition (``taylor=False``: in reverse mode
        whatever the objective's engine, the step's where it could not compile)."""
        self.bind_unknowns()
        out = {}
        for c, pts in points.items():
            res = self.conditions[c].residual(self.derivatives(c, pts, taylor))
            # N: the points (on each face) over all ranks; per face, sum_f mean_f = sum / N
            n = self.points.total(c, pts)
            if self.causal is not None and c == self.causal.condition:  # mean_i w_i L_{i,k}
                terms = self.causal.terms({k: res[k] for k in self.conditions[c].components}, pts, n)
                out.update({term_name(c, k): v for k, v in terms.items()})
                continue
            for k in self.conditions[c].components:
                out[term_name(c, k)] = res[k].pow(2).sum() / n
        if self.observed is not None:
            pts, values, n = self.observed
            pred = self.model(pts)
            for i, o in enumerate(self.observations.outputs):
                j = self.outputs.index(o)
                out[term_name("data", o)] = (pred[:, j] - values[:, i]).pow(2).sum() / n
        if self.adaptive:
            out[SLOPE_RECOVERY] = slope_recovery(self.model) / (self.ranks.world if self.ranks.split else 1)
        return out

    def residual_sets(self, step: int) -> list[ResidualSet]:
        """Each condition's residual function with all its points (and the data terms'), for the NTK."""
        self.bind_unknowns(graph=False)
        mine = self.points.at(step)
        out = [
            ResidualSet(
                c,
                self.conditions[c].components,
                pts,
                self.conditions[c].residual,
                self.point_weights(c, mine[c], pts),
                self.space[c],
            )
            for c, pts in self.points.everywhere(step).items()
        ]
        if self.observations is not None:  # residual pred - data: its parameter Jacobian is the output's
            outputs = self.observations.outputs
            out.append(ResidualSet("data", outputs, self.observations.points, lambda d: {o: d[o] for o in outputs}))
        return out

    def point_weights(
        self, condition: str, points: torch.Tensor, everywhere: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The causal weight w_{chunk(p)} at the current tol of each point of ``everywhere`` (default
        ``points``, this rank's points of the condition, where the residual is computed); None for the
        other conditions, or with causal training off. The NTK weighs its diagonal so."""
        if self.causal is None or condition != self.causal.condition:
            return None
        with torch.enable_grad():  # the input derivatives need autograd; no parameter graph is kept
            res = self.conditions[condition].residual(self.derivatives(condition, points))
            comps = {k: res[k].detach() for k in self.conditions[condition].components}
        return self.causal.point_weights(comps, points, everywhere)

    def residual_norms(self, condition: str, points: torch.Tensor, batch: int = 8192) -> torch.Tensor:
        """|r(x)| = sqrt(sum_k r_k(x)^2) over the components of ``condition``'s residual for the
        current network, at each of ``points`` (RAD's score, :mod:`pinnrun.sampling`), in batches.

        No graph to the network's parameters: Taylor mode runs under ``torch.no_grad``; reverse
        mode differentiates w.r.t. the inputs only, through the network with detached parameters.
        """
        cond = self.conditions[condition]
        self.bind_unknowns(graph=False)
        frozen = {k: v.detach() for k, v in self.model.named_parameters()}

        def net(x: torch.Tensor) -> torch.Tensor:
            return torch.func.functional_call(self.model, frozen, (x,))

        out = []
        for part in points.split(batch):
            if self.taylor is not None:
                with torch.no_grad():
                    res = cond.residual(self.derivatives(condition, part))
            else:
                res = cond.residual(Derivatives(net, part, self.variables, self.outputs, self.space[condition]))
            out.append(torch.stack([res[k].detach() for k in cond.components]).pow(2).sum(0).sqrt())
        return torch.cat(out) if out else points.new_zeros(0)

    # -- causal training, and what the objective adds to a checkpoint and a metrics row ------
    def advance(self) -> torch.Tensor | bool:
        """After an optimizer step: causal training's next tol once min_i w_i > delta (Algorithm 1),
        as a tensor on the device (no host sync); False without causal training."""
        return self.causal.advance() if self.causal is not None else False

    def checkpoint_parts(self) -> dict[str, Any]:
        """The objective's state in a checkpoint, by key: the unknowns, and causal training's tol."""
        return {"unknowns": self.unknowns, **({"causal": self.causal} if self.causal is not None else {})}

    def columns(self) -> list[str]:
        """The objective's columns of metrics.csv, after the weights."""
        return (
            ["causal/min_weight", "causal/tol"] * (self.causal is not None)
            + [f"param/{k}" for k in self.unknowns]
            + [f"slope/{k}" for k in self.slopes()]
        )

    def log_values(self) -> dict[str, float]:
        return {
            **(self.causal.log_values() if self.causal is not None else {}),
            **{f"param/{k}": v for k, v in self.unknowns.constants().items()},
            **{f"slope/{k}": v for k, v in self.slopes().items()},
        }

    def slopes(self) -> dict[str, float]:
        """The effective slope n * a of each adaptive layer (mean over its neurons)."""
        return {str(i): m.scale * m.slope.mean().item() for i, m in enumerate(self.adaptive)}


def check_some_term(problem: Problem, conditions: Mapping, observations: Observations | None) -> None:
    """One line where the loss would have no term: no condition has points (each was given 0, or
    holds by construction) and nothing is observed. equation.points of all zeros is refused as the
    config is checked; this sees the conditions the network holds exactly, too."""
    if not conditions and observations is None:
        raise ConfigError(
            f"the loss has no term: every condition ({', '.join(problem.conditions())}) has 0 points or "
            "holds by construction, and there are no observations"
        )


def asked_partials(problem: Problem, name: str, cond, space: Sequence[str], dtype: torch.dtype) -> tuple:
    """The partials condition ``name``'s residual asks for (with what they need: :func:`closure`),
    found by running it once on a :class:`Recorder` at the domain's centre; a residual that asks for
    what its points cannot give (a normal derivative inside the domain) is a one-line ConfigError."""
    centre = [(a + b) / 2 for a, b in zip(problem.lower, problem.upper)] + [0.0] * len(space)
    rec = Recorder(torch.tensor([centre], dtype=dtype), problem.variables, problem.outputs, space=space)
    try:
        cond.residual(rec)
    except ConfigError as e:
        raise ConfigError(f"condition '{name}': {e}") from None
    return closure(rec.keys)


class Unknowns(torch.nn.ParameterDict):
    """The unknown constants of an inverse problem (``equation.unknowns``: their initial values),
    trained with the network as lambda = value, or lambda = log(value) for those of
    ``equation.log_unknowns`` (the residuals then read exp(lambda), always positive)."""

    def __init__(self, initial: Mapping[str, float], log: Sequence[str], dtype: torch.dtype, device) -> None:
        super().__init__(
            {
                k: torch.nn.Parameter(torch.tensor(math.log(v) if k in log else float(v), dtype=dtype, device=device))
                for k, v in initial.items()
            }
        )
        self.initial, self.log = {k: float(v) for k, v in initial.items()}, tuple(log)

    def read(self) -> dict[str, torch.Tensor]:
        """The constants as the residuals read them (exp(lambda) where log-parametrised)."""
        return {k: v.exp() if k in self.log else v for k, v in self.items()}

    def constants(self) -> dict[str, float]:
        """The current values of the constants."""
        return {k: v.item() for k, v in self.read().items()}

    def identified(self, true: Mapping[str, Any]) -> dict[str, Any]:
        """Each constant's initial, true and found value and relative error ({} without unknowns)."""
        out = {}
        for k, found in self.constants().items():
            t = float(true[k])
            out[k] = {
                "initial": self.initial[k],
                "true": t,
                "found": found,
                "rel_error": abs(found - t) / abs(t) if t else None,
            }
        return {"unknowns": out} if out else {}


__all__ = ["Objective", "Observations", "SLOPE_RECOVERY", "Unknowns"]
