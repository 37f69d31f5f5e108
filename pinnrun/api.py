"""pinnrun from Python: train a run, load one back, evaluate its solution anywhere.

    import pinnrun
    run = pinnrun.run(["equation=burgers", "trainer.max_steps=2000"])   # as `pinnrun ...` does
    run = pinnrun.load("outputs/2026-12-01/10-00-00-000000")             # a finished (or running) run
    run.predict({"t": 0.5, "x": np.linspace(-1, 1, 401)})                  # every field, on a probe line
    run.predict(points, derivatives=["u_x", "u_xx"])                       # input derivatives too
    run.residual(points)                                                   # the PDE residuals there

:func:`run` composes the config exactly as the command line does (the same groups, defaults,
validation and messages; a bad override raises :class:`~pinnrun.config.ConfigError` with the
line the command line would print) and trains in this process. :func:`load` rebuilds the
network of a run directory from its config.yaml and a checkpoint (``torch.load`` with
``weights_only=True``), on the CPU unless told otherwise. Predictions and derivatives go
through the same network and derivative engine (:class:`~pinnrun.derivatives.Derivatives`)
as training, so ``run.residual`` is the residual the loss saw, with learned unknowns as
learned. Importing this module changes nothing: no threads, seeds or devices are set until a
run is trained, and :func:`load` restores the global random state it borrows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf, open_dict, read_write

from pinnrun import io
from pinnrun.config import ConfigError, Device, RunConfig, describe_error, register, validate
from pinnrun.console import make_console
from pinnrun.evaluation import EVAL_BATCH
from pinnrun.solution import Points, Predictor, check_points, point_columns
from pinnrun.tasks import Task, build_runner, build_task


def run(
    overrides: Sequence[str] = (), run_dir: str | Path | None = None, quiet: bool = False, checkpoint: str = "last"
) -> Run:
    """Train ``pinnrun <overrides>`` in this process and return the loaded run (:func:`load`).

    ``run_dir``: where the run directory goes (default: the command line's
    ``outputs/<date>/<time>``, or ``hydra.run.dir=`` among the overrides). An existing run
    directory is refused as on the command line, unless ``trainer.resume=true``. Bad input raises
    :class:`~pinnrun.config.ConfigError` before anything is written. A diverged run is returned
    too (``run.status == "diverged"``), loaded from its last good checkpoint."""
    overrides = [str(o) for o in overrides]
    cfg, default_dir = compose(overrides)
    target = Path(run_dir) if run_dir is not None else Path(default_dir)
    io.check_dir(target, "run directory", "run_dir")
    runner = build_runner(cfg, target, overrides=overrides, console=make_console(quiet))
    runner.run()
    return load(target, checkpoint=checkpoint)


def compose(overrides: Sequence[str]) -> tuple[RunConfig, str]:
    """The validated config ``pinnrun <overrides>`` runs with, and its run directory (Hydra's
    compose API on the packaged conf/, as the command line's ``@hydra.main``)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    sweep = [o for o in overrides if "," in o.partition("=")[2] and not o.partition("=")[2].startswith(("[", "{"))]
    if sweep:
        raise ConfigError(f"'{sweep[0]}' is a sweep: pinnrun.run trains one run (sweep from the shell with -m)")
    register()
    if GlobalHydra.instance().is_initialized():  # e.g. called twice, or from within another Hydra app
        GlobalHydra.instance().clear()
    try:
        with initialize_config_module("pinnrun.conf", version_base="1.3"):
            cfg = hydra_compose("config", overrides=list(overrides), return_hydra_config=True)
        run_dir = str(cfg.hydra.run.dir)
        with read_write(cfg), open_dict(cfg):  # Hydra's node goes; the run's config stays
            del cfg["hydra"]
        validate(cfg)
        return OmegaConf.to_object(cfg), run_dir
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(describe_error(e)) from e


def load(run_dir: str | Path, checkpoint: str = "last", device: str = "cpu") -> Run:
    """The run in ``run_dir``: its config, summary, metrics and the trained network of
    ``checkpoint`` ("last": the run's final state, which predictions.h5 and summary.json
    describe; "best": the lowest training loss checkpointed; or a path to a .pt file) on
    ``device`` ("cpu", "cuda", or "auto"). A missing or foreign run directory, or a corrupt
    checkpoint: :class:`~pinnrun.config.ConfigError` naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        what = "is not a directory" if run_dir.exists() else "does not exist"
        raise ConfigError(f"run directory {run_dir} {what}")
    cfg = read_config(run_dir)
    if checkpoint in ("last", "best"):
        path = run_dir / "checkpoints" / f"{checkpoint}.pt"
    else:
        path = Path(checkpoint)
    state = io.load_checkpoint(path)  # ConfigError for a missing, torn or foreign file
    try:
        cfg.trainer.device = Device(device)
    except ValueError:
        raise ConfigError(f"device '{device}': choose cpu, cuda or auto") from None
    cfg.trainer.compile, cfg.trainer.threads, cfg.trainer.resume = False, None, False
    with torch.random.fork_rng(devices=[]):  # the task seeds torch's generator: the caller's is restored
        task = build_task(cfg, make_console(quiet=True))
        try:
            task.load_state_dict(state)
        except (RuntimeError, KeyError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ConfigError(f"checkpoint {path} does not fit {run_dir / 'config.yaml'}: {first}") from None
    task.model.eval()
    summary = _read_json(run_dir / "summary.json")
    return Run(run_dir=run_dir, config=cfg, summary=summary, task=task, step=int(state["step"]), checkpoint=path)


def read_config(run_dir: Path) -> RunConfig:
    """config.yaml of a run directory, checked against the schema."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a pinnrun run directory (it has no config.yaml)")
    register()
    try:
        merged = OmegaConf.merge(OmegaConf.structured(RunConfig), OmegaConf.load(path))
        return OmegaConf.to_object(merged)
    except Exception as e:  # noqa: BLE001 - any unreadable or foreign file: one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"{path} is not a pinnrun config ({first})") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}  # a run still going, or one that was killed: no summary yet
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path} cannot be read ({e})") from None


@dataclass
class Run:
    """A loaded run. ``config``: its RunConfig; ``summary``: summary.json ({} while none);
    ``model``: the trained network (eval mode); ``problem``: the equation (with learned unknowns
    bound); ``step``: the checkpoint's step. :meth:`predict` and :meth:`residual` evaluate it, through
    ``predictor`` (the task's :class:`~pinnrun.solution.Predictor`)."""

    run_dir: Path
    config: RunConfig
    summary: dict[str, Any]
    task: Task = field(repr=False)
    step: int = 0
    checkpoint: Path = field(default=Path(), repr=False)
    predictor: Predictor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.predictor = self.task.predictor()

    # -- what it is ----------------------------------------------------------------------
    @property
    def model(self) -> torch.nn.Module:
        return self.task.model

    @property
    def problem(self) -> Any:
        return self.predictor.problem

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "unfinished"))

    @property
    def variables(self) -> tuple[str, ...]:
        """The inputs of :meth:`predict`, in column order (for a learned inverse problem: y*'s
        components ystar0, ystar1, ...; its fields x and y = P(x) are predictions)."""
        return tuple(self.predictor.variables)

    @property
    def fields(self) -> tuple[str, ...]:
        """What :meth:`predict` returns by default: the equation's evaluated fields (outputs and
        derived ones such as |h|)."""
        return tuple(self.predictor.fields)

    @property
    def domain(self) -> dict[str, tuple[float, float]]:
        return dict(self.predictor.domain)

    @property
    def metrics(self) -> Any:
        """metrics.csv: a pandas DataFrame if pandas is installed, else {column: array}."""
        path = self.run_dir / "metrics.csv"
        if not path.is_file():
            return {}
        try:
            import pandas
        except ImportError:
            return io.read_metrics(path)
        return pandas.read_csv(path)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __repr__(self) -> str:
        name = self.config.equation.name
        return f"Run({str(self.run_dir)!r}, equation={name}, step={self.step}, status={self.status})"

    # -- evaluation ----------------------------------------------------------------------
    def predict(
        self,
        points: Points,
        fields: Sequence[str] | None = None,
        derivatives: Sequence[str] = (),
        batch_size: int = EVAL_BATCH,
        allow_outside: bool = False,
    ) -> dict[str, np.ndarray]:
        """Each of ``fields`` (default: :attr:`fields`) and each of ``derivatives`` (names as the
        residuals use them: "u_x", "u_xx", "v_tx") at ``points``, as float64 arrays of the
        points' shape. Points outside the domain are refused unless ``allow_outside``.
        A learned inverse problem takes y* (n, y_dim) and returns x = f(y*) and y = P(x)."""
        derivatives = list(derivatives)
        fields = self.predictor.check(fields, derivatives)
        x, shape = self.points(points, allow_outside)
        return _arrays(self.predictor.predict(x, fields, derivatives, batch_size), shape)

    def residual(
        self, points: Points, batch_size: int = EVAL_BATCH, allow_outside: bool = False
    ) -> dict[str, np.ndarray]:
        """The equation's PDE residual at ``points``, each component (the loss's ``residual_<k>``
        terms are their mean squares), as float64 arrays of the points' shape; with the learned
        values of unknown constants in an inverse problem."""
        x, shape = self.points(points, allow_outside)
        return _arrays(self.predictor.residual(x, batch_size), shape)

    def points(self, points: Points, allow_outside: bool = False) -> tuple[torch.Tensor, tuple[int, ...]]:
        """(points as an (n, d) tensor of the network's dtype and device, the results' shape)."""
        return self.predictor.points(points, allow_outside)


def _arrays(values: Mapping[str, torch.Tensor], shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Float64 arrays of the points' shape (and a row's own shape: x of a learned inverse problem)."""
    return {k: v.double().cpu().numpy().reshape(shape + tuple(v.shape[1:])) for k, v in values.items()}


__all__ = ["Points", "Run", "check_points", "point_columns", "compose", "load", "read_config", "run"]
