"""The trainer: the only place that holds problem, model, samplers, weighting
and optimizer phases together.

One *step* is one optimizer iteration: an Adam update, or one L-BFGS iteration
(with its line search). Steps are counted over all phases; ``trainer.max_steps``
caps the total. Logging, evaluation and checkpoints happen at multiples of
their intervals, and L-BFGS runs in chunks that end on those multiples, so a
run resumed from a checkpoint takes exactly the steps the uninterrupted run
took and ends with the same numbers.
"""
from __future__ import annotations

import hashlib
import math
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from omegaconf import OmegaConf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

import pinnrun
from pinnrun import io, problems
from pinnrun.config import ConfigError, Device, Logger, PhaseConfig, PhaseKind, RunConfig
from pinnrun.derivatives import Derivatives
from pinnrun.models import AdaptiveActivation, build_model, count_parameters, slope_recovery
from pinnrun.sampling import PointSets
from pinnrun.ntk import Group
from pinnrun.weighting import REGULARIZERS, TermSource, build_weighting

EVAL_BATCH = 65536
PLAIN_GRID = 201  # points per axis of the prediction grid of a problem without reference
CHECKPOINTED = ("step", "phase", "phase_start", "phase_converged", "elapsed", "best_loss")
CHECKPOINT_KEYS = ("model", "unknowns", "optimizer", "scheduler", "weighting", "sampler", "torch_rng",
                   "config_hash") + CHECKPOINTED


def config_hash(cfg: RunConfig) -> str:
    """Hash of everything that decides the numbers (not logging, max_steps or resume)."""
    c = OmegaConf.structured(cfg)
    keep = {k: c[k] for k in ("equation", "model", "optimizer", "weighting", "sampler", "seed")}
    keep["dtype"] = c.trainer.dtype
    return hashlib.sha256(OmegaConf.to_yaml(OmegaConf.create(keep)).encode()).hexdigest()[:16]


def pick_device(choice: Device) -> torch.device:
    if choice is Device.cuda and not torch.cuda.is_available():
        raise ConfigError("trainer.device=cuda but no CUDA device is available (use trainer.device=auto or cpu)")
    if choice is Device.cpu or (choice is Device.auto and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda")


@dataclass
class Phase:
    index: int
    cfg: PhaseConfig
    steps: int          # planned steps, after the max_steps cap

    @property
    def name(self) -> str:
        return self.cfg.kind.value


FIRST_ORDER = (PhaseKind.adam, PhaseKind.gd)


def first_order(c: PhaseConfig, params):
    """Adam (also for sip phases) or plain gradient descent, with the lr schedule
    lr * decay_rate ** (step / decay_steps)."""
    opt = torch.optim.SGD(params, lr=c.lr) if c.kind is PhaseKind.gd else torch.optim.Adam(params, lr=c.lr)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: c.decay_rate ** (s / c.decay_steps))


def plan_phases(phases: List[PhaseConfig], max_steps: Optional[int]) -> List[Phase]:
    out, left = [], math.inf if max_steps is None else max_steps
    for i, ph in enumerate(phases):
        n = int(min(ph.steps, left))
        out.append(Phase(i, ph, n))
        left -= n
    return out


class Trainer:
    def __init__(self, cfg: RunConfig, run_dir: Path, console: Optional[Console] = None,
                 overrides: Optional[List[str]] = None, problem: Optional[problems.Problem] = None) -> None:
        """Builds everything and checks it; writes nothing until :meth:`run`."""
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.console = console or Console(stderr=True)
        self.overrides = overrides or []
        t = cfg.trainer
        io.check_run_dir(self.run_dir, t.resume)
        self.device = pick_device(t.device)
        self.dtype = getattr(torch, t.dtype.value)

        self.problem = problem or problems.build(cfg.equation)
        for i, ph in enumerate(cfg.optimizer.phases):
            if ph.kind is PhaseKind.sip:
                raise ConfigError(f"optimizer.phases.{i}.kind=sip trains learned inverse problems "
                                  f"(equation=sip_synthetic, sip_heat), not the PINN '{cfg.equation.name}'")
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.model, self.problem.lower, self.problem.upper,
                                 len(self.problem.outputs)).to(self.device, self.dtype)
        self.points = PointSets(self.problem, cfg.equation.points, cfg.sampler.method,
                                cfg.sampler.per_condition, cfg.sampler.resample_every, cfg.seed,
                                self.device, self.dtype)
        self.conditions = self.points.conditions   # those with points

        ref = self.problem.reference()
        if ref is None:  # no reference for this domain: predictions on a uniform grid, no L2
            ref = ({v: np.linspace(lo, hi, PLAIN_GRID) for v, (lo, hi) in self.problem.domain.items()}, {})
        self.grid, self.ref = ref
        mesh = np.meshgrid(*(self.grid[v] for v in self.problem.variables), indexing="ij")
        self.grid_shape = mesh[0].shape
        self.eval_points = torch.as_tensor(np.stack([m.ravel() for m in mesh], 1),
                                           dtype=self.dtype, device=self.device)
        self.fields = [f for f in self.problem.fields if f in self.ref]
        self.observations = self.observe(cfg.equation.observations)
        self.test_set = self.held_out(cfg.equation.test_points)
        self.unknowns = self.make_unknowns(cfg.equation.unknowns)

        # adaptive activations: their slopes, and the slope-recovery term (fixed weight)
        self.adaptive = [m for m in self.model.modules() if isinstance(m, AdaptiveActivation)]
        self.first_order_phase = True
        self.terms = ([f"{c}_{t}" for c, cond in self.conditions.items() for t in cond.terms]
                      + [f"data_{o}" for o in (self.problem.outputs if self.observations else ())]
                      + ["slope_recovery"] * bool(self.adaptive))
        self.weighting = build_weighting(cfg.weighting, self.terms, cfg.seed)
        self.term_source = TermSource(self.model, self.problem.variables, self.problem.outputs,
                                      self.groups, self.term_losses)
        self.phases = plan_phases(cfg.optimizer.phases, t.max_steps)
        self.total_steps = sum(p.steps for p in self.phases)
        self.hash = config_hash(cfg)
        self.columns = (["step", "phase", "lr", "loss"] + [f"loss/{k}" for k in self.terms]
                        + [f"weight/{k}" for k in self.terms] + [f"param/{k}" for k in self.unknowns]
                        + [f"slope/{i}" for i in range(len(self.adaptive))]
                        + [f"l2/{f}" for f in self.fields] + ["test_loss"] * (self.test_set is not None)
                        + ["time_s"])

        self.ckpt_dir = self.run_dir / "checkpoints"
        # the current phase began at phase_start and ends after its planned steps, or
        # where L-BFGS converged (phase_converged); a resumed run (even with another
        # trainer.max_steps) ends its phases where this one did or would have
        self.state: Dict[str, Any] = {"step": 0, "phase": 0, "phase_start": 0, "phase_converged": False,
                                      "elapsed": 0.0, "best_loss": math.inf, "status": "running"}
        self.resume_ckpt = None
        if t.resume:
            ckpt = io.load_checkpoint(self.ckpt_dir / "last.pt")
            missing = [k for k in CHECKPOINT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
            if missing:
                raise ConfigError(f"{self.ckpt_dir / 'last.pt'} is not a pinnrun checkpoint this version can "
                                  f"resume (it lacks {', '.join(missing)})")
            if ckpt["config_hash"] != self.hash:
                raise ConfigError(f"{self.ckpt_dir / 'last.pt'} was written with another config "
                                  "(equation, model, optimizer, weighting, sampler, seed or dtype differ)")
            self.resume_ckpt = ckpt

    # -- inverse problems ---------------------------------------------------------
    def observe(self, obs) -> Optional[tuple]:
        """(points, values): ``obs.count`` reference grid points with their outputs, plus noise."""
        if obs.count == 0:
            return None
        missing = [o for o in self.problem.outputs if o not in self.ref]
        if missing:
            raise ConfigError(f"equation.observations: no reference solution for output(s) {missing} "
                              f"of this equation and domain to draw observations from")
        rng = np.random.default_rng([self.cfg.seed, 104729])  # not the samplers' streams
        n = int(np.prod(self.grid_shape))
        if obs.count > n:
            raise ConfigError(f"equation.observations.count: {obs.count} is more than the {n} "
                              "reference grid points")
        idx = rng.choice(n, size=obs.count, replace=False)
        values = np.stack([self.ref[o].ravel()[idx] for o in self.problem.outputs], 1)
        values = values + obs.noise * values.std(0) * rng.standard_normal(values.shape)
        return self.eval_points[idx], torch.as_tensor(values, dtype=self.dtype, device=self.device)

    def held_out(self, n: int) -> Optional[tuple]:
        """(points, exact outputs) at ``n`` uniform random points of the domain, for test_loss."""
        if n == 0:
            return None
        if not self.problem.has_exact():
            raise ConfigError("equation.test_points: this equation has no exact solution to test against")
        rng = np.random.default_rng([self.cfg.seed, 15485863])  # not the samplers' or observations' streams
        lo, hi = np.array(self.problem.lower), np.array(self.problem.upper)
        pts = torch.as_tensor(lo + (hi - lo) * rng.random((n, len(lo))), dtype=torch.float64)
        values = self.problem.exact_net()(pts)
        return pts.to(self.device, self.dtype), values.to(self.device, self.dtype)

    @torch.no_grad()
    def test_loss(self) -> float:
        """Mean squared error of the outputs on the held-out points."""
        pts, values = self.test_set
        pred = torch.cat([self.model(x) for x in pts.split(EVAL_BATCH)])
        return float((pred - values).pow(2).mean())

    def make_unknowns(self, initial: Dict[str, float]) -> torch.nn.ParameterDict:
        """The problem's constants named in ``initial`` become trainable, starting from those values."""
        unknown = set(initial) - set(self.problem.p)
        if unknown:
            raise ConfigError(f"equation.unknowns: {sorted(unknown)} are not constants of this equation "
                              f"(it has: {', '.join(self.problem.p) or 'none'})")
        self.true_params = {k: float(self.problem.p[k]) for k in initial}
        params = torch.nn.ParameterDict({
            k: torch.nn.Parameter(torch.tensor(float(v), dtype=self.dtype, device=self.device))
            for k, v in initial.items()})
        self.problem.p.update(params.items())      # the residuals now read the trainable values
        return params

    # -- the loss --------------------------------------------------------------
    def net(self, points: torch.Tensor) -> Derivatives:
        return Derivatives(self.model, points, self.problem.variables, self.problem.outputs)

    def term_losses(self, step: int) -> Dict[str, torch.Tensor]:
        out = {}
        for name, pts in self.points.at(step).items():
            cond = self.conditions[name]
            res = cond.loss(pts, self.net)
            for comp in cond.terms:
                out[f"{name}_{comp}"] = res[comp].pow(2).mean()
        if self.observations is not None:
            pts, values = self.observations
            pred = self.model(pts)
            for i, o in enumerate(self.problem.outputs):
                out[f"data_{o}"] = (pred[:, i] - values[:, i]).pow(2).mean()
        if self.adaptive:
            out["slope_recovery"] = slope_recovery(self.model)
        return out

    def groups(self, step: int) -> List[Group]:
        """Each condition's residual function with its points (and the data terms'), for the NTK."""
        out = [Group(name, self.conditions[name].terms, pts, self.conditions[name].loss)
               for name, pts in self.points.at(step).items()]
        if self.observations is not None:  # residual pred - data: its parameter Jacobian is the output's
            out.append(Group("data", self.problem.outputs, self.observations[0],
                             lambda pts, net: {o: net(pts)[o] for o in self.problem.outputs}))
        return out

    def total(self, losses: Dict[str, torch.Tensor]) -> torch.Tensor:
        w = self.term_weights()
        return sum(w[k] * v for k, v in losses.items())

    def term_weights(self) -> Dict[str, float]:
        """The weights the current phase trains with: the scheme's, except that L-BFGS phases leave
        out the slope-recovery term. S(a) has no minimum and is nearly linear in the slopes: Adam's
        bounded steps raise them slowly (its purpose, Jagtap et al. 2020), but an L-BFGS line search
        follows it to runaway slopes while the PDE loss stalls (measured on nls_rogue: the slopes
        went from 1.6 to 5.4 in 300 iterations, the L2 error stayed at 0.27)."""
        w = self.weighting.weights
        if self.first_order_phase:
            return w
        return {k: (0.0 if k in REGULARIZERS else v) for k, v in w.items()}

    # -- evaluation ------------------------------------------------------------
    @torch.no_grad()
    def predict(self) -> Dict[str, np.ndarray]:
        chunks = [self.model(x) for x in self.eval_points.split(EVAL_BATCH)]
        out = torch.cat(chunks)
        named = {o: out[:, i] for i, o in enumerate(self.problem.outputs)}
        fields = self.problem.derived(named)
        return {f: fields[f].double().cpu().numpy().reshape(self.grid_shape) for f in self.problem.fields}

    def l2_errors(self, pred: Dict[str, np.ndarray]) -> Dict[str, float]:
        """Relative L2 over the whole reference grid: ||pred - ref||_2 / ||ref||_2."""
        return {f: float(np.linalg.norm(pred[f] - self.ref[f]) / np.linalg.norm(self.ref[f]))
                for f in self.fields}

    def evaluate(self) -> Dict[str, float]:
        return self.l2_errors(self.predict()) if self.fields else {}

    # -- checkpoints -------------------------------------------------------------
    def checkpoint(self, optimizer, scheduler, last_loss: float) -> None:
        improved = last_loss < self.state["best_loss"]
        if improved:
            self.state["best_loss"] = last_loss
        state = {
            "model": self.model.state_dict(),
            "unknowns": self.unknowns.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else {},
            "weighting": self.weighting.state_dict(),
            "sampler": {"round": self.points.round},
            "torch_rng": torch.get_rng_state(),
            "config_hash": self.hash,
            "pinnrun_version": pinnrun.__version__,
            **{k: self.state[k] for k in CHECKPOINTED},
        }
        io.save_checkpoint(self.ckpt_dir / "last.pt", state)
        if improved:
            io.save_checkpoint(self.ckpt_dir / "best.pt", state)

    def make_optimizer(self, phase: Phase):
        params = list(self.model.parameters()) + list(self.unknowns.parameters())
        c = phase.cfg
        if c.kind in FIRST_ORDER:
            return first_order(c, params)
        opt = torch.optim.LBFGS(params, lr=c.lr, max_iter=1, history_size=c.history_size,
                                tolerance_grad=c.tolerance_grad, tolerance_change=c.tolerance_change,
                                line_search_fn="strong_wolfe")
        return opt, None

    # -- the loop ----------------------------------------------------------------
    @property
    def lbfgs_updates(self) -> bool:
        return self.weighting.adaptive and self.cfg.weighting.lbfgs_updates

    def next_boundary(self, step: int, phase_end: int) -> int:
        t = self.cfg.trainer
        every = [t.log_every, t.eval_every, t.checkpoint_every] + [self.cfg.sampler.resample_every] * (
            self.cfg.sampler.resample_every > 0)  # L-BFGS chunks also end where the points change
        if self.lbfgs_updates:                    # ... and where the weights do
            every.append(self.cfg.weighting.update_every)
        nxt = [((step // e) + 1) * e for e in every]
        return min(min(nxt), phase_end)

    def run(self) -> Dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        resumed = self.resume_ckpt is not None
        write_config(self.run_dir, self.cfg, self.overrides)
        if resumed:
            ck = self.resume_ckpt
            self.model.load_state_dict(ck["model"])
            self.unknowns.load_state_dict(ck["unknowns"])
            self.weighting.load_state_dict(ck["weighting"])
            torch.set_rng_state(ck["torch_rng"])
            for k in CHECKPOINTED:
                self.state[k] = ck[k]
        self.weighting.attach(self.run_dir, self.state["step"] if resumed else None)
        self.log = io.MetricsLog(self.run_dir / "metrics.csv", self.columns,
                                 resume_step=self.state["step"] if resumed else None,
                                 tensorboard=self.cfg.logger is Logger.tensorboard)
        self.console.print(self.header(resumed), soft_wrap=True)
        self.t0 = time.perf_counter() - self.state["elapsed"]
        self.last: Dict[str, Any] = {"loss": math.nan, "l2": {}}
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with self.progress() as bar:
                self.bar = bar
                self.task = bar.add_task("train", total=self.total_steps, completed=self.state["step"],
                                         info="")
                self.train_phases()
            status = self.state["status"] if self.state["status"] != "running" else "completed"
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)
            self.log.close()
        return self.finish(status)

    def train_phases(self) -> None:
        for phase in self.phases:
            if phase.index < self.state["phase"]:
                continue
            opt, sched = self.make_optimizer(phase)
            self.first_order_phase = phase.cfg.kind in FIRST_ORDER
            ck = self.resume_ckpt
            if ck is not None and phase.index == ck["phase"]:
                opt.load_state_dict(ck["optimizer"])
                if sched is not None:
                    sched.load_state_dict(ck["scheduler"])
            else:
                self.state.update(phase=phase.index, phase_start=self.state["step"], phase_converged=False)
            if self.state["phase_converged"]:
                continue
            phase_end = self.state["phase_start"] + phase.steps
            while self.state["step"] < phase_end:
                target = self.next_boundary(self.state["step"], phase_end)
                if phase.cfg.kind in FIRST_ORDER:
                    loss, losses = self.adam_steps(opt, sched, target)
                else:
                    loss, losses, converged = self.lbfgs_steps(opt, target)
                    if converged:
                        phase_end = self.state["step"]
                        self.state["phase_converged"] = True
                if not math.isfinite(loss):
                    self.state["status"] = "diverged"
                    self.record(phase, opt, losses, loss, evaluate=True)
                    return
                at_end = self.state["step"] >= phase_end
                self.record(phase, opt, losses, loss, evaluate=at_end or self.state["step"] % self.cfg.trainer.eval_every == 0)
                if at_end or self.state["step"] % self.cfg.trainer.checkpoint_every == 0:
                    self.state["elapsed"] = time.perf_counter() - self.t0
                    self.checkpoint(opt, sched, loss)

    def adam_steps(self, opt, sched, target: int):
        while self.state["step"] < target:
            step = self.state["step"]
            self.weighting.update(step, self.term_source)
            losses = self.term_losses(step)
            loss = self.total(losses)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            self.state["step"] += 1
            if not torch.isfinite(loss):
                break
        return loss.item(), {k: v.item() for k, v in losses.items()}

    def lbfgs_steps(self, opt, target: int):
        """L-BFGS iterations up to step ``target`` on the points of the chunk's first step."""
        step0 = self.state["step"]
        group = opt.param_groups[0]
        first = group["params"][0]          # torch's L-BFGS keeps its state under the first parameter
        if self.lbfgs_updates and self.weighting.update(step0, self.term_source):
            opt.state[first].clear()        # a new objective: fresh history

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = self.total(self.term_losses(step0))
            loss.backward()
            return loss

        converged, fresh = False, False
        while self.state["step"] < target:
            n = target - self.state["step"]
            group["max_iter"], group["max_eval"] = n, 25 * n
            before = opt.state[first].get("n_iter", 0)
            start = opt.step(closure).item()
            done = opt.state[first].get("n_iter", 0) - before
            self.state["step"] += done
            if done == n:
                break
            # torch's L-BFGS stopped early: the gradient is below tolerance_grad (no
            # iteration at all), or an iteration changed the loss or the parameters by less
            # than tolerance_change. In float32 the latter is often a line search stuck on
            # a poor quasi-Newton direction: go on while calls lower the loss, and once
            # with a fresh history (a gradient step first) when one does not.
            now = self.total(self.term_losses(step0)).item()
            if now < start:
                fresh = False
            elif done > 0 and not fresh:
                opt.state[first].clear()
                fresh = True
            else:
                converged = True
                break
        # the loss at the parameters L-BFGS ends with (its last closure call may be a trial point)
        losses = self.term_losses(step0)
        return self.total(losses).item(), {k: v.item() for k, v in losses.items()}, converged

    def record(self, phase: Phase, opt, losses: Dict[str, float], loss: float, evaluate: bool) -> None:
        step = self.state["step"]
        l2 = self.evaluate() if evaluate and math.isfinite(loss) else {}
        self.last = {"loss": loss, "losses": losses, "l2": l2 or self.last.get("l2", {})}
        if step % self.cfg.trainer.log_every == 0 or evaluate:
            row = {"step": step, "phase": phase.name, "lr": opt.param_groups[0]["lr"], "loss": loss,
                   "time_s": time.perf_counter() - self.t0}
            row.update({f"loss/{k}": v for k, v in losses.items()})
            row.update({f"weight/{k}": v for k, v in self.term_weights().items()})
            row.update({f"param/{k}": v.item() for k, v in self.unknowns.items()})
            # effective slope n * a of each adaptive layer (mean over its neurons)
            row.update({f"slope/{i}": m.scale * m.slope.mean().item() for i, m in enumerate(self.adaptive)})
            row.update({f"l2/{k}": v for k, v in l2.items()})
            if evaluate and self.test_set is not None and math.isfinite(loss):
                row["test_loss"] = self.test_loss()
            self.log.write(row)
        info = f"{phase.name}  loss {loss:.3e}"
        if self.last["l2"]:
            f = self.problem.primary_field if self.problem.primary_field in self.last["l2"] else self.fields[0]
            info += f"  l2/{f} {self.last['l2'][f]:.3e}"
        self.bar.update(self.task, completed=step, info=info)
        if evaluate and not self.console.is_terminal:
            self.console.print(f"step {step}/{self.total_steps}  {info}")

    # -- end of run --------------------------------------------------------------
    def finish(self, status: str) -> Dict[str, Any]:
        wall = time.perf_counter() - self.t0
        final_l2 = {}
        if status != "diverged":
            pred = self.predict()
            final_l2 = self.l2_errors(pred)
            io.write_predictions(
                self.run_dir / "predictions.h5", self.problem.variables, self.grid, pred, self.ref,
                {"config": OmegaConf.to_yaml(OmegaConf.structured(self.cfg)), "steps": self.state["step"],
                 "pinnrun_version": pinnrun.__version__, **{f"l2/{k}": v for k, v in final_l2.items()}})
        final = {"loss": self.last.get("loss"), **{f"loss/{k}": v for k, v in self.last.get("losses", {}).items()},
                 **{f"l2/{k}": v for k, v in final_l2.items()},
                 **{f"param/{k}": v.item() for k, v in self.unknowns.items()},
                 **({"test_loss": self.test_loss()} if self.test_set is not None and status != "diverged" else {})}
        summary = run_summary(self, status, final, wall)
        if self.unknowns:
            # identified constants: value, the true value (equation.params), relative error
            summary["unknowns"] = {
                k: {"initial": float(self.cfg.equation.unknowns[k]), "true": self.true_params[k],
                    "found": v.item(), "rel_error": abs(v.item() - self.true_params[k]) / abs(self.true_params[k])
                    if self.true_params[k] else None}
                for k, v in self.unknowns.items()}
        write_summary(self.run_dir, summary, self.console, self.cfg.logger is Logger.tensorboard)
        self.console.print(self.summary_table(summary))
        return summary

    def header(self, resumed: bool) -> str:
        n = count_parameters(self.model)
        phases = " -> ".join(f"{p.name} {p.steps}" for p in self.phases if p.steps)
        verb = f"resuming at step {self.state['step']}" if resumed else "run"
        return (f"[bold]pinnrun[/bold] {verb}: equation={self.cfg.equation.name} model={self.cfg.model.name.value} "
                f"({n} parameters) phases: {phases}  device={self.device} dtype={self.cfg.trainer.dtype.value}\n"
                f"run directory: {self.run_dir}"
                + ("" if self.fields else "\nno reference solution for this domain: no L2 errors")
                + (f"\nunknowns: {', '.join(self.unknowns)}; "
                   f"{len(self.observations[0]) if self.observations else 'no'} observations" if self.unknowns else ""))

    def summary_table(self, s: Dict[str, Any]) -> Table:
        table = Table(title=f"pinnrun: {s['status']}", show_header=False)
        table.add_row("run directory", str(self.run_dir))
        table.add_row("steps", f"{s['steps']} / {s['planned_steps']}")
        table.add_row("wall time", f"{s['wall_time_s']:.1f} s on {s['device']}")
        for k, v in s["final"].items():
            if k in ("loss", "test_loss") or k.startswith("l2/"):
                table.add_row(k, f"{v:.3e}" if isinstance(v, float) else str(v))
        for k, u in s.get("unknowns", {}).items():
            err = f", error {u['rel_error']:.2%}" if u["rel_error"] is not None else ""
            table.add_row(f"param/{k}", f"{u['found']:.6g} (true {u['true']:.6g}{err})")
        if s.get("published", {}).get("l2") is not None:
            f = s["published"]["field"]
            table.add_row(f"published l2/{f}", f"{s['published']['l2']:.3e}")
        return table

    def progress(self) -> Progress:
        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                        console=self.console, disable=not self.cfg.trainer.progress, transient=False)


def run_summary(trainer, status: str, final: Dict[str, Any], wall: float) -> Dict[str, Any]:
    """summary.json's content, for either trainer."""
    cfg, device = trainer.cfg, trainer.device
    summary = {
        "status": status,
        "steps": trainer.state["step"],
        "planned_steps": trainer.total_steps,
        "final": final,
        "primary_field": trainer.problem.primary_field,
        "wall_time_s": round(wall, 3),
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "dtype": cfg.trainer.dtype.value,
        "threads": torch.get_num_threads(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": count_parameters(trainer.model),
        "equation": cfg.equation.name,
        "model": cfg.model.name.value,
        "config_hash": trainer.hash,
        "pinnrun_version": pinnrun.__version__,
    }
    if cfg.published is not None:
        pub = cfg.published
        summary["published"] = {"source": pub.source, "field": pub.field, "l2": pub.l2, "claim": pub.claim}
    return summary


def write_summary(run_dir: Path, summary: Dict[str, Any], console: Console, tensorboard: bool = False) -> None:
    """summary.json, then the figures (a figure must never cost the run's results)."""
    io.write_json(run_dir / "summary.json", summary)
    try:
        from pinnrun import plots
        plots.plot_run(run_dir)
        if tensorboard:
            io.tensorboard_plots(run_dir, summary["steps"])
    except Exception as e:
        console.print(f"[yellow]plots skipped: {type(e).__name__}: {e}[/yellow]")


def write_config(run_dir: Path, cfg: RunConfig, overrides: List[str]) -> None:
    """config.yaml and overrides.yaml of the latest start: a resumed run (same hash, perhaps
    another max_steps) ends where a fresh run of this config and these overrides would."""
    io.write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    fresh = [o for o in overrides if not o.lstrip("+~").startswith("trainer.resume=")]
    io.write_text(run_dir / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(fresh)))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def make_trainer(cfg: RunConfig, run_dir: Path, overrides: Optional[List[str]] = None):
    """The trainer for ``cfg.equation``: a PINN :class:`Trainer`, or the
    :class:`~pinnrun.inversion.InversionTrainer` of a learned inverse problem."""
    problem = problems.build(cfg.equation)
    if isinstance(problem, problems.Inversion):
        from pinnrun.inversion import InversionTrainer
        return InversionTrainer(cfg, run_dir, problem, overrides=overrides)
    return Trainer(cfg, run_dir, overrides=overrides, problem=problem)


__all__ = ["Trainer", "config_hash", "first_order", "make_trainer", "plan_phases"]
