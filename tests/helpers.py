"""Helpers of the tests: the real ``pinnrun`` command line, in this process or as a subprocess,
and the run layer in process.

``run_cli(args, cwd=...)`` runs ``pinnrun <args>`` (real Hydra composition, real
training, real files) in this process and returns a CompletedProcess with its text
stdout/stderr and exit status; ``run_cli(..., process=True)`` and ``run_many`` start
``python -m pinnrun`` as subprocesses, for what needs the process boundary (the console
scripts, signals, kills, runs side by side); ``run_report(args)`` runs ``pinnrun-report``
(in process; ``script=True``: the console script). ``TINY`` is the override list that
keeps a run to a few seconds on a CPU.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: a run of a few seconds: 20 Adam steps of a 2x16 network on 200 residual points
TINY = [
    "trainer.max_steps=20",
    "equation.points.residual=200",
    "model.width=16",
    "model.depth=2",
    "trainer.progress=false",
]

#: the 8 loss terms of the NLS problem, in the order the trainer writes them
NLS_TERMS = [
    "initial_u",
    "initial_v",
    "boundary_u",
    "boundary_v",
    "boundary_u_x",
    "boundary_v_x",
    "residual_u",
    "residual_v",
]

CLI_TIMEOUT = 300


def cli_env() -> dict:
    env = dict(os.environ)
    # one thread per run: these networks are tiny, and on a small shared machine
    # several OpenMP threads per process only wait on each other
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    for key in ("PINNRUN_DEBUG", "HYDRA_FULL_ERROR"):  # tests read the one-line error form
        env.pop(key, None)
    return env


#: the tests train with the eager step unless they ask for trainer.compile: compiling costs 10-30 s
#: a process on this CPU, more than most test runs train (tests/test_training_compiled.py compares the two)
EAGER = "trainer.compile=false"
#: and draw no figures unless they check them (trainer.plots=true): matplotlib's import and three
#: figures cost more than a tiny run trains
NO_PLOTS = "trainer.plots=false"


def eager(args: Iterable[str]) -> list[str]:
    """``args`` with trainer.compile=false and trainer.plots=false added, unless they set them (or
    are no run: --help); next to the other overrides, as Hydra's argument parser wants them together."""
    args = list(map(str, args))
    if "--help" in args:
        return args
    given = {a.lstrip("+~").partition("=")[0] for a in args}
    extra = [o for o in (EAGER, NO_PLOTS) if o.partition("=")[0] not in given]
    at = next((i for i, a in enumerate(args) if "=" in a and not a.startswith("-")), len(args))
    return [*args[:at], *extra, *args[at:]]


def cli_command(args: Iterable[str], script: bool = False) -> list[str]:
    args = eager(args)
    if script:
        exe = Path(sys.executable).parent / ("pinnrun.exe" if os.name == "nt" else "pinnrun")
        return [str(exe), *map(str, args)]
    return [sys.executable, "-m", "pinnrun", *map(str, args)]


def run_cli(
    args: Sequence[str],
    cwd: Path | str | None = None,
    timeout: float = CLI_TIMEOUT,
    script: bool = False,
    process: bool = False,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """``pinnrun <args>`` to completion: in this process (the command line's own ``main()``, its
    stdout, stderr and exit status captured), or as a subprocess where the process boundary is what
    a test checks (``process=True``; ``script=True``: the console script). ``env``: variables to add."""
    environment = {**cli_env(), **(env or {})}
    if script or process:
        return subprocess.run(
            cli_command(args, script), cwd=cwd or REPO, env=environment, capture_output=True, text=True, timeout=timeout
        )
    return run_in_process(eager(args), cwd or REPO, environment)


def run_in_process(args: Sequence[str], cwd: Path | str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``pinnrun.cli.main()`` with ``sys.argv = ['pinnrun', *args]`` in ``cwd``, as ``python -m
    pinnrun`` would run it (:func:`call_in_process`)."""
    from pinnrun.cli import main

    return call_in_process("pinnrun", main, args, cwd, env)


def call_in_process(
    name: str, main: Callable[[], int | None], args: Sequence[str], cwd: Path | str, env: dict | None = None
) -> subprocess.CompletedProcess:
    """A command's ``main()`` in this process, with ``sys.argv = [name, *args]`` in ``cwd`` and the
    environment ``env`` (default :func:`cli_env`), as its console script would run it: the exit
    status it returns or its SystemExit gives (1 with the traceback on stderr for an exception it
    lets through). What it changes in the process (the working directory, the environment,
    sys.path and the modules imported through a path entry the call added (a user's package found
    from ``cwd``), torch's threads, signal handlers) is put back."""
    import torch

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_argv, saved_path = dict(os.environ), os.getcwd(), sys.argv, list(sys.path)
    saved_threads = torch.get_num_threads()
    saved_modules = set(sys.modules)
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    os.environ.clear()
    os.environ.update(env or cli_env())
    os.chdir(cwd)
    sys.argv = [name, *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main() or 0
            except SystemExit as e:
                code = exit_status(e.code)
            except Exception:  # noqa: BLE001 - what the interpreter would print and exit 1 with
                traceback.print_exc()
                code = 1
    finally:
        added = [str(Path(p or ".").resolve()) for p in set(sys.path) - set(saved_path)]
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
        # a user's package found from the working directory: its path entry and its modules, which
        # a new process would import afresh (not pinnrun's own or an installed package's)
        sys.path[:] = saved_path
        keep = (str(Path(sys.prefix).resolve()), str(REPO / "pinnrun"))
        for module in set(sys.modules) - saved_modules:
            file = str(getattr(sys.modules[module], "__file__", None) or "")
            if any(file.startswith(a) for a in added) and not file.startswith(keep):
                del sys.modules[module]
        torch.set_num_threads(saved_threads)
        for s, handler in saved_signals.items():
            signal.signal(s, handler)
    return subprocess.CompletedProcess([name, *args], code, out.getvalue(), err.getvalue())


def exit_status(code: object) -> int:
    """The process's exit status for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def start_cli(args: Sequence[str], cwd: Path | str | None = None, script: bool = False) -> subprocess.Popen:
    """``pinnrun <args>`` started in the background; output goes to pipes."""
    return subprocess.Popen(
        cli_command(args, script),
        cwd=cwd or REPO,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_many(
    arg_lists: Sequence[Sequence[str]],
    timeout: float = CLI_TIMEOUT,
    parallel: int = 2,
    cwd: Path | str | None = None,
    script: bool = False,
) -> list[subprocess.CompletedProcess]:
    """Run several independent ``pinnrun`` commands, ``parallel`` at a time, in order of the input."""
    results: list[subprocess.CompletedProcess | None] = [None] * len(arg_lists)
    pending = list(enumerate(arg_lists))
    while pending:
        batch, pending = pending[:parallel], pending[parallel:]
        procs = [(i, args, start_cli(args, cwd, script)) for i, args in batch]
        for i, args, p in procs:
            try:
                out, err = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                raise
            results[i] = subprocess.CompletedProcess(cli_command(args, script), p.returncode, out, err)
    return results  # type: ignore[return-value]


def run_report(
    args: Sequence[str], cwd: Path | str | None = None, timeout: float = 120, script: bool = False
) -> subprocess.CompletedProcess:
    """``pinnrun-report <args>`` to completion: its ``main()`` in this process, or with ``script=True``
    the console script."""
    args = [str(a) for a in args]
    if script:
        exe = Path(sys.executable).parent / ("pinnrun-report.exe" if os.name == "nt" else "pinnrun-report")
        return subprocess.run(
            [str(exe), *args], cwd=cwd or REPO, env=cli_env(), capture_output=True, text=True, timeout=timeout
        )
    from pinnrun.report import main

    return call_in_process("pinnrun-report", lambda: main(args), args, cwd or REPO)


#: the configs composed in this process, by their overrides (a test gets its own copy)
_COMPOSED: dict[tuple[str, ...], object] = {}


def compose_config(overrides: Sequence[str]):
    """The validated config ``pinnrun <overrides>`` would run with (real Hydra composition of the
    packaged conf/, which no test changes). Composed once per process for each list of overrides
    (about 0.13 s each; a third of the suite's compositions repeat one), each call a deep copy."""
    key = tuple(eager(overrides))
    if key not in _COMPOSED:
        from hydra import compose, initialize_config_module

        from pinnrun.config import register, validate

        register()
        with initialize_config_module("pinnrun.conf", version_base="1.3"):
            cfg = compose("config", overrides=list(key))
        validate(cfg)
        _COMPOSED[key] = cfg
    return copy.deepcopy(_COMPOSED[key])


def explain(proc: subprocess.CompletedProcess) -> str:
    """The end of a run's output, for assertion messages."""
    return f"rc={proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


def assert_one_line_error(proc, *must_name: str) -> str:
    """Exit code 2, exactly one non-empty stderr line `pinnrun: error: ...` naming ``must_name``."""
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stdout + proc.stderr, explain(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"stderr should be exactly one line, got {len(lines)}:\n{proc.stderr}"
    line = lines[0]
    assert line.startswith("pinnrun: error: ") and line[len("pinnrun: error: ") :].strip(), line
    for word in must_name:
        assert word in line, f"error line does not name {word!r}: {line}"
    return line


def compose(overrides: Sequence[str]):
    """The RunConfig object ``pinnrun <overrides>`` would run with."""
    from omegaconf import OmegaConf

    return OmegaConf.to_object(compose_config(overrides))


def build_task(overrides: Sequence[str]):
    """The task ``pinnrun <overrides>`` would run (a PinnTask or SipTask), built in process, with
    its reference dataset made ready; no run directory."""
    from pinnrun.tasks import build_task as build

    return build(compose(overrides))


def run_task(overrides_or_task, run_dir: Path, overrides: Sequence[str] = ()) -> dict:
    """A whole run in this process (the runner writes ``run_dir``); returns summary.json's content."""
    from rich.console import Console

    from pinnrun.runner import Runner

    task = build_task(overrides_or_task) if isinstance(overrides_or_task, (list, tuple)) else overrides_or_task
    return Runner(task, run_dir, overrides, Console(stderr=True, quiet=True)).run()


def read_rows(run_dir: Path) -> list[dict]:
    """metrics.csv of a run, one dict per row."""
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def run_without(
    modules: Sequence[str],
    args: Sequence[str],
    cwd: Path | str | None = None,
    env: dict | None = None,
    timeout: float = CLI_TIMEOUT,
) -> subprocess.CompletedProcess:
    """``pinnrun <args>`` in a Python where the top-level packages ``modules`` are not installed (an
    optional extra left out): each is None in sys.modules, so importing it fails and
    importlib.util.find_spec finds nothing, as for an absent package. ``env``: variables to add."""
    code = (
        "import sys; sys.modules.update((m, None) for m in sys.argv[1].split(',') if m); "
        "sys.argv = ['pinnrun', *sys.argv[2:]]; from pinnrun.cli import main; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, ",".join(modules), *eager(args)],
        cwd=cwd or REPO,
        env={**cli_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def equation(name: str):
    """The problem of conf/equation/<name>.yaml as `equation=<name>` loads it (no Hydra run)."""
    from omegaconf import OmegaConf

    from pinnrun.config import EquationConfig
    from pinnrun.tasks import load

    cfg = OmegaConf.merge(
        OmegaConf.structured(EquationConfig), OmegaConf.load(REPO / "conf" / "equation" / f"{name}.yaml")
    )
    return load(OmegaConf.to_object(cfg))


def load_script(name: str):
    """benchmarks/<name>.py as a module (the scripts are not a package)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod
