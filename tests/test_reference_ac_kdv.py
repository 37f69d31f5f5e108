"""Allen-Cahn and KdV references: published data, exact solutions, builder layout."""

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from pinnrun.reference.spectral import build_allen_cahn, build_kdv, solve_allen_cahn, solve_kdv

DATA = Path(__file__).parent / "data"
DELTA = 0.0025
AC_EPS, AC_A = 1e-4, 5.0


@pytest.fixture(scope="module")
def ac():
    return build_allen_cahn()


@pytest.fixture(scope="module")
def kdv():
    return build_kdv()


def kdv_soliton(x, t, c=1.0, x0=-0.3, length=4.0):
    """3c sech^2(sqrt(c / delta) (x - c t - x0) / 2), wrapped onto a box of the given length.

    Travelling wave u(xi), xi = x - c t: -c u' + u u' + delta u''' = 0 integrates to
    -c u + u^2 / 2 + delta u'' = 0; u = A sech^2(kappa xi) has u'' = A kappa^2
    (4 sech^2 - 6 sech^4), so 4 delta kappa^2 = c and A / 2 = 6 delta kappa^2.
    """
    xi = (x - c * t - x0 + length / 2) % length - length / 2
    return 3 * c / np.cosh(np.sqrt(c / DELTA) / 2 * xi) ** 2


def kdv_residual(f, x, t, d=1e-3):
    """u_t + u u_x + delta u_xxx by central differences."""
    u_t = (f(x, t + d) - f(x, t - d)) / (2 * d)
    u_x = (f(x + d, t) - f(x - d, t)) / (2 * d)
    u_xxx = (f(x + 2 * d, t) - 2 * f(x + d, t) + 2 * f(x - d, t) - f(x - 2 * d, t)) / (2 * d**3)
    return u_t + f(x, t) * u_x + DELTA * u_xxx


def ac_uniform(t, u0=0.1):
    """Solution of u' = a (u - u^3), u(0) = u0 (Bernoulli: w = u^-2 obeys w' = -2a (w - 1))."""
    return u0 * np.exp(AC_A * t) / np.sqrt(1 + u0**2 * (np.exp(2 * AC_A * t) - 1))


def ac_kinks(x, x1=-0.4877, x2=0.5123):
    """Stationary front pair: tanh(b x) solves eps u'' + a (u - u^3) = 0 for 2 eps b^2 = a;
    the product of two fronts a distance 1 apart errs by ~exp(-2 b) = 1e-137."""
    b = np.sqrt(AC_A / (2 * AC_EPS))
    return -np.tanh(b * (x - x1)) * np.tanh(b * (x - x2))


def test_exact_formulas_satisfy_their_equations():
    x = np.linspace(-0.6, 0.2, 81)  # across the soliton's peak at x0 + c t = 0
    # terms up to u u_x ~ A^2 kappa = 90; the differences' truncation error ~1e-2
    assert np.abs(kdv_residual(kdv_soliton, x, 0.3)).max() < 0.05  # measured 6.5e-3
    # teeth: 1 % off in amplitude leaves 0.52; the u_t + 6 u u_x + u_xxx normalisation 7.1
    assert np.abs(kdv_residual(lambda x, t: 1.01 * kdv_soliton(x, t), x, 0.3)).max() > 0.3
    assert np.abs(kdv_residual(lambda x, t: kdv_soliton(x, t) / 6, x, 0.3)).max() > 3
    t, d = 0.3, 1e-5
    assert (ac_uniform(t + d) - ac_uniform(t - d)) / (2 * d) == pytest.approx(
        AC_A * (ac_uniform(t) - ac_uniform(t) ** 3), rel=1e-8
    )
    x, d = np.linspace(-0.55, -0.42, 131), 1e-4
    u_xx = (ac_kinks(x + d) - 2 * ac_kinks(x) + ac_kinks(x - d)) / d**2
    u = ac_kinks(x)
    assert np.abs(AC_EPS * u_xx + AC_A * (u - u**3)).max() < 2e-3  # measured 2.1e-4; terms ~ 5
    assert np.abs(2 * AC_EPS * u_xx + AC_A * (u - u**3)).max() > 1.0  # wrong b: 1.9


def test_ac_agrees_with_published_data(ac):
    grid, ref, _ = ac
    mat = scipy.io.loadmat(DATA / "AC.mat")
    np.testing.assert_array_equal(grid["x"], mat["x"].ravel())
    np.testing.assert_allclose(grid["t"], mat["tt"].ravel(), rtol=0, atol=1e-15)
    assert np.abs(ref["u"] - mat["uu"].T).max() < 2e-10  # measured 4.3e-11


def test_kdv_agrees_with_published_data(kdv):
    grid, ref, _ = kdv
    mat = scipy.io.loadmat(DATA / "KdV.mat")
    np.testing.assert_array_equal(grid["x"], mat["x"].ravel())
    np.testing.assert_allclose(grid["t"], mat["tt"].ravel(), rtol=0, atol=1e-15)
    assert np.abs(ref["u"] - mat["uu"].T).max() < 1e-10  # measured 1.8e-11


def test_kdv_solver_reproduces_exact_soliton():
    # c = 1 (amplitude 3, like KdV.mat's solitons) on [-2, 2): sech^2(10 * 2) ~ 2e-17 at the
    # box edge; 1024 modes keep the reference's grid step
    x, t, u = solve_kdv(
        lambda x: kdv_soliton(x, 0.0), x_min=-2.0, length=4.0, n_modes=1024, t_end=1.0, n_out=10, substeps=320
    )
    assert u.shape == (11, 1024) and u.dtype == np.float64
    assert np.abs(u - kdv_soliton(x[None, :], t[:, None])).max() < 1e-7  # measured 1.2e-8


def test_ac_solver_reproduces_uniform_solution():
    x, t, u = solve_allen_cahn(lambda x: np.full_like(x, 0.1), n_out=20, substeps=16)
    assert u.shape == (21, 512) and u[-1, 0] > 0.99  # grows from 0.1 to the stable state 1
    assert np.abs(u - ac_uniform(t)[:, None]).max() < 1e-8  # measured 1.8e-9


def test_ac_solver_keeps_stationary_fronts():
    # the fronts (width 6e-3) need 2048 modes to be exact in the discrete sense; 512 modes
    # (the reference's) are off by 1.3e-3, 1024 by 4.8e-8
    x, t, u = solve_allen_cahn(ac_kinks, n_modes=2048, n_out=10, substeps=4)
    assert u[0].min() < -0.99 and u[0].max() > 0.99
    assert np.abs(u - ac_kinks(x)[None, :]).max() < 1e-12  # measured 3e-15


@pytest.mark.parametrize("which", ["ac", "kdv"])
def test_builder_layout(which, ac, kdv):
    grid, ref, method = {"ac": ac, "kdv": kdv}[which]
    assert list(grid) == ["t", "x"] and list(ref) == ["u"]
    np.testing.assert_array_equal(grid["t"], np.arange(201) / 200)
    np.testing.assert_array_equal(grid["x"], -1 + 2 * np.arange(512) / 512)
    u = ref["u"]
    assert u.shape == (201, 512) and u.dtype == np.float64 and np.isfinite(u).all()
    x = grid["x"]
    u0 = x**2 * np.cos(np.pi * x) if which == "ac" else np.cos(np.pi * x)
    assert np.abs(u[0] - u0).max() < 1e-14
    assert np.abs(u[-1] - u[0]).max() > 0.5  # it evolved
    assert "512 modes" in method and "ETDRK4" in method and "\n" not in method
