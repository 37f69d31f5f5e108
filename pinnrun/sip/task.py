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

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pinnrun.config import ConfigError, PhaseKind, RunConfig, config_hash, unused_setting
from pinnrun.device import place
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.io import Predictions
from pinnrun.models import build_model, count_parameters
from pinnrun.optim import Phase, make_optimizer, plan_phases
from pinnrun.runner import Chunk, Results
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


def reject_pinn_settings(cfg: RunConfig, settings: Sequence[str]) -> None:
    """One line for the first setting a learned inverse problem cannot take: a value it cannot
    train with, or a setting it does not read (not in ``settings``) changed from the schema's default."""
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
    found = unused_setting(cfg, tuple(settings))
    if found is not None:
        key, value = found
        group = key.partition(".")[0]
        reads = [s.partition(".")[2] for s in settings if s.startswith(f"{group}.")]
        uses = f"of {group} it reads {', '.join(reads)}" if reads else f"it reads no {group} settings"
        raise ConfigError(
            f"{key}={as_written(value)}: the learned inverse problem {name} does not use this setting ({uses}); "
            "leave it at its default"
        )


def as_written(value: Any) -> str:
    """A setting's value as an override writes it: true, [x, y], {y: 2.0}, an Enum's value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return f"[{', '.join(map(as_written, value))}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {as_written(v)}" for k, v in value.items()) + "}"
    return str(getattr(value, "value", value))


class SipPredictor:
    """A learned inverse problem's predictor (:class:`pinnrun.solution.Predictor`): observations
    y* (n, y_dim) in, x = f(y*) and y = P(x) out; no domain to check, no input derivatives, no PDE
    residual. Exported, it maps y* to the columns x0.., y0.."""

    def __init__(self, problem: Inversion, model: torch.nn.Module, name: str) -> None:
        self.problem, self.model, self.name = problem, model, name
        self.variables = tuple(f"ystar{i}" for i in range(problem.y_dim))
        self.fields = tuple(problem.fields)
        self.columns = (*(f"x{i}" for i in range(problem.x_dim)), *(f"y{i}" for i in range(problem.y_dim)))
        self.domain: dict[str, tuple[float, float]] = {}

    def points(self, points: Any, allow_outside: bool) -> tuple[torch.Tensor, tuple[int, ...]]:
        try:
            y = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("points: not an array of numbers") from None
        dim = self.problem.y_dim
        if y.ndim != 2 or y.shape[1] != dim:
            raise ConfigError(f"points: expected observations y* as an (n, {dim}) array, got shape {y.shape}")
        if not np.isfinite(y).all():
            raise ConfigError(f"points: row {int(np.argwhere(~np.isfinite(y))[0][0])} is not finite")
        p = next(self.model.parameters())
        return torch.as_tensor(y, dtype=p.dtype, device=p.device), (len(y),)

    def check(self, fields: Sequence[str] | None, derivatives: Sequence[str]) -> list[str]:
        if derivatives:
            raise ConfigError("derivatives: a learned inverse problem's network has no PDE inputs to differentiate")
        fields = list(self.fields) if fields is None else list(fields)
        bad = [f for f in fields if f not in self.fields]
        if bad:
            raise ConfigError(f"unknown field '{bad[0]}' (fields: {', '.join(self.fields)})")
        return fields

    def predict(
        self, x: torch.Tensor, fields: Sequence[str], derivatives: Sequence[str], batch_size: int
    ) -> dict[str, torch.Tensor]:
        xs, ys = [], []
        with torch.no_grad():
            for batch in x.split(batch_size):
                xs.append(self.model(batch))
                ys.append(self.problem.simulate(xs[-1]))
        named = {"x": torch.cat(xs), "y": torch.cat(ys)}
        return {f: named[f] for f in fields}

    def residual(self, x: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
        raise ConfigError(f"equation {self.name} is a learned inverse problem: it has no PDE residual")

    def module(self) -> torch.nn.Module:
        return Inverse(self.model, self.problem)

    def example(self) -> torch.Tensor:
        p = next(self.model.parameters())
        y, _ = self.problem.draw(7, torch.Generator().manual_seed(0))
        return y.to(p.device, p.dtype)


class Inverse(torch.nn.Module):
    """y* (n, y_dim) -> (x, P(x)) (n, x_dim + y_dim): the network, then the simulator."""

    def __init__(self, net: torch.nn.Module, problem: Inversion) -> None:
        super().__init__()
        self.net, self.problem = net, problem

    def forward(self, y_star: torch.Tensor) -> torch.Tensor:
        x = self.net(y_star)
        return torch.cat([x, self.problem.simulate(x)], 1)


class SipTask:
    """A learned inverse problem (:class:`~pinnrun.sip.Inversion`) as a task of the runner."""

    checkpoint_keys = ("model", "optimizer", "scheduler")
    ranks = SINGLE  # one process (pinnrun.tasks refuses a distributed start)
    #: the settings a learned inverse problem reads; it refuses any other changed from the schema's
    #: default (:func:`reject_pinn_settings`): the PINN's unknowns, observations, faces, loss
    #: weighting and collocation sampler, the network's output transform, adaptive slopes,
    #: periodic embeddings and PirateNet start, and CUDA graphs (its step is not compiled)
    settings = (
        "equation.name", "equation.domain", "equation.params", "equation.points", "equation.test_points",
        "model.name", "model.width", "model.depth", "model.widths", "model.activation", "model.init",
        "model.inputs", "model.structure", "model.scale_kind", "model.n_scales", "model.scales",
        "model.fourier_features", "model.fourier_scale", "model.factorize", "model.factorize_mean",
        "model.factorize_std", "model.alpha",
        "optimizer",
        "trainer.device", "trainer.dtype", "trainer.max_steps", "trainer.log_every", "trainer.eval_every",
        "trainer.checkpoint_every", "trainer.resume", "trainer.progress", "trainer.plots", "trainer.compile",
        "trainer.tf32", "trainer.threads",
        "seed", "logger", "published",
    )  # fmt: skip

    def __init__(self, cfg: RunConfig, problem: Inversion) -> None:
        reject_pinn_settings(cfg, self.settings)
        self.cfg, self.problem, eq = cfg, problem, cfg.equation
        self.batch_size, self.data_size = int(eq.points.get("batch", 0)), int(eq.points.get("data", 0))
        if self.batch_size < 1:
            raise ConfigError(f"equation.points.batch must be >= 1, got {self.batch_size}")
        if eq.test_points < 1:
            raise ConfigError("equation.test_points must be >= 1: the held-out samples the errors are measured on")
        placement = place(cfg.trainer)
        self.device, self.dtype, self.threads = placement.device, placement.dtype, placement.threads
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

    def predictor(self) -> SipPredictor:
        """The trained network, for pinnrun.api, pinnrun-predict and pinnrun-export."""
        return SipPredictor(self.problem, self.model, self.cfg.equation.name)

    def results(self, diverged: bool, ranks: Ranks = SINGLE) -> Results:  # one process: ranks unused
        if diverged:
            return Results(None, {})
        x, y = self.predict()
        y_star, x_ref = self.test[0], self.reference(x)
        axes = self.problem.axes(len(x_ref))
        as_np = lambda v: v.double().cpu().numpy()  # noqa: E731
        payload = Predictions(list(axes), axes, {"x": as_np(x), "y": as_np(y)}, {"x": as_np(x_ref), "y": as_np(y_star)})
        return Results(payload, self.errors(x, y))


__all__ = ["Inverse", "SipPredictor", "SipTask", "proxy_loss", "reject_pinn_settings", "y_loss"]
