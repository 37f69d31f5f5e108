"""From a config to a run: the task the equation calls for (a PINN problem or a learned inverse
problem), its reference data made ready, and the runner that will write the run directory.

    problem = load(cfg.equation)            # pinnrun.problems / pinnrun.sip / a user's class
    prepare_reference(problem, console)     # the one step that may build a dataset in data/
    task = PinnTask(cfg, problem) | SipTask(cfg, problem)
    Runner(task, run_dir).run()
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from pinnrun import io, problems, reference
from pinnrun.config import ConfigError, EquationConfig, RunConfig
from pinnrun.console import make_console
from pinnrun.distributed import SINGLE, Ranks
from pinnrun.runner import Runner
from pinnrun.sip import PROBLEMS as SIP_PROBLEMS
from pinnrun.sip import Inversion
from pinnrun.sip.task import SipTask
from pinnrun.training import PinnTask

Task = PinnTask | SipTask


def load(cfg: EquationConfig) -> problems.Problem | Inversion:
    """The problem named by ``equation.name``: a built-in PINN problem (pinnrun.problems), a
    learned inverse problem (pinnrun.sip), or a user's 'package.module:ClassName' of either kind."""
    cls = problems.load_class(SIP_PROBLEMS.get(cfg.name, cfg.name), also=sorted(SIP_PROBLEMS))
    if not (isinstance(cls, type) and issubclass(cls, (problems.Problem, Inversion))):
        raise ConfigError(f"equation.name: '{cfg.name}' does not name a pinnrun Problem or Inversion class")
    return problems.build(cfg, cls) if issubclass(cls, problems.Problem) else cls(dict(cfg.domain), dict(cfg.params))


def prepare_reference(problem: problems.Problem | Inversion, console: Console, observed_at: str = "") -> None:
    """Build the problem's reference dataset if it is missing, or fetch the PINNacle reference file
    its equation names, and the PINNacle file of its observed points (``observed_at``,
    equation.observations.at) (pinnrun.reference.pinnacle; a user's own file never), saying so: the
    only files a run writes outside its run directory. A reference file that cannot be fetched is
    left out (the run goes on without L2 errors, its header says where to place it; observed
    points that cannot be fetched stop it); one of the wrong checksum stops the run."""
    say = lambda line: console.print(line, markup=False, soft_wrap=True)  # noqa: E731
    if isinstance(problem, problems.Problem) and problem.reference_file:
        reference.pinnacle.ensure(problem.reference_file, say)
    if observed_at:
        reference.pinnacle.ensure(observed_at, say, needed=True)
    name = problem.reference_dataset() if isinstance(problem, problems.Problem) else None
    if name is not None and not reference.path(name).exists():
        io.check_dir(reference.data_dir(), "data directory", "PINNRUN_DATA_DIR", writable=True)
        console.print(f"building the reference dataset '{name}' ({reference.path(name)}) with pinnrun's solver")
        reference.ensure(name)


def build_task(cfg: RunConfig, console: Console | None = None, ranks: Ranks = SINGLE) -> Task:
    """The task for ``cfg``, with its reference data ready (built by rank 0 of a distributed run
    while the others wait, once the task has checked its settings)."""
    problem = load(cfg.equation)
    if isinstance(problem, Inversion):
        if ranks.world > 1:
            raise ConfigError(
                f"equation={cfg.equation.name}: learned inverse problems (SIP) train in one process; "
                "start it without torchrun or a multi-task launcher"
            )
        return SipTask(cfg, problem)

    def ready() -> None:
        error = None
        if ranks.writer:
            try:
                prepare_reference(problem, console or make_console(), cfg.equation.observations.at)
            except ConfigError as e:
                error = str(e)
        error = ranks.agree(error)
        if error is not None:
            raise ConfigError(error)

    return PinnTask(cfg, problem, ranks, prepare_reference=ready)


def build_runner(
    cfg: RunConfig,
    run_dir: Path,
    overrides: Sequence[str] = (),
    console: Console | None = None,
    ranks: Ranks = SINGLE,
) -> Runner:
    """Everything a run needs, checked; nothing in ``run_dir`` is written until ``run()``. In a
    distributed run rank 0 checks the run directory, and a check that fails on any rank fails
    on all of them with its line."""
    console = console or make_console()
    error = None
    try:
        if ranks.writer:  # before any work: never over an earlier run
            io.check_run_dir(Path(run_dir), cfg.trainer.resume)
        runner = Runner(build_task(cfg, console, ranks), run_dir, overrides, console)
    except ConfigError as e:
        if ranks.world == 1:
            raise
        error = str(e)
    error = ranks.agree(error)
    if error is not None:
        raise ConfigError(error)
    return runner


__all__ = ["build_runner", "build_task", "load", "prepare_reference"]
