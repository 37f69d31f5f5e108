"""The run: its state, resume, checkpoints, the metrics log, signals, the phase loop, the summary.

The runner is the only writer of the run directory and knows the work it runs only through
the small :class:`Task` interface, which the PINN task (:mod:`pinnrun.training`) and the
learned-inverse-problem task (:mod:`pinnrun.sip`) implement.

Steps are counted over all phases. Logging, evaluation and checkpoints happen at multiples of
their intervals, and the task advances in chunks that end on those multiples (and on the
task's own: new points, new weights), so a run resumed from a checkpoint takes exactly the
steps the uninterrupted run took and ends with the same numbers. A loss that becomes NaN or
infinite ends the run as ``diverged``; its checkpoints are the last good ones.

In a distributed run (:mod:`pinnrun.distributed`) every rank runs the same loop on the same
numbers (the task sums its work over the ranks), and rank 0 alone writes the run directory and
prints. A rank that fails leaves its error line for rank 0, which ends the run as ``failed``
with that line (its predictions from rank 0's state, computed alone; the last checkpoint stays
as it was written, whole).
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import torch
from omegaconf import OmegaConf
from rich.console import Console

from pinnrun import console as show
from pinnrun import io
from pinnrun.config import ConfigError, RunConfig
from pinnrun.distributed import Ranks
from pinnrun.optim import Phase
from pinnrun.version import __version__

#: the runner's own part of a checkpoint (the task adds its :attr:`Task.checkpoint_keys`)
RUN_STATE = ("step", "phase", "phase_start", "phase_converged", "elapsed", "best_score")
#: run-state keys of earlier versions' checkpoints, under their current names
RENAMED = {"best_loss": "best_score"}
SPECTRA = "ntk.h5"


@dataclass
class Chunk:
    """Where a task's chunk of steps ended: the step, the loss of its last step and its terms."""

    step: int
    loss: float
    terms: dict[str, float]  # loss/<term> of metrics.csv
    converged: bool = False  # L-BFGS found nothing more to do: the phase ends here
    warning: str | None = None  # one line for the console (e.g. the step could not compile)
    # what best.pt is chosen by (lowest): a measure comparable across the whole run, unlike a loss
    # whose weights change (the PINN task: the sum of the unweighted fit terms); None: the loss
    score: float | None = None


@dataclass
class Results:
    """What a finished task leaves: predictions.h5's content (None: nothing to write), the final
    metrics for summary.json, and further summary entries."""

    payload: io.Predictions | None
    metrics: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)


class Task(Protocol):
    """What the runner needs of a task."""

    cfg: RunConfig
    phases: list[Phase]  # planned, after the max_steps cap
    columns: list[str]  # metrics.csv's columns
    primary_field: str  # the field a paper reports
    config_hash: str  # of the settings that change this task's numbers
    checkpoint_keys: tuple[str, ...]  # what state_dict() holds
    device: torch.device
    n_parameters: int
    engine: str  # how its steps ran: "compiled" or "eager"
    ranks: Ranks  # the processes of a distributed run (SINGLE: this one alone)

    def describe(self) -> str: ...  # "equation=... model=... (N parameters)"

    def notes(self) -> list[str]: ...  # further header lines

    def chunk_every(self, phase: Phase) -> list[int]: ...  # intervals where chunks must also end

    def start_phase(self, phase: Phase, saved: dict[str, Any] | None) -> None: ...

    def advance(self, phase: Phase, step: int, target: int) -> Chunk: ...

    def log_values(self, phase: Phase) -> dict[str, float]: ...  # lr, weight/, param/, slope/ ...

    def evaluate(self) -> dict[str, float]: ...  # l2/<field>, test_loss

    def diagnostics(self) -> list[tuple[int, dict[str, Any]]]: ...  # NTK spectra since the last call

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def results(self, diverged: bool, ranks: Ranks) -> Results: ...  # ranks: whom the evaluation is split among


class Runner:
    def __init__(
        self, task: Task, run_dir: Path, overrides: Sequence[str] = (), console: Console | None = None
    ) -> None:
        """Reads the checkpoint to resume from; writes nothing until :meth:`run`. The run directory
        is checked before the task is built (:func:`pinnrun.tasks.build_runner`)."""
        self.task, self.cfg, self.run_dir = task, task.cfg, Path(run_dir)
        self.ranks = task.ranks
        self.writer = self.ranks.writer  # rank 0: the one process that writes and prints
        self.overrides = list(overrides)
        self.console = console or show.make_console() if self.writer else show.make_console(quiet=True)
        self.total_steps = sum(p.steps for p in task.phases)
        #: what the run has done (RUN_STATE): checkpointed, and restored on resume
        self.state: dict[str, Any] = dict(zip(RUN_STATE, (0, 0, 0, False, 0.0, math.inf)))
        self.saved = checkpoint_to_resume(self.run_dir, task) if self.cfg.trainer.resume else None
        self.status = "running"
        self.last: dict[str, Any] = {"loss": math.nan, "terms": {}, "metrics": {}}
        self.error: str | None = None  # the line that ended a distributed run as failed
        self.warnings: list[str] = []  # lines the run printed as warnings (a step that did not compile)

    # -- the run -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        resumed = self.saved is not None
        if resumed:
            self.task.load_state_dict(self.saved)
            torch.set_rng_state(self.saved["torch_rng"])
            self.state.update({k: self.saved[k] for k in RUN_STATE})
        t = self.cfg.trainer
        resume_step = self.state["step"] if resumed else None
        self.log, self.tracker = _NoLog(), None
        if self.writer:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_config(self.run_dir, self.cfg, self.overrides)
            if resumed:
                io.truncate_spectra(self.run_dir / SPECTRA, self.state["step"])
            self.log = io.MetricsLog(self.run_dir / "metrics.csv", self.task.columns, resume_step=resume_step)
            # logger=tensorboard|mlflow|wandb: the same rows there, open until the plots are in (finish)
            self.tracker = self.log.tracker = io.open_tracker(self.cfg.logger, self.run_dir, resume_step)
        verb = f"resuming at step {self.state['step']}" if resumed else "run"
        self.console.print(
            show.header(
                verb,
                self.task.describe(),
                [(p.name, p.steps) for p in self.task.phases],
                str(self.task.device),
                t.dtype.value,
                self.run_dir,
                self.task.notes(),
            ),
            soft_wrap=True,
        )
        self.t0 = time.perf_counter() - self.state["elapsed"]
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with show.progress(self.console, t.progress) as self.bar:
                self.bar_task = self.bar.add_task(
                    "train", total=self.total_steps, completed=self.state["step"], info=""
                )
                for phase in self.task.phases:
                    if phase.index >= self.state["phase"] and not self.train_phase(phase):
                        break
            status = "completed" if self.status == "running" else self.status
        except KeyboardInterrupt:
            status = "interrupted"  # or a peer failed, and the launcher stopped this rank
            self.error = self.ranks.failure()
        except Exception as e:
            if self.ranks.world == 1:
                self._close_tracker("failed")
                raise
            self.error = self.ranks.failure_after(e)
        except BaseException:
            self._close_tracker("failed")
            raise
        finally:
            # a distributed run's launcher stops every rank with SIGTERM once one has failed: the
            # results are still written (torchrun waits 30 s before SIGKILL)
            signal.signal(signal.SIGTERM, signal.SIG_IGN if self.ranks.world > 1 else previous_sigterm)
            self.log.close()
        try:
            if self.error is not None or (status == "interrupted" and self.ranks.world > 1):
                # a peer is gone, or the ranks were stopped wherever each was: no more collectives;
                # rank 0 finishes alone with its own state (the same as the others')
                self.ranks = self.ranks.without_peers()
                if not self.writer:
                    if self.error is not None:
                        raise RankFailed(self.error)
                    return run_summary(self.task, status, self.state["step"], self.total_steps, {}, 0.0)
                status = "failed" if self.error is not None else status
            return self.finish(status)
        finally:
            signal.signal(signal.SIGTERM, previous_sigterm)

    def _close_tracker(self, status: str) -> None:
        if self.tracker is not None:
            with contextlib.suppress(Exception):  # the error that ended the run is the one to see
                self.tracker.close(status)

    def train_phase(self, phase: Phase) -> bool:
        """One phase, chunk by chunk; False if the run diverged in it."""
        s, t = self.state, self.cfg.trainer
        saved = self.saved if self.saved is not None and phase.index == self.saved["phase"] else None
        self.task.start_phase(phase, saved)
        if saved is None:
            s.update(phase=phase.index, phase_start=s["step"], phase_converged=False)
        end = s["phase_start"] + phase.steps
        every = [t.log_every, t.eval_every, t.checkpoint_every, *self.task.chunk_every(phase)]
        while s["step"] < end and not s["phase_converged"]:
            target = min(min(((s["step"] // e) + 1) * e for e in every), end)
            chunk = self.task.advance(phase, s["step"], target)
            s["step"] = chunk.step
            if chunk.warning:
                self.warnings.append(chunk.warning)
                self.console.print(f"[yellow]{chunk.warning}[/yellow]", soft_wrap=True)
            if chunk.converged:
                end, s["phase_converged"] = s["step"], True
            if not math.isfinite(chunk.loss):
                self.status = "diverged"
                self.record(phase, chunk, evaluate=True)
                return False
            at_end = s["step"] >= end
            self.record(phase, chunk, evaluate=at_end or s["step"] % t.eval_every == 0)
            if at_end or s["step"] % t.checkpoint_every == 0:
                self.checkpoint(chunk.loss if chunk.score is None else chunk.score)
        return True

    def record(self, phase: Phase, chunk: Chunk, evaluate: bool) -> None:
        """The metrics row of this step (at log and evaluation steps) and the progress bar."""
        step, finite = chunk.step, math.isfinite(chunk.loss)
        metrics = self.task.evaluate() if evaluate and finite else {}
        self.last = {"loss": chunk.loss, "terms": chunk.terms, "metrics": metrics or self.last["metrics"]}
        for spectra_step, spectra in self.task.diagnostics():
            if self.writer:
                io.append_spectra(self.run_dir / SPECTRA, spectra_step, spectra)
        if step % self.cfg.trainer.log_every == 0 or evaluate:
            self.log.write(
                {
                    "step": step,
                    "phase": phase.name,
                    "loss": chunk.loss,
                    "time_s": time.perf_counter() - self.t0,
                    **{f"loss/{k}": v for k, v in chunk.terms.items()},
                    **self.task.log_values(phase),
                    **metrics,
                }
            )
        info = progress_info(phase, chunk.loss, self.last["metrics"], self.task.primary_field)
        self.bar.update(self.bar_task, completed=step, info=info)
        if evaluate and not self.console.is_terminal:
            self.console.print(f"step {step}/{self.total_steps}  {info}")

    def checkpoint(self, score: float) -> None:
        """checkpoints/last.pt (and best.pt when ``score``, the chunk's, is the lowest so far), atomically."""
        self.state["elapsed"] = time.perf_counter() - self.t0
        improved = score < self.state["best_score"]
        if improved:
            self.state["best_score"] = score
        if not self.writer:  # every rank holds the same state: rank 0's checkpoint resumes them all
            return
        state = {
            **self.task.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "config_hash": self.task.config_hash,
            "pinnrun_version": __version__,
            **{k: self.state[k] for k in RUN_STATE},
        }
        io.save_checkpoint(self.run_dir / "checkpoints" / "last.pt", state)
        if improved:
            io.save_checkpoint(self.run_dir / "checkpoints" / "best.pt", state)

    # -- the end -------------------------------------------------------------------------
    def finish(self, status: str) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        # every rank: a gathered evaluation (or rank 0's own, once it finishes without its peers)
        results = self.task.results(status == "diverged", self.ranks)
        if not self.writer:
            return run_summary(self.task, status, self.state["step"], self.total_steps, {}, wall)
        if results.payload is not None:
            write_predictions(self.run_dir, self.cfg, self.state["step"], results)
        final = {
            "loss": self.last["loss"],
            **{f"loss/{k}": v for k, v in self.last["terms"].items()},
            **results.metrics,
        }
        summary = run_summary(self.task, status, self.state["step"], self.total_steps, final, wall)
        summary.update(results.extra)
        if self.error is not None:
            summary["error"] = self.error
        if self.warnings:
            summary["warnings"] = self.warnings
        io.write_json(self.run_dir / "summary.json", summary)
        if self.cfg.trainer.plots:
            draw_figures(self.run_dir, summary["steps"], self.tracker, self.console)
        if self.tracker is not None:
            self.tracker.close(status)
        self.console.print(show.summary_table(summary, self.run_dir))
        return summary


def progress_info(phase: Phase, loss: float, metrics: dict[str, float], primary: str) -> str:
    """The progress bar's text: the phase, the loss and the primary field's latest L2 error."""
    info = f"{phase.name}  loss {loss:.3e}"
    errors = {k: v for k, v in metrics.items() if k.startswith("l2/")}
    if errors:
        key = f"l2/{primary}" if f"l2/{primary}" in errors else next(iter(errors))
        info += f"  {key} {errors[key]:.3e}"
    return info


def checkpoint_to_resume(run_dir: Path, task: Task) -> dict[str, Any]:
    """checkpoints/last.pt of ``run_dir``, checked: a pinnrun checkpoint of ``task``'s config."""
    path = run_dir / "checkpoints" / "last.pt"
    ckpt = io.load_checkpoint(path)
    if isinstance(ckpt, dict):
        ckpt.update({new: ckpt.pop(old) for old, new in RENAMED.items() if old in ckpt})
    keys = ("config_hash", "torch_rng", *RUN_STATE, *task.checkpoint_keys)
    missing = [k for k in keys if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise ConfigError(f"{path} is not a pinnrun checkpoint this version can resume (it lacks {', '.join(missing)})")
    if ckpt["config_hash"] != task.config_hash:
        raise ConfigError(
            f"{path} was written with another config (a setting that changes the "
            "numbers differs: equation, model, optimizer, weighting, sampler, seed, dtype or CPU threads; "
            "or a pinnrun version with other settings wrote it)"
        )
    return ckpt


def write_predictions(run_dir: Path, cfg: RunConfig, steps: int, results: Results) -> None:
    """predictions.h5: the task's payload, with the config, the step count, the version and the L2 errors."""
    attrs = {
        "config": OmegaConf.to_yaml(OmegaConf.structured(cfg)),
        "steps": steps,
        "pinnrun_version": __version__,
        **{k: v for k, v in results.metrics.items() if k.startswith("l2/")},
    }
    io.write_predictions(run_dir / "predictions.h5", results.payload, attrs)


def run_summary(
    task: Task, status: str, steps: int, planned: int, final: dict[str, Any], wall: float
) -> dict[str, Any]:
    """summary.json's content."""
    cfg, device = task.cfg, task.device
    out = {
        "status": status,
        "steps": steps,
        "planned_steps": planned,
        "final": final,
        "primary_field": task.primary_field,
        "wall_time_s": round(wall, 3),
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "dtype": cfg.trainer.dtype.value,
        "threads": torch.get_num_threads(),
        **({"processes": task.ranks.world} if task.ranks.world > 1 else {}),
        "engine": task.engine,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": task.n_parameters,
        "equation": cfg.equation.name,
        "model": cfg.model.name.value,
        "config_hash": task.config_hash,
        "pinnrun_version": __version__,
    }
    if cfg.published is not None:
        pub = cfg.published
        out["published"] = {"source": pub.source, "field": pub.field, "l2": pub.l2, "claim": pub.claim}
    return out


def draw_figures(run_dir: Path, step: int, tracker: io.Tracker | None, console: Console) -> None:
    """plots/ (and the plots in the experiment tracker); a figure must never cost the run's results."""
    try:
        from pinnrun import plots

        plots.plot_run(run_dir)
        if tracker is not None:
            tracker.log_figures(run_dir, step)
    except Exception as e:  # noqa: BLE001
        console.print(f"[yellow]plots skipped: {type(e).__name__}: {e}[/yellow]")


def write_config(run_dir: Path, cfg: RunConfig, overrides: Sequence[str]) -> None:
    """config.yaml and overrides.yaml of the latest start: a resumed run (same hash, perhaps
    another max_steps) ends where a fresh run of this config and these overrides would."""
    io.write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    fresh = [o for o in overrides if not o.lstrip("+~").startswith("trainer.resume=")]
    io.write_text(run_dir / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(fresh)))


class RankFailed(Exception):
    """A rank of a distributed run other than rank 0 stops here after a failure (rank 0 reports it)."""


class _NoLog:
    """The metrics log of a rank that does not write."""

    tracker = None

    def write(self, row: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


__all__ = ["Chunk", "RankFailed", "Results", "Runner", "Task", "write_config"]
