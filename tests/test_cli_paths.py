"""Every path a user gives that is not what it must be: one line on stderr naming the path and
the problem, exit status 2, no traceback, and nothing of an earlier run changed.

The paths: the run directory (hydra.run.dir) and the sweep directory (hydra.sweep.dir), the
config directory (--config-dir / -cd), the data directory ($PINNRUN_DATA_DIR) and the checkpoint
a resumed run (trainer.resume=true) starts from. All through the real command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from helpers import TINY, assert_one_line_error, explain, run_cli


def _modes_bind() -> bool:
    """Whether file modes stop this process: not for root (uid 0 with CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH, as tests usually run in a container), which writes into a directory of
    mode 555 and reads a file of mode 000. Tried for real, not guessed from the uid."""
    with tempfile.TemporaryDirectory() as d:
        folder, file = Path(d) / "ro", Path(d) / "secret"
        folder.mkdir(mode=0o555)
        file.write_text("x")
        file.chmod(0)
        try:
            try:
                (folder / "probe").write_text("x")
                return False
            except PermissionError:
                pass
            try:
                file.read_text()
                return False
            except PermissionError:
                return True
        finally:
            folder.chmod(0o755)
            file.chmod(0o600)


ROOT = not _modes_bind()  # root in effect: chmod protects nothing from it
#: a run that fails on its path before training: fewer points still, to be quick if it did not
QUICK = [*TINY, "trainer.max_steps=5", "equation.points.residual=100", "model.width=8", "model.depth=1"]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def unwritable(tmp_path):
    """A directory this process may not write into. A non-root user: one with mode 555. Root
    writes through any mode, so then /proc/1, which not even root may write into (Linux)."""
    if not ROOT:
        d = tmp_path / "read_only"
        d.mkdir()
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    proc1 = Path("/proc/1")
    if not proc1.is_dir() or os.access(proc1, os.W_OK):
        pytest.skip("running as root without /proc: no directory here is unwritable")
    yield proc1


# -- the run directory -------------------------------------------------------------------------


def test_run_dir_that_is_a_file(tmp_path):
    earlier = tmp_path / "results.txt"
    earlier.write_text("an earlier result\n")
    proc = run_cli([*QUICK, f"hydra.run.dir={earlier}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(earlier), "hydra.run.dir")
    assert "is a file, not a directory" in line
    assert earlier.read_text() == "an earlier result\n"


def test_run_dir_under_a_file(tmp_path):
    earlier = tmp_path / "results.txt"
    earlier.write_text("an earlier result\n")
    run_dir = earlier / "run"
    proc = run_cli([*QUICK, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(run_dir), "hydra.run.dir")
    assert f"cannot be created: {earlier} is a file, not a directory" in line
    assert earlier.read_text() == "an earlier result\n"


def test_run_dir_that_is_not_writable(unwritable, tmp_path):
    proc = run_cli([*QUICK, f"hydra.run.dir={unwritable}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(unwritable), "hydra.run.dir")
    assert "is not writable" in line
    assert sorted(tmp_path.rglob("*")) == ([] if ROOT else [unwritable])


def test_run_dir_in_a_directory_that_is_not_writable(unwritable, tmp_path):
    run_dir = unwritable / "run"
    proc = run_cli([*QUICK, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(run_dir), "hydra.run.dir")
    assert f"cannot be created: {unwritable} is not writable" in line
    assert not run_dir.exists()


def test_sweep_dir_that_is_a_file(tmp_path):
    earlier = tmp_path / "sweep.txt"
    earlier.write_text("an earlier sweep\n")
    proc = run_cli(["-m", *QUICK, "seed=0,1", f"hydra.sweep.dir={earlier}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(earlier), "hydra.sweep.dir")
    assert "is a file, not a directory" in line
    assert earlier.read_text() == "an earlier sweep\n"


# -- the config directory ----------------------------------------------------------------------


def test_config_dir_that_does_not_exist(tmp_path):
    missing = tmp_path / "my_conf"
    run_dir = tmp_path / "run"
    proc = run_cli(["--config-dir", str(missing), *QUICK, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(missing), "--config-dir")
    assert "does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_config_dir_that_is_a_file(tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text("seed: 3\n")
    run_dir = tmp_path / "run"
    proc = run_cli(["-cd", str(conf), *QUICK, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    line = assert_one_line_error(proc, str(conf), "--config-dir")
    assert "is a file, not a directory" in line
    assert conf.read_text() == "seed: 3\n" and not run_dir.exists()


# -- the data directory ($PINNRUN_DATA_DIR) --------------------------------------------------------


def run_with_data_dir(data_dir: Path, args, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(args, cwd=cwd, env={"PINNRUN_DATA_DIR": str(data_dir)})


def test_data_dir_that_is_a_file(tmp_path):
    data = tmp_path / "nls.h5"
    data.write_bytes(b"an earlier dataset")
    run_dir = tmp_path / "run"
    proc = run_with_data_dir(data, [*QUICK, f"hydra.run.dir={run_dir}"], tmp_path)
    line = assert_one_line_error(proc, str(data), "PINNRUN_DATA_DIR")
    assert "is a file, not a directory" in line
    assert data.read_bytes() == b"an earlier dataset"
    assert not run_dir.exists(), "a run rejected for its data directory left its run directory behind"


def test_data_dir_under_a_file(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder\n")
    data = blocker / "pinnrun"
    run_dir = tmp_path / "run"
    proc = run_with_data_dir(data, [*QUICK, f"hydra.run.dir={run_dir}"], tmp_path)
    line = assert_one_line_error(proc, str(data), "PINNRUN_DATA_DIR")
    assert f"cannot be created: {blocker} is a file, not a directory" in line
    assert blocker.read_text() == "not a folder\n" and not run_dir.exists()


def test_data_dir_that_is_not_writable_when_a_dataset_must_be_built(unwritable, tmp_path):
    # burgers' reference dataset (about 2 s to build) is not in the directory, so the run must write it
    assert not (unwritable / "burgers.h5").exists()
    run_dir = tmp_path / "run"
    proc = run_with_data_dir(unwritable, ["equation=burgers", *QUICK, f"hydra.run.dir={run_dir}"], tmp_path)
    # checked before the dataset is built (and before the run says it builds it): one line
    line = assert_one_line_error(proc, str(unwritable), "(PINNRUN_DATA_DIR)")
    assert line.startswith("pinnrun: error: data directory ") and "is not writable" in line, line
    assert not run_dir.exists()


# -- the checkpoint of trainer.resume=true ---------------------------------------------------------


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory) -> Path:
    """A finished tiny run, copied by each test that damages its checkpoint."""
    run_dir = tmp_path_factory.mktemp("earlier") / "run"
    proc = run_cli([*QUICK, f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, explain(proc)
    assert (run_dir / "checkpoints" / "last.pt").stat().st_size > 1000
    return run_dir


def damage(kind: str, last: Path) -> str:
    """Make checkpoints/last.pt ``kind``; the words the error line must hold."""
    if kind == "a directory":
        last.unlink()
        (last / "inner").mkdir(parents=True)
        return "is a directory, not a checkpoint file"
    if kind == "truncated":
        last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
        return "is truncated or corrupt"
    if kind == "corrupt":
        last.write_bytes(b"\x00garbage, not a checkpoint\n" * 40)
        return "is truncated or corrupt"
    if kind == "empty":
        last.write_bytes(b"")
        return "is empty"
    if kind == "unreadable":
        last.chmod(0)
        return "cannot be read (Permission denied)"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "a directory",
        "truncated",
        "corrupt",
        "empty",
        pytest.param(
            "unreadable",
            marks=pytest.mark.skipif(
                ROOT,
                reason="running as root, which reads a file of mode 000: chmod cannot make a checkpoint "
                "unreadable here",
            ),
        ),
    ],
)
def test_resume_from_a_bad_checkpoint(earlier_run, tmp_path, kind):
    run_dir = tmp_path / "run"
    shutil.copytree(earlier_run, run_dir)
    last = run_dir / "checkpoints" / "last.pt"
    words = damage(kind, last) if kind != "unreadable" else ""
    before = snapshot(run_dir)
    if kind == "unreadable":  # after the snapshot, which reads it
        words = damage(kind, last)
    proc = run_cli([*QUICK, "trainer.resume=true", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    if kind == "unreadable":
        last.chmod(0o600)
    line = assert_one_line_error(proc, str(last), words)
    assert "weights_only" not in line  # torch's advice to load an untrusted file unsafely
    assert snapshot(run_dir) == before, "the rejected resume changed the earlier run's files"
