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
from typing import Any

import numpy as np
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from pinnrun import problems
from pinnrun.config import ConfigError, ModelConfig, PhaseKind, RunConfig, config_hash
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.evaluation import Evaluation
from pinnrun.models import build_model, count_parameters
from pinnrun.models.constrained import HardConstrained
from pinnrun.models.pirate import PirateNet, fit_output
from pinnrun.models.taylor import propagate
from pinnrun.objective import Objective
from pinnrun.optim import Phase, clear_history, lbfgs_chunk, make_optimizer, plan_phases
from pinnrun.runner import Chunk, Results, pick_device, set_threads
from pinnrun.sampling import PointSets
from pinnrun.weighting import build_weighting

#: a chunk of first-order steps stops within this many steps of a non-finite loss
FINITE_EVERY = 10


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


def causal_order(problem: problems.Problem, cfg: RunConfig) -> dict[str, tuple[int, int]]:
    """{condition: (column, chunks)} of causal training (the order a distributed run splits that
    condition's points in, chunk by chunk); empty with it off or misconfigured (the objective says how)."""
    c = cfg.weighting.causal
    if c.chunks <= 0 or c.variable not in problem.variables:
        return {}
    return {c.condition: (list(problem.variables).index(c.variable), c.chunks)}


class LossStep:
    """``step(points, weights, opt)``: clears the gradients, computes sum_i w_i L_i on ``points``
    (condition -> tensor) and its gradient; returns the loss and the terms (a tensor in the
    order of objective.terms). In a distributed run the points are this rank's, and one
    all-reduce then sums the gradients, the loss and the terms over the ranks."""

    def __init__(self, objective: Objective, compiled: bool, cuda_graphs: bool) -> None:
        self.objective, self.warning = objective, None
        self.params = objective.parameters()
        self.fn = self.losses
        self.trial = compiled  # the first call compiles, and falls back to eager if it fails
        if compiled:
            # the code compiled for an earlier task of this process (a sweep's jobs in one process)
            # is dropped: else each new task would count as a recompilation of this method, and
            # past torch's limit of those the step would silently run uncompiled
            torch._dynamo.reset()
            # and fake tensors' dispatch cache, which the reset keeps: an entry left by an earlier
            # task's compilation made this one fail intermittently (a hard-constrained step's nested
            # jvp: "more than one element of the written-to tensor refers to a single memory location")
            FakeTensorMode.cache_clear()
            mode = "reduce-overhead" if cuda_graphs and next(objective.model.parameters()).is_cuda else None
            self.fn = torch.compile(self.losses, dynamic=False, mode=mode)

    def losses(self, points: dict[str, torch.Tensor], weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        terms = torch.stack(list(self.objective.losses_on(points).values()))
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
                self.objective.taylor = None
                self.fn = self.losses
            finally:
                self.trial = False
        return self._run(points, weights, opt)

    @property
    def engine(self) -> str:
        """How the steps run: "compiled", or "eager" (asked for, or fallen back to)."""
        return "eager" if self.fn == self.losses else "compiled"

    def _run(self, points, weights, opt):
        opt.zero_grad(set_to_none=True)
        loss, terms = self.fn(points, weights)
        loss.backward()
        return self.objective.ranks.reduce_step(self.params, loss, terms)


class PinnTask:
    """A PINN problem (:class:`~pinnrun.problems.Problem`) as a task of the runner."""

    checkpoint_keys = ("model", "unknowns", "optimizer", "scheduler", "weighting", "sampler")

    def __init__(self, cfg: RunConfig, problem: problems.Problem | None = None, ranks: Ranks = SINGLE) -> None:
        self.cfg, self.ranks = cfg, ranks
        eq = cfg.equation
        for i, ph in enumerate(cfg.optimizer.phases):
            if ph.kind is PhaseKind.sip:
                raise ConfigError(
                    f"optimizer.phases.{i}.kind=sip trains learned inverse problems "
                    f"(equation=sip_synthetic, sip_heat), not the PINN '{eq.name}'"
                )
        self.problem = problem or problems.build(eq)
        self.device = pick_device(cfg.trainer.device, cfg.trainer.tf32)
        self.threads = set_threads(cfg.trainer.threads, self.device)
        dtype = getattr(torch, cfg.trainer.dtype.value)
        torch.manual_seed(cfg.seed)
        self.model = build_model(
            cfg.model, self.problem.lower, self.problem.upper, len(self.problem.outputs), self.problem.variables
        ).to(self.device, dtype)
        #: the relative residual of PirateNet's least-squares start (model.pi_init), else None
        self.pi_init_residual = pi_init(self.model, self.problem, cfg.model)
        #: conditions the network satisfies exactly: left out of the loss
        self.exact_conditions = exact_conditions(self.problem, cfg.model)
        if cfg.model.hard_constraints:  # u = A + B N, the network N inside (its parameters under net.)
            a_b = self.problem.hard_constraint().functions(self.problem.variables, self.problem.outputs)
            self.model = HardConstrained(self.model, *a_b)
        self.points = PointSets(
            self.problem,
            {c: 0 if c in self.exact_conditions else n for c, n in eq.points.items()},
            cfg.sampler.method,
            cfg.sampler.per_condition,
            cfg.sampler.resample_every,
            cfg.seed,
            self.device,
            dtype,
            eq.per_face,
            cfg.sampler.rad,
            ranks,
            causal_order(self.problem, cfg),
        )
        self.evaluation = Evaluation(self.problem, self.model, eq.test_points, cfg.seed, ranks)
        observations = self.evaluation.observations(eq.observations, cfg.seed)
        if eq.observations.collocate:
            self.points.collocate(eq.observations.collocate, observations[0])
        self.objective = Objective(
            self.problem,
            self.model,
            self.points,
            observations,
            eq.unknowns,
            taylor=functools.partial(propagate, self.model) if cfg.trainer.compile else None,
            log_unknowns=eq.log_unknowns,
            causal=cfg.weighting.causal,
            ranks=ranks,
        )
        self.causal = self.objective.causal  # causal training (pinnrun.causal), or None
        if self.causal is not None:  # its tolerance schedule's position goes into the checkpoint
            self.checkpoint_keys = (*PinnTask.checkpoint_keys, "causal")
        self.points.scorer = self.objective.residual_norms  # RAD's |r| at candidate points
        self.step = LossStep(self.objective, cfg.trainer.compile, cfg.trainer.cuda_graphs)
        self._weights: tuple[dict[str, float], torch.Tensor] | None = None
        self.weighting = build_weighting(cfg.weighting, self.objective, cfg.seed)
        self.phases = plan_phases(cfg.optimizer.phases, cfg.trainer.max_steps)
        self.config_hash = config_hash(
            cfg, ("equation", "model", "optimizer", "weighting", "sampler"), self.threads, ranks.world
        )
        self.primary_field = self.problem.primary_field
        self.n_parameters = count_parameters(self.model)
        terms = self.objective.terms
        self.columns = (
            ["step", "phase", "lr", "loss"]
            + [f"loss/{k}" for k in terms]
            + [f"weight/{g}" for g in self.weighting.groups]
            + ["causal/min_weight", "causal/tol"] * (self.causal is not None)
            + [f"param/{k}" for k in self.objective.unknowns]
            + [f"slope/{k}" for k in self.objective.slopes()]
            + [f"l2/{f}" for f in self.evaluation.fields]
            + ["test_loss"] * (self.evaluation.test_set is not None)
            + ["time_s"]
        )
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
        out = [] if self.evaluation.fields else ["no reference solution for this domain: no L2 errors"]
        if self.pi_init_residual is not None:
            fit = self.pi_init_residual
            out.append(f"model.pi_init: output layer fitted to the initial condition (relative residual {fit:.2e})")
        out += [
            f"condition '{c}' holds by construction ({why}): no loss term" for c, why in self.exact_conditions.items()
        ]
        if self.objective.unknowns:
            obs = self.objective.observations
            out.append(
                f"unknowns: {', '.join(self.objective.unknowns)}; "
                f"{len(obs[0]) if obs is not None else 'no'} observations"
            )
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
        while step < target:
            self.weighting.update(step)
            loss, terms = self.step(points.at(step), self.weights(phase), opt)
            if self.causal is not None:  # Algorithm 1: the next tol once min w > delta (on the device)
                self.causal.advance()
            opt.step()
            sched.step()
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
        if self.causal is not None and bool(self.causal.advance()):  # the next chunk: another objective
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
            **(self.causal.log_values() if self.causal is not None else {}),
            **{f"param/{k}": v for k, v in self.objective.constants().items()},
            **{f"slope/{k}": v for k, v in self.objective.slopes().items()},
        }

    def evaluate(self) -> dict[str, float]:
        return self.evaluation.metrics()

    def diagnostics(self) -> list[tuple[int, dict[str, Any]]]:
        return self.weighting.take_diagnostics()

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "unknowns": self.objective.unknowns.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched else {},
            "weighting": self.weighting.state_dict(),
            "sampler": self.points.state_dict(),
            **({"causal": self.causal.state_dict()} if self.causal is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The trained state; the optimizer's comes with its phase (:meth:`start_phase`)."""
        self.model.load_state_dict(state["model"])
        self.objective.unknowns.load_state_dict(state["unknowns"])
        self.weighting.load_state_dict(state["weighting"])
        if self.causal is not None:
            self.causal.load_state_dict(state["causal"])
        self.points.load_state_dict(state["sampler"])

    def results(self, diverged: bool) -> Results:
        constants = {f"param/{k}": v for k, v in self.objective.constants().items()}
        if diverged:
            return Results(None, constants, self.identified())
        payload, metrics = self.evaluation.payload()
        return Results(payload, {**metrics, **constants}, self.identified())

    def identified(self) -> dict[str, Any]:
        """The unknown constants: initial, true (equation.params) and found values, relative error."""
        if not self.objective.unknowns:
            return {}
        out = {}
        for k, found in self.objective.constants().items():
            true = float(self.problem.p[k])
            out[k] = {
                "initial": float(self.cfg.equation.unknowns[k]),
                "true": true,
                "found": found,
                "rel_error": abs(found - true) / abs(true) if true else None,
            }
        return {"unknowns": out}


__all__ = ["PinnTask"]
