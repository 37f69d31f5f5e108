"""Reference solutions: the spectral NLS solver, the HDF5 files, load()'s errors."""

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

import pinnrun.reference as reference
from pinnrun.config import ConfigError
from pinnrun.reference.__main__ import main as cli_main
from pinnrun.reference.spectral import solve_nls

NLS_MAT = Path(__file__).parent / "data" / "NLS.mat"


def soliton(x, t, a=1.0, c=0.5):
    """Exact one-soliton of i h_t + 0.5 h_xx + |h|^2 h = 0."""
    return a / np.cosh(a * (x - c * t)) * np.exp(1j * (c * x + (a * a - c * c) * t / 2))


def nls_residual(f, x, t, d=1e-3):
    """i h_t + 0.5 h_xx + |h|^2 h by central differences (truncation error ~1e-6)."""
    h_t = (f(x, t + d) - f(x, t - d)) / (2 * d)
    h_xx = (f(x + d, t) - 2 * f(x, t) + f(x - d, t)) / d**2
    h = f(x, t)
    return 1j * h_t + 0.5 * h_xx + np.abs(h) ** 2 * h


def test_soliton_formula_satisfies_the_equation():
    x = np.linspace(-4, 4, 81)
    assert np.abs(nls_residual(soliton, x, 0.3)).max() < 1e-5
    # the check has teeth: dropping the -c^2 t / 2 phase leaves a residual c^2 h / 2
    wrong = lambda x, t: soliton(x, t) * np.exp(0.125j * t)  # noqa: E731
    assert np.abs(nls_residual(wrong, x, 0.3)).max() > 0.1


def test_solver_reproduces_exact_soliton():
    # x in [-20, 20): sech(20) ~ 4e-9, so the periodic wrap is below the bound
    x, t, h = solve_nls(
        lambda x: soliton(x, 0.0), x_min=-20.0, length=40.0, n_modes=256, t_end=2.0, n_out=20, substeps=8
    )
    assert h.shape == (21, 256)
    assert np.allclose(t, np.linspace(0, 2, 21)) and x[0] == -20.0
    exact = soliton(x[None, :], t[:, None])
    assert np.abs(h - exact).max() < 5e-8  # measured 1.2e-8


@pytest.fixture(scope="module")
def nls_file(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PINNRUN_DATA_DIR", str(tmp_path_factory.mktemp("data") / "sub"))
        path = reference.ensure("nls")
        assert path == reference.data_dir() / "nls.h5"
        yield path


def test_nls_agrees_with_published_data(nls_file):
    mat = scipy.io.loadmat(NLS_MAT)
    grid, ref = reference.load(nls_file)
    np.testing.assert_array_equal(grid["x"], mat["x"].ravel())
    np.testing.assert_allclose(grid["t"], mat["tt"].ravel(), rtol=0, atol=1e-15)
    h_mat = mat["uu"].T  # (256, 201) -> (t, x)
    h = ref["u"] + 1j * ref["v"]
    assert np.abs(h - h_mat).max() <= 1e-5  # measured 1.7e-9
    assert np.abs(ref["h_abs"] - np.abs(h_mat)).max() <= 1e-5


def test_nls_file_layout(nls_file):
    with h5py.File(nls_file, "r") as f:
        assert set(f) == {"grid", "ref"}
        assert set(f["grid"]) == {"t", "x"} and set(f["ref"]) == {"u", "v", "h_abs"}
        assert f["grid/t"].shape == (201,) and f["grid/x"].shape == (256,)
        for field in ("u", "v", "h_abs"):
            assert f[f"ref/{field}"].shape == (201, 256)
        assert f.attrs["variables"] == "t,x"
        assert f.attrs["equation"] == "nls"
        assert "256 modes" in f.attrs["method"] and "ETDRK4" in f.attrs["method"]
        assert "\n" not in f.attrs["method"]
        assert f.attrs["pinnrun_version"]
    grid, ref = reference.load(nls_file)
    assert list(grid) == ["t", "x"]
    np.testing.assert_allclose(grid["t"], np.arange(201) * (np.pi / 2) / 200, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(grid["x"], -5 + 10 * np.arange(256) / 256)
    assert ref["u"][0] == pytest.approx(2 / np.cosh(grid["x"]), abs=1e-14)
    assert not list(nls_file.parent.glob("*.tmp"))  # no temporary left behind


def test_ensure_keeps_existing_file(nls_file, monkeypatch):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(nls_file.parent))
    monkeypatch.setitem(reference.BUILDERS, "nls", lambda: pytest.fail("rebuilt an existing file"))
    assert reference.ensure("nls") == nls_file


def test_path_names_the_file_and_builds_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(reference.BUILDERS, "nls", lambda: pytest.fail("path() built a file"))
    assert reference.path("nls") == tmp_path / "data" / "nls.h5"
    assert not (tmp_path / "data").exists()
    with pytest.raises(ConfigError, match="nosuch.*nls"):
        reference.path("nosuch")


def test_ensure_unknown_name(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="nosuch.*nls"):
        reference.ensure("nosuch")


def test_data_dir_defaults(monkeypatch):
    monkeypatch.delenv("PINNRUN_DATA_DIR", raising=False)
    repo = Path(reference.__file__).resolve().parents[2]
    expected = repo / "data" if (repo / "pyproject.toml").is_file() else Path.home() / ".cache" / "pinnrun" / "data"
    assert reference.data_dir() == expected


def test_load_missing_file(tmp_path):
    path = tmp_path / "nls.h5"
    with pytest.raises(ConfigError, match="does not exist") as info:
        reference.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_load_corrupt_file(tmp_path):
    path = tmp_path / "nls.h5"
    path.write_bytes(b"\x89HDF garbage\x00\x01")
    with pytest.raises(ConfigError, match="corrupt") as info:
        reference.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_load_wrong_layout(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f.attrs["variables"] = "t,x"
        f["grid/t"] = np.zeros(3)
        f["grid/x"] = np.zeros(4)
        f["ref/u"] = np.zeros((4, 3))  # transposed
    with pytest.raises(ConfigError, match="corrupt") as info:
        reference.load(path)
    assert str(path) in str(info.value)


def test_cli_builds_and_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(tmp_path))

    def tiny():
        return (
            {"t": np.arange(2.0), "x": np.arange(3.0)},
            {"u": np.ones((2, 3))},
            "tiny test builder",
        )

    monkeypatch.setattr(reference, "BUILDERS", {"tiny": tiny})
    monkeypatch.setattr("pinnrun.reference.__main__.BUILDERS", reference.BUILDERS)
    (tmp_path / "tiny.h5").write_bytes(b"stale")
    assert cli_main([]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "tiny.h5") in out and "(2, 3)" in out
    grid, ref = reference.load(tmp_path / "tiny.h5")
    assert list(grid) == ["t", "x"] and ref["u"].shape == (2, 3)
    assert cli_main(["nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
