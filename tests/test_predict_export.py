"""pinnrun-predict and pinnrun-export as a user runs them (subprocesses of the installed console
scripts) on a real trained run, checked against pinnrun.load(...).predict; and the notebook
example run end to end."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import pinnrun
from pinnrun.export import main as export_main
from pinnrun.predict import main as predict_main

from helpers import REPO, cli_env, explain

TINY = [
    "equation=burgers",
    "model.width=16",
    "model.depth=2",
    "optimizer=adam",
    "trainer.max_steps=30",
    "trainer.compile=false",
    "trainer.threads=1",
    "trainer.progress=false",
    "trainer.plots=false",
    "equation.points.residual=300",
]


def script(name: str, *args, cwd=None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / name
    return subprocess.run(
        [str(exe), *map(str, args)], cwd=cwd or REPO, env=cli_env(), capture_output=True, text=True, timeout=300
    )


def call(main, *args) -> subprocess.CompletedProcess:
    """A command's ``main(argv)`` in this process, as a finished process (exit code, output):
    the same code as the console script, without a Python start (the scripts themselves run in
    the CSV and TorchScript tests)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's own errors
            code = e.code
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


def one_line_error(p: subprocess.CompletedProcess, prog: str, *words: str) -> str:
    assert p.returncode == 2, explain(p)
    assert "Traceback" not in p.stderr, explain(p)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), explain(p)
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("predict") / "run"
    return pinnrun.run(TINY, run_dir=run_dir, quiet=True)


@pytest.fixture(scope="module")
def probes():
    return np.random.default_rng(7).uniform([0, -1], [1, 1], (57, 2))


def read_csv(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def test_csv_in_csv_out_with_derivatives_and_residual(trained, probes, tmp_path):
    points = tmp_path / "probes.csv"
    with open(points, "w", newline="") as f:  # columns in another order than the equation's
        w = csv.writer(f)
        w.writerow(["x", "t"])
        w.writerows([[repr(float(x)), repr(float(t))] for t, x in probes])
    out = tmp_path / "pred.csv"
    p = script(
        "pinnrun-predict", trained.run_dir, "--points", points, "--derivatives", "u_x", "--residual", "--out", out
    )
    assert p.returncode == 0, explain(p)
    got = read_csv(out)
    assert list(got) == ["t", "x", "u", "u_x", "residual_u"]
    np.testing.assert_array_equal(np.stack([got["t"], got["x"]], 1), probes)
    want = trained.predict(probes, derivatives=["u_x"])
    np.testing.assert_allclose(got["u"], want["u"], rtol=1e-12)
    np.testing.assert_allclose(got["u_x"], want["u_x"], rtol=1e-12)
    np.testing.assert_allclose(got["residual_u"], trained.residual(probes)["u"], rtol=1e-12)
    # no header: one column per variable, in the equation's order; CSV on stdout with --out -
    bare = tmp_path / "bare.csv"
    np.savetxt(bare, probes, delimiter=",")
    p = call(predict_main, trained.run_dir, "--points", bare, "--out", "-")
    assert p.returncode == 0, explain(p)
    rows = list(csv.reader(p.stdout.splitlines()))
    assert rows[0] == ["t", "x", "u"] and len(rows) == len(probes) + 1
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], want["u"], rtol=1e-12)


@pytest.mark.parametrize("kind", ["npy", "npz", "h5"])
def test_npy_npz_and_hdf5_points_give_the_same_predictions_in_hdf5(trained, probes, tmp_path, kind):
    points = tmp_path / f"probes.{kind}"
    if kind == "npy":
        np.save(points, probes)
    elif kind == "npz":
        np.savez(points, t=probes[:, 0], x=probes[:, 1])
    else:
        with h5py.File(points, "w") as f:
            f["points/x"], f["points/t"] = probes[:, 1], probes[:, 0]
    out = tmp_path / "pred.h5"
    p = call(predict_main, trained.run_dir, "--points", points, "--out", out)
    assert p.returncode == 0, explain(p)
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["points/t"][()], probes[:, 0])
        np.testing.assert_allclose(f["fields/u"][()], trained.predict(probes)["u"], rtol=1e-12)
        assert f.attrs["step"] == 30 and f.attrs["variables"] == "t,x"
        assert "model:" in f.attrs["config"] and Path(f.attrs["run_dir"]) == trained.run_dir.resolve()


def test_a_grid_lands_in_hdf5_with_its_axes_and_shape(trained, tmp_path):
    out = tmp_path / "grid.h5"
    p = call(predict_main, trained.run_dir, "--grid", "t=0:1:11", "x=-1:1:21", "--out", out)
    assert p.returncode == 0, explain(p)
    t, x = np.linspace(0, 1, 11), np.linspace(-1, 1, 21)
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["grid/t"][()], t)
        u = f["fields/u"][()]
    assert u.shape == (11, 21)
    np.testing.assert_allclose(u, trained.predict({"t": t[:, None], "x": x[None, :]})["u"], rtol=1e-12)
    # a probe line: one variable held fixed
    p = call(predict_main, trained.run_dir, "--grid", "t=0.5", "x=-1:1:5", "--out", tmp_path / "line.csv")
    assert p.returncode == 0, explain(p)
    line = read_csv(tmp_path / "line.csv")
    np.testing.assert_array_equal(line["t"], 0.5)
    np.testing.assert_allclose(line["u"], trained.predict({"t": 0.5, "x": np.linspace(-1, 1, 5)})["u"], rtol=1e-12)


def test_bad_input_gets_one_line_and_writes_nothing(trained, tmp_path, capsys):
    out = tmp_path / "out.csv"
    out.write_text("earlier result\n")
    files = {
        "three.csv": "t,x,y\n0.1,0.2,0.3\n",
        "nan.csv": "t,x\n0.1,nan\n",
        "outside.csv": "t,x\n0.1,0.2\n0.5,3.0\n",
        "words.csv": "t,x\n0.1,zero\n",
        "torn.h5": "not an hdf5 file",
        "empty.npy": "",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    cases = [
        (["--points", tmp_path / "three.csv"], ["'y' is not a variable"]),
        (["--points", tmp_path / "nan.csv"], ["row 0", "not a finite number"]),
        (["--points", tmp_path / "outside.csv"], ["row 1 has x = 3", "outside the domain"]),
        (["--points", tmp_path / "words.csv"], ["line 2", "not a row of numbers"]),
        (["--points", tmp_path / "torn.h5"], ["torn.h5 cannot be read"]),
        (["--points", tmp_path / "empty.npy"], ["empty.npy cannot be read"]),
        (["--points", tmp_path / "missing.csv"], ["missing.csv does not exist"]),
        (["--grid", "t=0:1:3"], ["no axis for x"]),
        (["--grid", "t=0:1", "x=0:1:3"], ["--grid t=0:1"]),
        (["--points", tmp_path / "three.csv", "--fields", "v"], ["'y' is not a variable"]),
        (["--grid", "t=0.5", "x=0:1:3", "--fields", "v"], ["unknown field 'v'"]),
        (["--grid", "t=0.5", "x=0:1:3", "--derivatives", "u_q"], ["derivative 'u_q'"]),
        ([], ["one of the arguments --points --grid is required"]),
    ]
    for args, words in cases:  # the command's main() in this process (the script: the CSV test)
        with pytest.raises(SystemExit) if not args else contextlib.nullcontext():
            code = predict_main([str(trained.run_dir), *map(str, args), "--out", str(out)])
        err = capsys.readouterr().err
        one_line_error(subprocess.CompletedProcess([], 2 if not args else code, "", err), "pinnrun-predict", *words)
        assert out.read_text() == "earlier result\n", args
    p = call(predict_main, tmp_path / "no-run", "--grid", "t=0", "x=0", "--out", out)
    one_line_error(p, "pinnrun-predict", "does not exist")
    # outside the domain on request
    p = call(predict_main, trained.run_dir, "--points", tmp_path / "outside.csv", "--allow-outside", "--out", out)
    assert p.returncode == 0 and len(read_csv(out)["u"]) == 2, explain(p)


def export_and_compare(run: pinnrun.Run, fmt: str, tmp_path: Path, subprocess_: bool = False) -> dict:
    args = [run.run_dir, "--format", fmt, "--out", tmp_path / f"model.{fmt}"]
    p = script("pinnrun-export", *args) if subprocess_ else call(export_main, *args)
    assert p.returncode == 0, explain(p)
    return {"path": tmp_path / f"model.{fmt}"}


def test_torchscript_export_reproduces_predict(trained, tmp_path):
    path = export_and_compare(trained, "torchscript", tmp_path, subprocess_=True)["path"]
    extra = {"pinnrun.json": ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    meta = json.loads(extra["pinnrun.json"])
    assert meta["variables"] == ["t", "x"] and meta["fields"] == ["u"] and meta["step"] == 30
    points = np.random.default_rng(11).uniform([0, -1], [1, 1], (1000, 2))  # not the traced batch size
    got = module(torch.as_tensor(points, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got[:, 0], trained.predict(points)["u"], rtol=0, atol=1e-6)


def test_onnx_export_reproduces_predict(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import onnx

    path = export_and_compare(trained, "onnx", tmp_path)["path"]
    meta = json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}["pinnrun"])
    assert meta["fields"] == ["u"] and meta["dtype"] == "float32"
    points = np.random.default_rng(12).uniform([0, -1], [1, 1], (1000, 2))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"points": points.astype(np.float32)})
    np.testing.assert_allclose(got[:, 0], trained.predict(points)["u"], rtol=0, atol=1e-6)


def test_export_of_a_derived_field_and_a_constrained_network(tmp_path):
    """NLS (|h| derived from u, v) and Burgers with its hard constraint: the export holds both."""
    nls = pinnrun.run(
        ["equation=nls", "model.width=16", "model.depth=2", "optimizer=adam", "trainer.max_steps=5",
         "trainer.compile=false", "trainer.threads=1", "trainer.plots=false", "equation.points.residual=200"],
        run_dir=tmp_path / "nls", quiet=True,
    )  # fmt: skip
    hard = pinnrun.run([*TINY, "model.hard_constraints=true"], run_dir=tmp_path / "hard", quiet=True)
    for run in (nls, hard):
        path = export_and_compare(run, "torchscript", tmp_path / run.run_dir.name)["path"]
        module = torch.jit.load(str(path))
        lo, hi = np.array(run.problem.lower), np.array(run.problem.upper)
        points = lo + (hi - lo) * np.random.default_rng(1).random((300, len(lo)))
        got = module(torch.as_tensor(points, dtype=torch.float32)).double().numpy()
        want = run.predict(points)
        for i, f in enumerate(run.fields):
            np.testing.assert_allclose(got[:, i], want[f], rtol=0, atol=1e-6)
    assert nls.fields == ("u", "v", "h_abs")


def test_export_names_what_is_wrong(trained, tmp_path):
    p = call(export_main, tmp_path / "nothing", "--format", "torchscript")
    one_line_error(p, "pinnrun-export", "does not exist")
    p = call(export_main, trained.run_dir, "--format", "tflite")
    one_line_error(p, "pinnrun-export", "invalid choice")
    (tmp_path / "file").write_text("")
    p = call(export_main, trained.run_dir, "--format", "torchscript", "--out", tmp_path / "file" / "m.pt")
    one_line_error(p, "pinnrun-export", "file")


# make test-all; what the notebook calls (pinnrun.run, load, predict, residual) is tested in test_api.py
@pytest.mark.slow
def test_the_notebook_example_runs(tmp_path):
    env = {**cli_env(), "MPLBACKEND": "Agg"}
    p = subprocess.run(
        [sys.executable, str(REPO / "examples" / "notebook.py"), str(tmp_path / "nb")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, explain(p)
    assert (tmp_path / "nb" / "probe_line.png").stat().st_size > 10_000
    assert "u_x" in p.stdout and os.path.isdir(tmp_path / "nb" / "run")
