"""Training a network to solve an inverse problem through a simulator: f(y*) = x with
P(x) = y* (Holl, Koltun & Thuerey, "Scale-invariant learning by physics inversion",
NeurIPS 2022). The task of the problems of :class:`pinnrun.sip.Inversion`.

Each step draws a batch of targets y* (fresh, or from the problem's data set), predicts
x = f(y*), simulates y = P(x) and, by the phase's kind:

* ``gd`` / ``adam``: descends L_y = mean 1/2 |P(f(y*)) - y*|^2 through the differentiable
  simulator (the paper's baselines);
* ``sip``: takes the Newton step in y-space, y_target = y + eta (y* - y), maps it back
  with the problem's local inverse, x_tilde = P^-1(y_target; x), and descends the proxy
  loss L_x = mean 1/2 |x - stopgrad(x_tilde)|^2 (the problem's ``proxy`` "l2") or
  mean |x - stopgrad(x_tilde)|_1 ("l1": the authors' synthetic example) with Adam.

The run directory is the PINN runs' one: metrics.csv (loss, loss/y, loss/proxy; on held-out
samples l2/x, dist/x and l2/y), predictions.h5 (x and P(x) against the reference x and y* per
held-out sample), checkpoints (resumable, the same steps and numbers), plots, summary.json.
The reference x of a held-out sample is the problem's ``reference``: the drawn x*, or for a
many-to-one P (sip_synthetic) the solution nearest the prediction.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import torch

from pinnrun.config import Adaptive, ConfigError, PhaseKind, RunConfig, SamplerConfig, WeightingConfig, config_hash
from pinnrun.distributed import SINGLE
from pinnrun.models import build_model, count_parameters
from pinnrun.optim import Phase, make_optimizer, plan_phases
from pinnrun.runner import Chunk, Results, pick_device, set_threads
from pinnrun.sip import Inversion

POINTS = ("batch", "data")  # targets per step; size of a fixed data set (0: fresh targets every step)


def seed_of(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def proxy_loss(x: torch.Tensor, x_tilde: torch.Tensor, norm: str = "l2") -> torch.Tensor:
    """L_x = mean over the batch of 1/2 |x - x_tilde|^2 (l2) or of |x - x_tilde|_1 (l1: the
    authors' ``math.l1_loss(...)``, then ``loss.mean``, train_sin.py:112, 121), x_tilde held constant."""
    d = x - x_tilde.detach()
    return (d.abs().sum(-1) if norm == "l1" else 0.5 * d.pow(2).sum(-1)).mean()


def y_loss(y: torch.Tensor, y_star: torch.Tensor) -> torch.Tensor:
    """L_y = mean over the batch of 1/2 |y - y*|^2."""
    return 0.5 * (y - y_star).pow(2).sum(-1).mean()


def reject_pinn_settings(cfg: RunConfig) -> None:
    """One line for the first setting a learned inverse problem would ignore."""
    name, eq = cfg.equation.name, cfg.equation
    for i, ph in enumerate(cfg.optimizer.phases):
        if ph.kind is PhaseKind.lbfgs:
            raise ConfigError(
                f"optimizer.phases.{i}.kind=lbfgs: the learned inverse problem {name} trains on "
                "a new batch every step; choose optimizer=sip, adam or gd"
            )
    unknown = set(eq.points) - set(POINTS)
    if unknown:
        raise ConfigError(f"equation.points: unknown {sorted(unknown)} for {name} (it takes: {', '.join(POINTS)})")
    if eq.unknowns or eq.observations.count:
        raise ConfigError(f"equation.unknowns/observations are for PINN inverse problems, not {name}")
    if cfg.model.hard_constraints:
        raise ConfigError(
            f"model.hard_constraints=true: output transforms that satisfy an equation's conditions are for "
            f"PINNs, not the learned inverse problem {name} (use model.hard_constraints=false)"
        )
    if cfg.model.adaptive is not Adaptive.none:
        raise ConfigError(
            f"model.adaptive={cfg.model.adaptive.value}: adaptive activations and their slope-recovery "
            f"term are for PINNs, not the learned inverse problem {name} (use model.adaptive=none)"
        )
    for group, default in (("weighting", WeightingConfig()), ("sampler", SamplerConfig())):
        given = getattr(cfg, group)
        for f in fields(default):
            value = getattr(given, f.name)
            if value != getattr(default, f.name):
                shown = value.value if hasattr(value, "value") else value
                raise ConfigError(
                    f"{group}.{f.name}={shown}: the learned inverse problem {name} has one loss "
                    f"on fresh targets; {group} settings are for PINN loss terms and collocation "
                    f"points (leave {group} at its default)"
                )


class SipTask:
    """A learned inverse problem (:class:`~pinnrun.sip.Inversion`) as a task of the runner."""

    checkpoint_keys = ("model", "optimizer", "scheduler")
    ranks = SINGLE  # one process (pinnrun.tasks refuses a distributed start)

    def __init__(self, cfg: RunConfig, problem: Inversion) -> None:
        reject_pinn_settings(cfg)
        self.cfg, self.problem, eq = cfg, problem, cfg.equation
        self.batch_size, self.data_size = int(eq.points.get("batch", 0)), int(eq.points.get("data", 0))
        if self.batch_size < 1:
            raise ConfigError(f"equation.points.batch must be >= 1, got {self.batch_size}")
        if eq.test_points < 1:
            raise ConfigError("equation.test_points must be >= 1: the held-out samples the errors are measured on")
        self.device = pick_device(cfg.trainer.device, cfg.trainer.tf32)
        self.threads = set_threads(cfg.trainer.threads, self.device)
        self.dtype = getattr(torch, cfg.trainer.dtype.value)
        torch.manual_seed(cfg.seed)
        lower, upper = problem.input_bounds()
        self.model = build_model(cfg.model, lower, upper, problem.x_dim).to(self.device, self.dtype)
        # the data set and the held-out samples: their own streams, fixed by the seed
        self.data = self.draw(self.data_size, seed_of(cfg.seed, 1)) if self.data_size else None
        self.test = self.draw(eq.test_points, seed_of(cfg.seed, 2))
        self.phases = plan_phases(cfg.optimizer.phases, cfg.trainer.max_steps)
        self.config_hash = config_hash(cfg, ("equation", "model", "optimizer"), self.threads)
        self.primary_field = problem.primary_field
        self.n_parameters = count_parameters(self.model)
        sip = any(p.kind is PhaseKind.sip for p in self.phases)
        self.columns = ["step", "phase", "lr", "loss", "loss/y"] + ["loss/proxy"] * sip
        self.columns += ["l2/x", "dist/x", "l2/y", "time_s"]
        self.opt: torch.optim.Optimizer | None = None
        self.sched = None

    # -- data ----------------------------------------------------------------------------
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

    def losses(self, step: int, kind: PhaseKind, eta: float) -> tuple[torch.Tensor, dict[str, float]]:
        """(the objective of this kind of phase, the logged losses)."""
        y_star = self.batch(step)
        x = self.model(y_star)
        if kind is PhaseKind.sip:
            with torch.no_grad():
                y = self.problem.simulate(x)
                x_tilde = self.problem.local_inverse(x, y, y + eta * (y_star - y))
                ly = y_loss(y, y_star)
            loss = proxy_loss(x, x_tilde, self.problem.proxy)
            return loss, {"y": ly.item(), "proxy": loss.item()}
        loss = y_loss(self.problem.simulate(x), y_star)
        return loss, {"y": loss.item()}

    @torch.no_grad()
    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.model(self.test[0])
        return x, self.problem.simulate(x)

    def reference(self, x: torch.Tensor) -> torch.Tensor:
        """The x each held-out prediction is measured against (x*, or the nearest solution)."""
        return self.problem.reference(x, *self.test)

    def errors(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """On the held-out samples, with x_ref = the problem's reference: relative L2
        ||x - x_ref|| / ||x_ref||, the mean distance mean_i |x_i - x_ref_i| (the authors' x_dist,
        train_sin.py:119), and ||P(x) - y*|| / ||y*||."""
        y_star, x_ref = self.test[0], self.reference(x)
        d = x - x_ref
        return {
            "l2/x": float(d.norm() / x_ref.norm()),
            "dist/x": float(d.norm(dim=-1).mean()),
            "l2/y": float((y - y_star).norm() / y_star.norm()),
        }

    # -- for the runner ------------------------------------------------------------------
    def describe(self) -> str:
        return f"equation={self.cfg.equation.name} model={self.cfg.model.name.value} ({self.n_parameters} parameters)"

    engine = "eager"

    def notes(self) -> list[str]:
        # trainer.compile compiles the PINN step (loss terms, input derivatives); this step is a
        # few small products, eager
        return ["trainer.compile: the learned inverse problem trains with the eager step"] * self.cfg.trainer.compile

    def chunk_every(self, phase: Phase) -> list[int]:
        return []

    def start_phase(self, phase: Phase, saved: dict[str, Any] | None) -> None:
        self.opt, self.sched = make_optimizer(phase, list(self.model.parameters()))
        if saved is not None:
            self.opt.load_state_dict(saved["optimizer"])
            self.sched.load_state_dict(saved["scheduler"])

    def advance(self, phase: Phase, step: int, target: int) -> Chunk:
        while step < target:
            loss, losses = self.losses(step, phase.kind, phase.cfg.eta)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            step += 1
            if not torch.isfinite(loss):
                break
        return Chunk(step, loss.item(), losses)

    def log_values(self, phase: Phase) -> dict[str, float]:
        return {"lr": self.opt.param_groups[0]["lr"]}

    def evaluate(self) -> dict[str, float]:
        return self.errors(*self.predict())

    def diagnostics(self) -> list[tuple[int, dict[str, Any]]]:
        return []

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])

    def results(self, diverged: bool) -> Results:
        if diverged:
            return Results(None, {})
        x, y = self.predict()
        y_star, x_ref = self.test[0], self.reference(x)
        axes = self.problem.axes(len(x_ref))
        as_np = lambda v: v.double().cpu().numpy()  # noqa: E731
        payload = (list(axes), axes, {"x": as_np(x), "y": as_np(y)}, {"x": as_np(x_ref), "y": as_np(y_star)})
        return Results(payload, self.errors(x, y))


__all__ = ["SipTask", "proxy_loss", "reject_pinn_settings", "y_loss"]
