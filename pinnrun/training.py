"""The PINN task: a problem's network trained on its loss terms, phase by phase.

Built from the config in the order data flows: problem -> model, samplers, evaluation
(reference grid, observations, held-out points) -> objective -> weighting. Building writes
nothing; :class:`~pinnrun.runner.Runner` drives the task and writes the run directory.

One step of a first-order phase (Adam, GD), in :meth:`PinnTask.advance`:

    weighting.update(step)                     # adaptive schemes, every update_every steps
    loss = sum_i w_i L_i(step)                 # LossStep: the terms on this step's points
    loss.backward(); optimizer.step(); schedule.step()

:class:`LossStep` computes the loss and its gradient, eagerly (reverse-mode input derivatives)
or, with ``trainer.compile=true``, as one compiled function (Taylor-mode input derivatives,
:mod:`pinnrun.models.taylor`; on CUDA captured in CUDA graphs unless trainer.cuda_graphs=false).
The points and the weights are its tensor arguments: new points (same shapes) and new weights
reuse the compiled code. Only every FINITE_EVERY-th step reads a value back to the host (is the
loss still finite?), and a chunk's last loss and terms are read once at its end.

An L-BFGS phase runs chunks of iterations on one fixed objective (the points and weights of
the chunk's first step; :func:`~pinnrun.optim.lbfgs_chunk`), and forgets its curvature
history where the points or the weights change.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from pinnrun import problems, reference
from pinnrun.config import ConfigError, PhaseKind, RunConfig, config_hash
from pinnrun.device import place
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.evaluation import Evaluation
from pinnrun.models import count_parameters
from pinnrun.network import build_network
from pinnrun.objective import Objective
from pinnrun.optim import Phase, clear_history, lbfgs_chunk, make_optimizer, plan_phases
from pinnrun.runner import Chunk, Results
from pinnrun.sampling import PointSets
from pinnrun.solution import Solution
from pinnrun.weighting import Weighting, build_weighting

#: a chunk of first-order steps stops within this many steps of a non-finite loss
FINITE_EVERY = 10


def own_code(method: Callable) -> Callable:
    """``method`` bound to a copy of its function with a code object of its own. torch.compile keeps
    what it compiled per code object: each task's step then compiles into its own entry, so a new
    task of this process (a sweep's next job, the next test) neither counts as a recompilation of an
    earlier task's step (past torch's limit of those the step would silently run uncompiled) nor
    drops what the earlier tasks compiled; the kernels come from Inductor's caches."""
    f = method.__func__
    copy = types.FunctionType(f.__code__.replace(), f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    copy.__kwdefaults__ = f.__kwdefaults__
    return types.MethodType(copy, method.__self__)


class LossStep:
    """``step(points, weights, opt)``: clears the gradients, computes sum_i w_i L_i on ``points``
    (condition -> tensor) and its gradient; returns the loss and the terms (a tensor in the
    order of objective.terms). In a distributed run the points are this rank's, and one
    all-reduce then sums the gradients, the loss and the terms over the ranks."""

    def __init__(self, objective: Objective, compiled: bool, cuda_graphs: bool) -> None:
        self.objective, self.warning = objective, None
        self.params = objective.parameters()
        #: the eager step: reverse-mode derivatives, whatever the objective's engine
        self.eager = functools.partial(self.losses, taylor=False)
        self.fn = self.eager
        self.trial = compiled  # the first call compiles, and falls back to eager if it fails
        if compiled:
            # fake tensors' dispatch cache is cleared: an entry left by an earlier task's compilation
            # made this one fail intermittently (a hard-constrained step's nested jvp: "more than one
            # element of the written-to tensor refers to a single memory location")
            FakeTensorMode.cache_clear()
            mode = "reduce-overhead" if cuda_graphs and next(objective.model.parameters()).is_cuda else None
            self.fn = torch.compile(own_code(self.losses), dynamic=False, mode=mode)

    def losses(
        self, points: dict[str, torch.Tensor], weights: torch.Tensor, taylor: bool | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        terms = torch.stack(list(self.objective.losses_on(points, taylor).values()))
        return (weights * terms).sum(), terms

    def __call__(
        self, points: dict[str, torch.Tensor], weights: torch.Tensor, opt: torch.optim.Optimizer
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.trial:
            try:
                return self._run(points, weights, opt)
            except Exception as e:  # noqa: BLE001 - any failure to compile: the eager step
                first = (str(e).strip().splitlines() or [""])[0][:200]
                self.warning = (
                    f"trainer.compile: the step did not compile ({type(e).__name__}: {first}); training eagerly"
                )
                self.fn = self.eager
            finally:
                self.trial = False
        return self._run(points, weights, opt)

    @property
    def engine(self) -> str:
        """How the steps run: "compiled", or "eager" (asked for, or fallen back to)."""
        return "eager" if self.fn is self.eager else "compiled"

    def _run(self, points, weights, opt):
        opt.zero_grad(set_to_none=True)
        loss, terms = self.fn(points, weights)
        loss.backward()
        return self.objective.ranks.reduce_step(self.params, loss, terms)


def reject_sip_phases(cfg: RunConfig) -> None:
    """A PINN trains with Adam, GD and L-BFGS phases; SIP phases train learned inverse problems."""
    for i, ph in enumerate(cfg.optimizer.phases):
        if ph.kind is PhaseKind.sip:
            raise ConfigError(
                f"optimizer.phases.{i}.kind=sip trains learned inverse problems "
                f"(equation=sip_synthetic, sip_heat), not the PINN '{cfg.equation.name}'"
            )


def metrics_columns(objective: Objective, weighting: Weighting, evaluation: Evaluation) -> list[str]:
    """The columns of a PINN run's metrics.csv, in order."""
    return (
        ["step", "phase", "lr", "loss"]
        + [f"loss/{k}" for k in objective.terms]
        + [f"weight/{g}" for g in weighting.groups]
        + objective.columns()
        + [f"l2/{f}" for f in evaluation.l2_names]
        + ["test_loss"] * (evaluation.test_set is not None)
        + ["time_s"]
    )


class PinnTask:
    """A PINN problem (:class:`~pinnrun.problems.Problem`) as a task of the runner."""

    #: the settings it reads: every group of the schema (a SIP task reads fewer and refuses the rest)
    settings = ("equation", "model", "optimizer", "weighting", "sampler", "trainer", "seed", "logger", "published")

    def __init__(
        self,
        cfg: RunConfig,
        problem: problems.Problem | None = None,
        ranks: Ranks = SINGLE,
        prepare_reference: Callable[[], None] | None = None,
    ) -> None:
        """``prepare_reference``: makes the problem's reference data ready (builds a missing dataset),
        called once the model has checked its settings, before anything reads the reference: a bad
        model setting is reported before a solver runs."""
        self.cfg, self.ranks = cfg, ranks
        eq = cfg.equation
        reject_sip_phases(cfg)
        self.problem = problem or problems.build(eq)
        placement = place(cfg.trainer)
        self.device, self.threads = placement.device, placement.threads
        torch.manual_seed(cfg.seed)
        self.network = build_network(cfg.model, self.problem, placement, prepare_reference)
        self.model = self.network.model
        self.points = PointSets.build(
            self.problem, eq, cfg.sampler, cfg.seed, placement.device, placement.dtype, ranks, self.network.exact
        )
        self.evaluation = Evaluation(self.problem, self.model, eq.test_points, cfg.seed, ranks)
        observations = self.evaluation.observations(eq.observations, cfg.seed)
        if eq.observations.collocate:
            self.points.collocate(eq.observations.collocate, observations.points)
        self.objective = Objective(
            self.problem,
            self.model,
            self.points,
            observations,
            eq.unknowns,
            taylor=cfg.trainer.compile,
            log_unknowns=eq.log_unknowns,
            causal=cfg.weighting.causal,
            ranks=ranks,
        )
        self.step = LossStep(self.objective, cfg.trainer.compile, cfg.trainer.cuda_graphs)
        self._weights: tuple[dict[str, float], torch.Tensor] | None = None
        self.weighting = build_weighting(cfg.weighting, self.objective, cfg.seed)
        #: what a checkpoint holds of each component (with the optimizer's and the schedule's state)
        self.stateful = {
            "model": self.model,
            **self.objective.checkpoint_parts(),
            "weighting": self.weighting,
            "sampler": self.points,
        }
        self.checkpoint_keys = (*self.stateful, "optimizer", "scheduler")
        self.phases = plan_phases(cfg.optimizer.phases, cfg.trainer.max_steps)
        self.config_hash = config_hash(
            cfg, ("equation", "model", "optimizer", "weighting", "sampler"), self.threads, ranks.world
        )
        self.primary_field = self.problem.primary_field
        self.n_parameters = count_parameters(self.model)
        self.columns = metrics_columns(self.objective, self.weighting, self.evaluation)
        self.opt: torch.optim.Optimizer | None = None
        self.sched = None

    # -- for the runner ------------------------------------------------------------------
    def describe(self) -> str:
        step = "compiled step" if self.cfg.trainer.compile else "eager step"
        return (
            f"equation={self.cfg.equation.name} model={self.cfg.model.name.value} "
            f"({self.n_parameters} parameters, {step})"
        )

    @property
    def engine(self) -> str:
        return self.step.engine

    def notes(self) -> list[str]:
        out = [f"warning: {w}" for w in self.problem.warnings]
        if not self.evaluation.fields and self.problem.reference_file:
            out.append(reference.pinnacle.missing_note(self.problem.reference_file, self.problem.reference_path()))
        elif not self.evaluation.fields:
            out.append("no reference solution for this domain: no L2 errors")
        if self.network.pi_init_residual is not None:
            fit = self.network.pi_init_residual
            out.append(f"model.pi_init: output layer fitted to the initial condition (relative residual {fit:.2e})")
        out += [f"condition '{c}' holds by construction ({why}): no loss term" for c, why in self.network.exact.items()]
        unsampled = [c for c in self.points.order if self.points.counts[c] == 0 and c not in self.network.exact]
        out += [f"condition '{c}' has 0 points (equation.points.{c}=0): no loss term" for c in unsampled]
        obs = self.objective.observations
        seen = f"{len(obs.points)} observations of {', '.join(obs.outputs)}" if obs is not None else "no observations"
        if self.objective.unknowns:
            out.append(f"unknowns: {', '.join(self.objective.unknowns)}; {seen}")
        elif obs is not None:
            out.append(seen)
        return out

    def chunk_every(self, phase: Phase) -> list[int]:
        """L-BFGS chunks also end where the points change, and where the weights do."""
        every = [self.cfg.sampler.resample_every] if self.cfg.sampler.resample_every > 0 else []
        if self.weighting.updates_in(phase):
            every.append(self.cfg.weighting.update_every)
        return every

    def start_phase(self, phase: Phase, saved: dict[str, Any] | None) -> None:
        self.opt, self.sched = make_optimizer(phase, self.objective.parameters())
        if saved is not None:
            self.opt.load_state_dict(saved["optimizer"])
            if self.sched is not None:
                self.sched.load_state_dict(saved["scheduler"])

    def advance(self, phase: Phase, step: int, target: int) -> Chunk:
        """The steps up to ``target`` (fewer if the loss stops being finite or L-BFGS converges)."""
        if not phase.first_order:
            return self._lbfgs(phase, step, target)
        opt, sched, points = self.opt, self.sched, self.points
        after = self.cfg.weighting.update_after_step
        while step < target:
            if not after:
                self.weighting.update(step)
            loss, terms = self.step(points.at(step), self.weights(phase), opt)
            self.objective.advance()  # causal training's next tol (on the device)
            opt.step()
            sched.step()
            if after:  # on this step's points and the parameters it left: the next step's weights
                self.weighting.update(step)
            step += 1
            if step % FINITE_EVERY == 0 and not torch.isfinite(loss):  # a host sync: not every step
                break
        return self._chunk(step, loss, terms)

    def _lbfgs(self, phase: Phase, step: int, target: int) -> Chunk:
        """L-BFGS iterations up to ``target`` on the points and weights of the chunk's first step."""
        new_weights = self.weighting.updates_in(phase) and self.weighting.update(step)
        new_points = self.points.round_at(step) != self.points.round_at(step - 1)
        if new_weights or new_points:  # another objective: curvature pairs of two must not mix
            clear_history(self.opt)
        points, weights = self.points.at(step), self.weights(phase)
        done, converged = lbfgs_chunk(self.opt, lambda: self.step(points, weights, self.opt)[0], target - step)
        # the loss at the parameters L-BFGS ends with (its last closure call may be a trial point)
        loss, terms = self.step(points, weights, self.opt)
        if bool(self.objective.advance()):  # causal training's next tol: another objective
            clear_history(self.opt)
        return self._chunk(step + done, loss, terms, converged)

    def weights(self, phase: Phase) -> torch.Tensor:
        """The weights of the terms as one tensor (rebuilt only when they change)."""
        w = self.weighting.weights_for(phase)  # per group; the scheme's own dict in Adam phases
        if self._weights is None or self._weights[0] != w:
            p = next(self.model.parameters())
            terms = self.weighting.term_weights(phase)
            values = torch.tensor([terms[k] for k in self.objective.terms], dtype=p.dtype, device=p.device)
            self._weights = (dict(w), values)  # a copy: a scheme may update its dict in place
        return self._weights[1]

    def _chunk(self, step: int, loss: torch.Tensor, terms: torch.Tensor, converged: bool = False) -> Chunk:
        values = dict(zip(self.objective.terms, terms.detach().tolist()))  # the one read back to the host
        warning, self.step.warning = self.step.warning, None
        # best.pt's criterion: the fit terms unweighted, comparable across weight updates and phases
        score = sum(v for k, v in values.items() if k not in self.objective.regularizers)
        return Chunk(step, float(loss.detach()), values, converged, warning, score)

    def log_values(self, phase: Phase) -> dict[str, float]:
        return {
            "lr": self.opt.param_groups[0]["lr"],
            **{f"weight/{k}": v for k, v in self.weighting.weights_for(phase).items()},
            **self.objective.log_values(),
        }

    def evaluate(self) -> dict[str, float]:
        return self.evaluation.metrics()

    def diagnostics(self) -> list[tuple[int, dict[str, Any]]]:
        return self.weighting.take_diagnostics()

    def state_dict(self) -> dict[str, Any]:
        return {
            **{k: part.state_dict() for k, part in self.stateful.items()},
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched else {},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The trained state; the optimizer's comes with its phase (:meth:`start_phase`)."""
        for k, part in self.stateful.items():
            part.load_state_dict(state[k])

    def results(self, diverged: bool, ranks: Ranks) -> Results:
        unknowns = self.objective.unknowns
        constants = {f"param/{k}": v for k, v in unknowns.constants().items()}
        identified = unknowns.identified(self.problem.p)  # against the true constants (equation.params)
        if diverged:
            return Results(None, constants, identified)
        payload, metrics = self.evaluation.payload(ranks, self.points.drawn())
        return Results(payload, {**metrics, **constants}, identified)

    def predictor(self) -> Solution:
        """The trained solution, with the learned unknowns (detached)."""
        self.objective.bind_unknowns(graph=False)
        return Solution(self.objective.problem, self.model, self.cfg.equation.name)


__all__ = ["PinnTask"]
