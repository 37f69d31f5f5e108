"""Training a network to solve an inverse problem through a simulator: f(y*) = x with
P(x) = y* (Holl, Koltun & Thuerey, "Scale-invariant learning by physics inversion",
NeurIPS 2022). The trainer for the problems of :class:`pinnrun.problems.Inversion`.

Each step draws a batch of targets y* (fresh, or from the problem's data set), predicts
x = f(y*), simulates y = P(x) and, by the phase's kind:

* ``gd`` / ``adam``: descends L_y = mean 1/2 |P(f(y*)) - y*|^2 through the differentiable
  simulator (the paper's baselines);
* ``sip``: takes the Newton step in y-space, y_target = y + eta (y* - y), maps it back
  with the problem's local inverse, x_tilde = P^-1(y_target; x), and descends the proxy
  loss L_x = mean 1/2 |x - stopgrad(x_tilde)|^2 with Adam.

The run directory is the PINN runs' one: metrics.csv (loss, loss/y, loss/proxy, l2/x and
l2/y on held-out samples), predictions.h5 (x and P(x) against x* and y* per held-out
sample), checkpoints (resumable, the same steps and numbers), plots, summary.json.
"""
from __future__ import annotations

import math
import signal
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from omegaconf import OmegaConf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import pinnrun
from pinnrun import io
from pinnrun.config import ConfigError, Logger, PhaseKind, RunConfig
from pinnrun.models import build_model, count_parameters
from pinnrun.problems import Inversion
from pinnrun.training import (config_hash, first_order, pick_device, plan_phases, run_summary, write_config,
                              write_summary)

POINTS = ("batch", "data")   # targets per step; size of a fixed data set (0: fresh targets every step)
CHECKPOINTED = ("step", "phase", "phase_start", "elapsed", "best_loss")


def seed_of(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def proxy_loss(x: torch.Tensor, x_tilde: torch.Tensor) -> torch.Tensor:
    """L_x = mean over the batch of 1/2 |x - x_tilde|^2, x_tilde held constant."""
    return 0.5 * (x - x_tilde.detach()).pow(2).sum(-1).mean()


def y_loss(y: torch.Tensor, y_star: torch.Tensor) -> torch.Tensor:
    """L_y = mean over the batch of 1/2 |y - y*|^2."""
    return 0.5 * (y - y_star).pow(2).sum(-1).mean()


class InversionTrainer:
    def __init__(self, cfg: RunConfig, run_dir: Path, problem: Inversion, console: Optional[Console] = None,
                 overrides: Optional[List[str]] = None) -> None:
        """Builds everything and checks it; writes nothing until :meth:`run`."""
        self.cfg, self.run_dir, self.problem = cfg, Path(run_dir), problem
        self.console = console or Console(stderr=True)
        self.overrides = overrides or []
        t, eq = cfg.trainer, cfg.equation
        io.check_run_dir(self.run_dir, t.resume)
        self.device = pick_device(t.device)
        self.dtype = getattr(torch, t.dtype.value)
        for i, ph in enumerate(cfg.optimizer.phases):
            if ph.kind is PhaseKind.lbfgs:
                raise ConfigError(f"optimizer.phases.{i}.kind=lbfgs: the learned inverse problem "
                                  f"{cfg.equation.name} trains on a new batch every step; choose optimizer=sip, "
                                  "adam or gd")
        unknown = set(eq.points) - set(POINTS)
        if unknown:
            raise ConfigError(f"equation.points: unknown {sorted(unknown)} for {eq.name} (it takes: "
                              f"{', '.join(POINTS)})")
        self.batch_size, self.data_size = int(eq.points.get("batch", 0)), int(eq.points.get("data", 0))
        if self.batch_size < 1:
            raise ConfigError(f"equation.points.batch must be >= 1, got {self.batch_size}")
        if eq.test_points < 1:
            raise ConfigError("equation.test_points must be >= 1: the held-out samples the errors are measured on")
        if eq.unknowns or eq.observations.count:
            raise ConfigError(f"equation.unknowns/observations are for PINN inverse problems, not {eq.name}")

        torch.manual_seed(cfg.seed)
        lower, upper = problem.input_bounds()
        self.model = build_model(cfg.model, lower, upper, problem.x_dim).to(self.device, self.dtype)
        # the data set and the held-out samples: their own streams, fixed by the seed
        self.data = self.draw(self.data_size, seed_of(cfg.seed, 1)) if self.data_size else None
        self.test = self.draw(eq.test_points, seed_of(cfg.seed, 2))
        self.phases = plan_phases(cfg.optimizer.phases, t.max_steps)
        self.total_steps = sum(p.steps for p in self.phases)
        self.hash = config_hash(cfg)
        sip = any(p.cfg.kind is PhaseKind.sip for p in self.phases)
        self.columns = (["step", "phase", "lr", "loss", "loss/y"] + ["loss/proxy"] * sip
                        + ["l2/x", "l2/y", "time_s"])
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.state: Dict[str, Any] = {"step": 0, "phase": 0, "phase_start": 0, "elapsed": 0.0,
                                      "best_loss": math.inf, "status": "running"}
        self.resume_ckpt = None
        if t.resume:
            ckpt = io.load_checkpoint(self.ckpt_dir / "last.pt")
            missing = [k for k in ("model", "optimizer", "scheduler", "config_hash", *CHECKPOINTED)
                       if not isinstance(ckpt, dict) or k not in ckpt]
            if missing:
                raise ConfigError(f"{self.ckpt_dir / 'last.pt'} is not a pinnrun checkpoint this version can "
                                  f"resume (it lacks {', '.join(missing)})")
            if ckpt["config_hash"] != self.hash:
                raise ConfigError(f"{self.ckpt_dir / 'last.pt'} was written with another config")
            self.resume_ckpt = ckpt

    # -- data ----------------------------------------------------------------------
    def draw(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        y_star, x_star = self.problem.draw(n, torch.Generator().manual_seed(seed))
        return y_star.to(self.device, self.dtype), x_star.to(self.device, self.dtype)

    def batch(self, step: int) -> torch.Tensor:
        """The targets y* of a step: a pure function of (seed, step), so a resumed run sees the same."""
        if self.data is None:
            return self.draw(self.batch_size, seed_of(self.cfg.seed, 3, step))[0]
        g = torch.Generator().manual_seed(seed_of(self.cfg.seed, 4, step))
        idx = torch.randint(self.data_size, (self.batch_size,), generator=g).to(self.device)
        return self.data[0][idx]

    # -- one step's losses ---------------------------------------------------------
    def losses(self, step: int, kind: PhaseKind, eta: float) -> tuple[torch.Tensor, Dict[str, float]]:
        """(the objective of this kind of phase, the logged losses)."""
        y_star = self.batch(step)
        x = self.model(y_star)
        if kind is PhaseKind.sip:
            with torch.no_grad():
                y = self.problem.simulate(x)
                x_tilde = self.problem.local_inverse(x, y, y + eta * (y_star - y))
                ly = y_loss(y, y_star)
            loss = proxy_loss(x, x_tilde)
            return loss, {"y": ly.item(), "proxy": loss.item()}
        loss = y_loss(self.problem.simulate(x), y_star)
        return loss, {"y": loss.item()}

    @torch.no_grad()
    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.model(self.test[0])
        return x, self.problem.simulate(x)

    def evaluate(self) -> Dict[str, float]:
        """Relative L2 errors on the held-out samples: ||x - x*|| / ||x*||, ||P(x) - y*|| / ||y*||."""
        x, y = self.predict()
        y_star, x_star = self.test
        return {"x": float((x - x_star).norm() / x_star.norm()), "y": float((y - y_star).norm() / y_star.norm())}

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        resumed = self.resume_ckpt is not None
        write_config(self.run_dir, self.cfg, self.overrides)
        if resumed:
            self.model.load_state_dict(self.resume_ckpt["model"])
            for k in CHECKPOINTED:
                self.state[k] = self.resume_ckpt[k]
        self.log = io.MetricsLog(self.run_dir / "metrics.csv", self.columns,
                                 resume_step=self.state["step"] if resumed else None,
                                 tensorboard=self.cfg.logger is Logger.tensorboard)
        n = count_parameters(self.model)
        phases = " -> ".join(f"{p.name} {p.steps}" for p in self.phases if p.steps)
        verb = f"resuming at step {self.state['step']}" if resumed else "run"
        self.console.print(f"[bold]pinnrun[/bold] {verb}: equation={self.cfg.equation.name} "
                           f"model={self.cfg.model.name.value} ({n} parameters) phases: {phases}  "
                           f"device={self.device} dtype={self.cfg.trainer.dtype.value}\n"
                           f"run directory: {self.run_dir}", soft_wrap=True)
        self.t0 = time.perf_counter() - self.state["elapsed"]
        self.last: Dict[str, Any] = {"loss": math.nan, "losses": {}}
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=self.console,
                          disable=not self.cfg.trainer.progress) as bar:
                task = bar.add_task("train", total=self.total_steps, completed=self.state["step"], info="")
                self.train(lambda info: bar.update(task, completed=self.state["step"], info=info))
            status = self.state["status"] if self.state["status"] != "running" else "completed"
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.log.close()
        return self.finish(status)

    def train(self, show) -> None:
        t = self.cfg.trainer
        for phase in self.phases:
            if phase.index < self.state["phase"]:
                continue
            opt, sched = first_order(phase.cfg, list(self.model.parameters()))
            ck = self.resume_ckpt
            if ck is not None and phase.index == ck["phase"]:
                opt.load_state_dict(ck["optimizer"])
                sched.load_state_dict(ck["scheduler"])
            else:
                self.state.update(phase=phase.index, phase_start=self.state["step"])
            end = self.state["phase_start"] + phase.steps
            while self.state["step"] < end:
                loss, losses = self.losses(self.state["step"], phase.cfg.kind, phase.cfg.eta)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                self.state["step"] += 1
                step, value = self.state["step"], loss.item()
                self.last = {"loss": value, "losses": losses}
                if not math.isfinite(value):
                    self.state["status"] = "diverged"
                    self.log.write({"step": step, "phase": phase.name, "lr": opt.param_groups[0]["lr"],
                                    "loss": value, "time_s": time.perf_counter() - self.t0})
                    return
                evaluate = step % t.eval_every == 0 or step == end
                if step % t.log_every == 0 or evaluate:
                    row = {"step": step, "phase": phase.name, "lr": opt.param_groups[0]["lr"], "loss": value,
                           "time_s": time.perf_counter() - self.t0, **{f"loss/{k}": v for k, v in losses.items()}}
                    if evaluate:
                        row.update({f"l2/{k}": v for k, v in self.evaluate().items()})
                        if not self.console.is_terminal:
                            self.console.print(f"step {step}/{self.total_steps}  {phase.name}  loss {value:.3e}  "
                                               f"l2/x {row['l2/x']:.3e}  l2/y {row['l2/y']:.3e}")
                    self.log.write(row)
                    show(f"{phase.name}  loss {value:.3e}")
                if step % t.checkpoint_every == 0 or step == end:
                    self.checkpoint(opt, sched, value)

    def checkpoint(self, opt, sched, loss: float) -> None:
        self.state["elapsed"] = time.perf_counter() - self.t0
        improved = loss < self.state["best_loss"]
        if improved:
            self.state["best_loss"] = loss
        state = {"model": self.model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                 "config_hash": self.hash, "pinnrun_version": pinnrun.__version__,
                 **{k: self.state[k] for k in CHECKPOINTED}}
        io.save_checkpoint(self.ckpt_dir / "last.pt", state)
        if improved:
            io.save_checkpoint(self.ckpt_dir / "best.pt", state)

    # -- end of run ------------------------------------------------------------------------
    def finish(self, status: str) -> Dict[str, Any]:
        wall = time.perf_counter() - self.t0
        l2 = {}
        if status != "diverged":
            l2 = self.evaluate()
            x, y = self.predict()
            y_star, x_star = self.test
            axes = self.problem.axes(len(x_star))
            as_np = lambda v: v.double().cpu().numpy()  # noqa: E731
            io.write_predictions(
                self.run_dir / "predictions.h5", list(axes), axes, {"x": as_np(x), "y": as_np(y)},
                {"x": as_np(x_star), "y": as_np(y_star)},
                {"config": OmegaConf.to_yaml(OmegaConf.structured(self.cfg)), "steps": self.state["step"],
                 "pinnrun_version": pinnrun.__version__, **{f"l2/{k}": v for k, v in l2.items()}})
        final = {"loss": self.last["loss"], **{f"loss/{k}": v for k, v in self.last["losses"].items()},
                 **{f"l2/{k}": v for k, v in l2.items()}}
        summary = run_summary(self, status, final, wall)
        write_summary(self.run_dir, summary, self.console, self.cfg.logger is Logger.tensorboard)
        table = Table(title=f"pinnrun: {status}", show_header=False)
        table.add_row("run directory", str(self.run_dir))
        table.add_row("steps", f"{summary['steps']} / {summary['planned_steps']}")
        table.add_row("wall time", f"{wall:.1f} s on {self.device}")
        for k, v in summary["final"].items():
            table.add_row(k, f"{v:.3e}")
        self.console.print(table)
        return summary


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


__all__ = ["InversionTrainer", "proxy_loss", "y_loss"]
