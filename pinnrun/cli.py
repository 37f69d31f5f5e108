"""The Hydra entry point: ``pinnrun [overrides]`` and ``python -m pinnrun``.

Errors in the user's input (an unknown group option, a wrong key or type, a
bad value, a missing or corrupt file) print one line on stderr and exit with
status 2, before anything is written. Set PINNRUN_DEBUG=1 for the traceback. That includes
every path the user gives: the run or sweep directory (hydra.run.dir, hydra.sweep.dir: checked
before Hydra makes it), the config directory (--config-dir), the data directory
($PINNRUN_DATA_DIR) and the checkpoint a resumed run starts from.

A run whose loss becomes NaN or infinite ends with summary.json's ``"status": "diverged"`` and
exit status 3, naming the step and its last good checkpoint.

Under ``torchrun`` (or as a task of a multi-task submitit job) one run is trained by all the
processes together (:mod:`pinnrun.distributed`): they name the same run directory (rank 0's
clock), rank 0 alone writes it and prints, and a rank that fails ends the run with
``"status": "failed"``, its line on stderr and exit status 1.

In a sweep (``-m``) a failing job does not stop the others: its directory gets
a summary.json with ``"status": "failed"`` and the one-line ``error``, the line
is printed, and once every job has run pinnrun exits with status 1 naming the
failed jobs (:class:`RunCallbacks`, a Hydra callback, so it works for any launcher). A diverged job
counts as failed there, and the sweep goes on as well.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pinnrun import distributed
from pinnrun.config import ConfigError, missing_sweeps_extra, register, start_time, validate
from pinnrun.config import describe_error as describe

EXIT_BAD_INPUT = 2
EXIT_JOBS_FAILED = 1
EXIT_DIVERGED = 3
EXIT_FAILED = 1
BAD_INPUT = (ConfigError, HydraException, OmegaConfBaseException)


class _BadInput(BaseException):
    """Carries a bad-input error raised inside the job out of Hydra to :func:`main`."""


class _SweepFailed(BaseException):
    """Raised by :class:`RunCallbacks` after a sweep in which some jobs failed."""


@hydra.main(config_path="pkg://pinnrun.conf", config_name="config", version_base="1.3")
def _hydra_main(cfg: DictConfig) -> float:
    """One run; returns its final relative L2 error of the primary field (what a Hydra sweeper
    such as Optuna minimises; NaN for a failed or diverged run)."""
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return _job(cfg)
    try:
        return _job(cfg)
    except (Exception, _BadInput) as e:  # noqa: BLE001 - recorded, and the sweep goes on
        if not distributed.start().writer:  # a multi-task job's rank 0 records and prints it
            return math.nan
        run_dir = Path(hc.runtime.output_dir)
        err = e.args[0] if isinstance(e, _BadInput) else e
        line = describe(err) if isinstance(err, BAD_INPUT) else f"{type(err).__name__}: {err}".splitlines()[0]
        if os.environ.get("PINNRUN_DEBUG"):
            traceback.print_exception(err)
        print(f"pinnrun: job {hc.job.num} failed: {line}", file=sys.stderr)
        summary = run_dir / "summary.json"
        if not summary.exists():  # never over an earlier job's result
            from pinnrun import io

            io.write_json(summary, {"status": "failed", "error": line, "job": hc.job.num})
            if not (run_dir / "overrides.yaml").exists():
                io.write_text(run_dir / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(list(hc.overrides.task))))
        return math.nan


class RunCallbacks(Callback):
    """The command line's Hydra callback (conf/config.yaml names it). Before a run or a sweep: its
    directory must be one pinnrun can write into, checked before Hydra makes it. After a sweep:
    the failed and the diverged jobs, read from the jobs' summary.json (the jobs may have run in
    other processes), then a non-zero exit if there were any.

    Hydra turns an ``Exception`` raised by a callback into a warning, so these raise
    ``BaseException`` subclasses that :func:`main` reports."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_output_dir(config.hydra.run.dir, "run directory", "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # pinnrun's own hydra/launcher/joblib.yaml composes without the plugin: say so before Hydra
        # fails to start the launcher it names
        for group, node in (("hydra/launcher", config.hydra.launcher), ("hydra/sweeper", config.hydra.sweeper)):
            plugin = str(node.get("_target_", "")).split(".")
            if len(plugin) > 2 and plugin[0] == "hydra_plugins":
                line = missing_sweeps_extra(group, config.hydra.runtime.choices.get(group), plugin[1])
                if line:
                    raise _BadInput(ConfigError(line))
        _check_output_dir(config.hydra.sweep.dir, "sweep directory", "hydra.sweep.dir")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        failed = []
        for summary in sorted(Path(config.hydra.sweep.dir).glob("*/summary.json")):
            try:
                s = json.loads(summary.read_text())
            except (OSError, ValueError):
                continue
            if s.get("status") == "failed":
                failed.append(f"{summary.parent.name} ({s.get('error', '?')})")
            elif s.get("status") == "diverged":
                failed.append(
                    f"{summary.parent.name} (diverged at step {s.get('steps', '?')}, "
                    f"loss {(s.get('final') or {}).get('loss', '?')})"
                )
        if failed:
            raise _SweepFailed(f"{len(failed)} job(s) failed: " + "; ".join(failed))


def _check_output_dir(path: Any, name: str, key: str) -> None:
    from pinnrun import io  # no torch: pinnrun.io imports it where it is used

    try:
        io.check_dir(Path(str(path)), name, key)
    except ConfigError as e:
        raise _BadInput(e) from None


@contextlib.contextmanager
def placement(hc: Any) -> Iterator[None]:
    """A job's share of the machine under a parallel launcher (joblib, submitit). With several
    GPUs: the first GPU no other job of the sweep holds, for as long as the job runs (so joblib's
    one-job-per-GPU stays one per GPU whatever order the jobs start in); a SLURM job that was given
    one GPU just uses it. On the CPU under joblib: cores // n_jobs torch threads per job (the
    jobs would otherwise each take every core)."""
    target = str(hc.launcher.get("_target_", ""))
    if "JoblibLauncher" not in target and "submitit" not in target:
        yield
        return
    import torch

    held = None
    gpus = torch.cuda.device_count()
    if gpus > 1:
        gpu, held = claim_slot(Path(hc.sweep.dir) / ".gpus", gpus)
        torch.cuda.set_device(gpu)
    if "JoblibLauncher" in target:
        cores, n_jobs = os.cpu_count() or 1, int(hc.launcher.n_jobs)
        jobs = cores if n_jobs < 1 else min(n_jobs, cores)  # joblib: -1 means one per core
        torch.set_num_threads(max(1, cores // jobs))
    try:
        yield
    finally:
        if held is not None:
            held.close()


def claim_slot(folder: Path, count: int, poll_s: float = 0.5) -> tuple[int, IO[str]]:
    """The first of ``count`` slots that no other process (or open file) holds: an exclusive lock
    on ``folder/<i>.lock``, held until the returned file is closed or the process ends. Waits
    while all are held."""
    import fcntl  # POSIX; only sweeps over several GPUs get here

    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for i in range(count):
            f = open(folder / f"{i}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return i, f
            except BlockingIOError:
                f.close()
        time.sleep(poll_s)


def _job(cfg: DictConfig) -> float:
    hc = HydraConfig.get()
    ranks = distributed.start()  # a multi-task submitit job's tasks join here (torchrun's in main)
    if ranks.world > 1:  # each rank has its local rank's GPU already
        return _run(cfg, hc, ranks)
    with placement(hc):
        return _run(cfg, hc)


def _run(cfg: DictConfig, hc: Any, ranks: distributed.Ranks = distributed.SINGLE) -> float:
    run_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    existed = any(run_dir.iterdir()) if run_dir.exists() else False
    try:
        validate(cfg)
        run_cfg = OmegaConf.to_object(cfg)
        from pinnrun.runner import RankFailed
        from pinnrun.tasks import build_runner  # torch import kept off `--help` and `--cfg`

        runner = build_runner(run_cfg, run_dir, overrides=overrides, ranks=ranks)
    except Exception as e:
        # Hydra made the directory; a run rejected before it started leaves nothing behind
        # (each rank of a distributed run: its Hydra made it too)
        if not existed and run_dir.exists() and not any(run_dir.iterdir()):
            with contextlib.suppress(OSError):  # another rank's removal came first
                run_dir.rmdir()
        if isinstance(e, BAD_INPUT):
            # past Hydra's `except Exception`, which would print a second line first
            raise _BadInput(e) from e
        raise
    try:
        summary = runner.run()
    except BAD_INPUT as e:
        raise _BadInput(e) from e
    except RankFailed:  # rank 0 reports it
        sys.exit(EXIT_FAILED)
    if summary["status"] == "failed":
        print(f"pinnrun: run failed: {summary.get('error', '?')}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    if summary["status"] == "interrupted":  # the ranks stopped wherever each was: no last collective
        sys.exit(130)
    distributed.stop()
    if summary["status"] == "diverged":
        line = diverged_line(summary, run_dir)
        if hc.mode == RunMode.MULTIRUN:  # recorded in its summary.json; RunCallbacks counts it
            print(f"pinnrun: job {hc.job.num} {line}", file=sys.stderr)
            return math.nan
        print(f"pinnrun: run {line}", file=sys.stderr)
        sys.exit(EXIT_DIVERGED)
    return float(summary["final"].get(f"l2/{summary['primary_field']}", math.nan))


def diverged_line(summary: dict, run_dir: Path) -> str:
    """'diverged at step N (loss nan); last good checkpoint: <path> (step M)'."""
    loss = (summary.get("final") or {}).get("loss")
    last = run_dir / "checkpoints" / "last.pt"
    good = "none (it diverged before the first one)"
    if last.is_file():
        from pinnrun import io

        try:
            good = f"{last} (step {io.load_checkpoint(last)['step']})"
        except (ConfigError, KeyError, TypeError):
            good = str(last)
    return (
        f"diverged at step {summary.get('steps', '?')} "
        f"(loss {'non-finite' if loss is None else loss}); last good checkpoint: {good}"
    )


def main() -> None:
    register()
    debug = os.environ.get("PINNRUN_DEBUG") or os.environ.get("HYDRA_FULL_ERROR")
    # let errors reach us instead of Hydra's multi-line report; we print one line
    os.environ["HYDRA_FULL_ERROR"] = "1"
    ranks = distributed.start()  # under torchrun: one run, all the processes
    if ranks.world > 1:
        start_time(distributed.shared_clock(ranks))  # one run directory for all
    try:
        _hydra_main()
    except _SweepFailed as e:
        print(f"pinnrun: {e.args[0]}", file=sys.stderr)
        sys.exit(EXIT_JOBS_FAILED)
    except ValueError as e:
        if "can be specified" not in str(e):  # Hydra's "Only one of --run, --multirun, --cfg ..."
            raise
        print(f"pinnrun: error: {e}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except (_BadInput, *BAD_INPUT) as e:
        err = e.args[0] if isinstance(e, _BadInput) else e
        if debug:
            raise err from err.__cause__
        if ranks.writer:  # every rank of a distributed run has the same line
            print(f"pinnrun: error: {describe(err)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
