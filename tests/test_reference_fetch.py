"""PINNacle's reference files, fetched on first use (pinnrun.reference.pinnacle), without a network:
``PINNRUN_PINNACLE_URL`` points at a local folder (file://) that holds a copy of a file, a corrupted
copy, or nothing; ``PINNRUN_DATA_DIR`` at a fresh folder.

A good copy is fetched into ``<data dir>/pinnacle/`` with its checksum and the run gets L2 errors;
a corrupted one stops the run with one line and leaves nothing under the file's name; an
unreachable source lets the run go on without L2 errors, its header naming the file, where to place
it and where to get it. Only the files of the table are fetched, never a user's own reference.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pinnrun import reference
from pinnrun.config import ConfigError
from pinnrun.reference import pinnacle
from pinnrun.reference.__main__ import main as reference_main
from pinnrun.reference.points import sha256
from pinnrun.tasks import prepare_reference

from helpers import build_task, explain, run_cli, run_task

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
FILE = "poisson1_cg_data.dat"  # poisson_holes' reference: 85 kB, 1246 nodes

#: poisson_holes, a few steps on a few points
OVERRIDES = [
    "equation=poisson_holes",
    "model.width=16",
    "model.depth=2",
    "trainer.max_steps=3",
    "trainer.progress=false",
    "equation.points.residual=64",
    "equation.points.outer=40",
    "equation.points.holes=24",
]


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """(data directory, mirror folder): the environment points pinnrun at both; both empty."""
    data, mirror = tmp_path / "data", tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(data))
    monkeypatch.setenv("PINNRUN_PINNACLE_URL", mirror.as_uri())
    return data, mirror


@pytest.fixture
def good_copy():
    """The shared copy of FILE, checked against the table."""
    source = SHARED / FILE
    if not source.is_file():
        pytest.skip(f"the PINNacle reference copies are not at {SHARED}")
    assert sha256(source) == pinnacle.SHA256[FILE]
    return source


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_table_is_the_shared_sha256sums():
    sums = SHARED / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip(f"the PINNacle reference copies are not at {SHARED}")
    table = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.strip().lstrip("*")] = digest
    assert pinnacle.SHA256 == table


def test_a_missing_file_is_fetched_with_its_checksum_and_the_run_gets_l2_errors(dirs, good_copy, capsys, tmp_path):
    data, mirror = dirs
    shutil.copyfile(good_copy, mirror / FILE)
    task = build_task(OVERRIDES)
    err = capsys.readouterr().err
    target = data / "pinnacle" / FILE
    fetched = [line for line in err.splitlines() if line.startswith("fetching")]
    assert len(fetched) == 1 and FILE in fetched[0] and str(target) in fetched[0], err
    assert sha256(target) == pinnacle.SHA256[FILE]
    assert leftovers(target.parent) == [FILE]  # no temporary file left
    assert task.evaluation.fields == ["u"] and len(task.evaluation.points) == 1246
    assert not [n for n in task.notes() if "no reference" in n], task.notes()
    summary = run_task(task, tmp_path / "run")
    assert summary["status"] == "completed" and summary["final"]["l2/u"] > 0, summary
    # in place: not fetched again
    build_task(OVERRIDES)
    assert "fetching" not in capsys.readouterr().err


def test_a_corrupted_copy_stops_the_run_with_one_line_and_leaves_no_file(dirs, good_copy):
    data, mirror = dirs
    content = bytearray(good_copy.read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit
    (mirror / FILE).write_bytes(bytes(content))
    target = data / "pinnacle" / FILE
    with pytest.raises(ConfigError) as info:
        build_task(OVERRIDES)
    line = str(info.value)
    assert "\n" not in line
    got = sha256(mirror / FILE)
    for word in (FILE, pinnacle.SHA256[FILE][:16], got[:16], str(target)):
        assert word in line, f"{word!r} not in: {line}"
    assert not target.exists() and leftovers(target.parent) == []


def test_a_corrupted_copy_is_one_error_line_of_the_command_line(tmp_path, good_copy):
    mirror, data = tmp_path / "mirror", tmp_path / "data"
    mirror.mkdir()
    (mirror / FILE).write_bytes(good_copy.read_bytes()[:-100])  # a truncated copy
    env = {"PINNRUN_DATA_DIR": str(data), "PINNRUN_PINNACLE_URL": mirror.as_uri()}
    proc = run_cli([*OVERRIDES, f"hydra.run.dir={tmp_path / 'run'}"], env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr, explain(proc)
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if line.startswith("pinnrun: error: ")]
    assert len(errors) == 1 and errors[0] == lines[-1] and FILE in errors[0], explain(proc)
    assert [line for line in lines if line.startswith("fetching")] == lines[:-1], explain(proc)
    assert not (data / "pinnacle" / FILE).exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("source", ["empty folder", "http://127.0.0.1:9"])
def test_an_unreachable_source_lets_the_run_go_on_without_l2_errors(dirs, source, capsys, monkeypatch):
    data, mirror = dirs
    if source.startswith("http"):
        monkeypatch.setenv("PINNRUN_PINNACLE_URL", source)
    task = build_task(OVERRIDES)  # no exception
    err = capsys.readouterr().err
    target = data / "pinnacle" / FILE
    assert not target.parent.exists()  # nothing made, not even the folder
    failed = [line for line in err.splitlines() if "could not be fetched" in line]
    assert len(failed) == 1 and FILE in failed[0] and "without L2 errors" in failed[0], err
    assert task.evaluation.fields == []
    notes = [n for n in task.notes() if n.startswith("no reference")]
    assert len(notes) == 1 and FILE in notes[0] and str(target) in notes[0], task.notes()


def test_the_note_says_where_to_get_the_missing_file(dirs):
    """PinnTask.notes gives pinnacle.missing_note's line: the file, the place and the URL."""
    data, _ = dirs
    task = build_task(OVERRIDES)
    target = data / "pinnacle" / FILE
    line = pinnacle.missing_note(f"pinnacle/{FILE}", target)
    assert pinnacle.url(FILE) in line and str(target) in line and "\n" not in line
    assert line in task.notes()


def test_the_default_source_is_the_pinned_commit(monkeypatch):
    monkeypatch.delenv("PINNRUN_PINNACLE_URL", raising=False)
    assert pinnacle.url(FILE) == (
        "https://raw.githubusercontent.com/i207M/PINNacle/6f8d69c9c84c41d19644e4ceebdc64c4a11d3adf/ref/" + FILE
    )
    monkeypatch.setenv("PINNRUN_PINNACLE_URL", "file:///srv/mirror/")
    assert pinnacle.url(FILE) == f"file:///srv/mirror/{FILE}"


def test_only_the_files_of_the_table_are_fetched_never_a_users_own(dirs, good_copy, capsys, tmp_path):
    data, mirror = dirs
    shutil.copyfile(good_copy, mirror / FILE)
    shutil.copyfile(good_copy, mirror / "other.dat")
    target = data / "pinnacle" / FILE
    # equation.reference: the user's path, even where a PINNacle file would go
    with pytest.raises(ConfigError, match="does not exist"):
        build_task([*OVERRIDES, f"equation.reference={target}"])
    assert "fetching" not in capsys.readouterr().err and not target.exists()
    # a file the table does not hold, or one outside pinnacle/
    for name in ("pinnacle/other.dat", FILE, f"other/{FILE}", str(target)):
        assert pinnacle.file_of(name) is None
        assert pinnacle.ensure(name, say=pytest.fail) is None
    assert leftovers(data / "pinnacle") == []


def test_prepare_reference_fetches_for_a_problem_that_names_a_pinnacle_file(dirs, good_copy):
    data, mirror = dirs
    shutil.copyfile(good_copy, mirror / FILE)
    task = build_task([*OVERRIDES, f"equation.reference={good_copy}"])  # the shared copy: nothing fetched
    assert not (data / "pinnacle").exists()
    task.problem.reference_file = f"pinnacle/{FILE}"
    lines = []

    class Console:
        def print(self, line, **_):
            lines.append(line)

    prepare_reference(task.problem, Console())
    assert len(lines) == 1 and lines[0].startswith("fetching") and pinnacle.url(FILE) in lines[0]
    assert task.problem.reference_path() == data / "pinnacle" / FILE
    assert sha256(reference.data_dir() / "pinnacle" / FILE) == pinnacle.SHA256[FILE]


def test_the_command_fetches_them_ahead_of_time_and_checks_those_in_place(dirs, good_copy, capsys):
    data, mirror = dirs
    shutil.copyfile(good_copy, mirror / FILE)
    target = data / "pinnacle" / FILE
    assert reference_main(["--pinnacle", FILE]) == 0
    assert sha256(target) == pinnacle.SHA256[FILE] and "fetched, checksum ok" in capsys.readouterr().out
    assert reference_main(["--pinnacle", FILE]) == 0
    assert "in place, checksum ok" in capsys.readouterr().out
    target.write_bytes(b"not it")
    assert reference_main(["--pinnacle", FILE]) == 1
    assert str(target) in capsys.readouterr().err and target.read_bytes() == b"not it"
    target.unlink()
    # all of them: the others are not in the mirror, each says so and the status is 1
    assert reference_main(["--pinnacle"]) == 1
    out, err = capsys.readouterr()
    assert f"{target}  fetched" in out and len(err.splitlines()) == len(pinnacle.SHA256) - 1, err
    assert reference_main(["--pinnacle", "nosuch.dat"]) == 2
    assert "nosuch.dat" in capsys.readouterr().err
