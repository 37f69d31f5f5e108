"""Fourier pseudo-spectral solvers with ETDRK4 time stepping.

Each equation is written in Fourier space (v_k = FFT(u)_k, d/dx -> i k) as the
stiff semilinear system d/dt v = L v + N(v), L diagonal, and integrated by
:func:`solve_fourier` with ETDRK4 (Cox & Matthews 2002) whose phi-functions
are evaluated by contour integrals (Kassam & Trefethen 2005). The published
datasets (Raissi et al. 2019) were made with Chebfun; the conventions below
(grid x_j = x_min + length j / N, no dealiasing, the Nyquist mode keeping
k = -N/2 in even powers of k) reproduce them.

Nonlinear Schrödinger equation (Raissi et al. 2019, Sec. 3.1.1)::

    i h_t + 0.5 h_xx + |h|^2 h = 0,   x in [-5, 5) periodic,  t in [0, pi/2],
    h(0, x) = 2 sech(x);    L = -0.5 i k^2,   N = i FFT(|h|^2 h).

256 points; zeroing the Nyquist mode instead leaves a 4.7e-6 discrepancy.
Measured (numpy, 256 modes, ``substeps=64``, i.e. dt = (pi/2)/12800):

* against ``NLS.mat`` on its full 256 x 201 grid: max |h_ours - h_mat| = 1.7e-9
  (substeps 16 / 32 / 64 / 128: 3.7e-7 / 2.5e-8 / 1.7e-9 / 4.8e-10, i.e. 4th
  order down to the data's own accuracy); a plain RK4 run with dt = 3.9e-6
  agrees with NLS.mat to 1.6e-12 at t = 10 (pi/2)/200;
* against the exact one-soliton a sech(a (x - c t)) exp(i (c x + (a^2 - c^2) t / 2)),
  a = 1, c = 0.5, x in [-20, 20), 256 modes, t in [0, 2], dt = 1/80:
  max abs error 1.2e-8, set by the periodic wrap of the e^-|x| tail
  (x in [-30, 30), 512 modes, dt = 1/160: 1.0e-10; see tests/test_reference.py);
* solve time about 1 s on one CPU core.

Allen-Cahn equation (Raissi et al. 2019, the discrete-time solution example)::

    u_t - 1e-4 u_xx + 5 u^3 - 5 u = 0,   x in [-1, 1) periodic,  t in [0, 1],
    u(0, x) = x^2 cos(pi x);    L = 5 - 1e-4 k^2,   N = -5 FFT(u^3).

512 points, output on ``AC.mat``'s grid (t = j/200, j = 0..200). The fronts
(width sqrt(2e-4/5) = 6e-3, grid step 3.9e-3) are barely resolved: the data's
spectrum still has 1.4e-5 beyond |k| = N/3, so the conventions matter here:
2/3-rule dealiasing moves the solution by 1.7e-4 and zeroing the Nyquist mode
by 1.2e-5 away from ``AC.mat``. Measured (``substeps=16``, dt = 1/3200):

* against ``AC.mat`` on its full 512 x 201 grid: max abs difference 4.3e-11
  (substeps 2 / 4 / 8 / 16 / 32: 7.4e-10 / 5.0e-11 / 4.9e-11 / 4.3e-11 / 5.1e-11;
  the change from halving dt: 7.0e-10 / 4.3e-11 / 5.6e-12 / 8.4e-12, the last at
  rounding level), i.e. to the data's own accuracy;
* against the spatially uniform solution u0 e^(5t) / sqrt(1 + u0^2 (e^(10t) - 1)),
  u0 = 0.1, dt = 1/320: 1.8e-9 (dt = 1/20 ... 1/320: 1.8e-4 / 8.9e-6 / 5.0e-7 /
  3.0e-8 / 1.8e-9, 4th order);
* against the stationary kink pair -tanh(b (x - x1)) tanh(b (x - x2)),
  b = sqrt(5 / 2e-4), |x1 - x2| = 1, over t in [0, 1]: 1.3e-3 with 512 modes
  (the grid's own under-resolution of a front), 4.8e-8 with 1024, 3e-15 with 2048;
* solve time about 1 s on one CPU core.

Korteweg-de Vries equation (Raissi et al. 2019, the discrete-time discovery example)::

    u_t + u u_x + 0.0025 u_xxx = 0,   x in [-1, 1) periodic,  t in [0, 1],
    u(0, x) = cos(pi x);    L = 0.0025 i k^3,   N = -0.5 i k FFT(u^2),

the Nyquist mode zeroed in these odd derivatives (keeps u real). 512 points,
output on ``KdV.mat``'s grid. The solution is fully resolved (spectrum beyond
|k| = N/3 at 4e-16), so dealiasing and the Nyquist choice change nothing
(both measured: same 1.8e-11). Measured (``substeps=64``, dt = 1/12800):

* against ``KdV.mat`` on its full 512 x 201 grid: max abs difference 1.8e-11
  (substeps 4 / 8 / 16 / 32 / 64 / 128: 2.0e-7 / 1.3e-8 / 7.9e-10 / 6.2e-11 /
  1.8e-11 / 1.8e-11; the change from halving dt: 4.2e-6 / 1.9e-7 / 1.2e-8 /
  7.2e-10 / 4.7e-11 / 6.2e-12), i.e. to the data's own accuracy;
* against the exact one-soliton 3c sech^2(sqrt(c / 0.0025) (x - c t - x0) / 2),
  c = 1, x in [-2, 2) with 1024 modes (the same grid step), t in [0, 1]:
  dt = 1/800 ... 1/6400: 4.2e-6 / 2.2e-7 / 1.2e-8 / 7.1e-10, 4th order;
* solve time about 1.5 s on one CPU core.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: internal ETDRK4 steps per output interval of the NLS reference grid
NLS_SUBSTEPS = 64
#: ... of the Allen-Cahn reference grid
AC_SUBSTEPS = 16
#: ... of the KdV reference grid
KDV_SUBSTEPS = 64


def etdrk4_coefficients(lin_dt: np.ndarray, dt: float, contour_points: int = 32):
    """ETDRK4 coefficients for the diagonal linear part, z = L dt.

        E  = e^z,  E2 = e^(z/2)
        Q  = dt (e^(z/2) - 1) / z
        f1 = dt (-4 - z + e^z (4 - 3 z + z^2)) / z^3
        f2 = dt ( 2 + z + e^z (-2 + z)) / z^3
        f3 = dt (-4 - 3 z - z^2 + e^z (4 - z)) / z^3

    The quotients cancel catastrophically for small |z|, so each is replaced
    by its mean over a circle of radius 1 around z (Cauchy integral formula),
    z + r_m, r_m = exp(2 pi i (m - 1/2) / M), m = 1..M. L may be complex, so
    the full circle is used (Kassam & Trefethen take the real part of a half
    circle, valid only for real L).
    """
    r = np.exp(2j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    z = lin_dt[:, None] + r[None, :]
    ez = np.exp(z)
    Q = dt * np.mean((np.exp(z / 2) - 1) / z, axis=1)
    f1 = dt * np.mean((-4 - z + ez * (4 - 3 * z + z**2)) / z**3, axis=1)
    f2 = dt * np.mean((2 + z + ez * (z - 2)) / z**3, axis=1)
    f3 = dt * np.mean((-4 - 3 * z - z**2 + ez * (4 - z)) / z**3, axis=1)
    return np.exp(lin_dt), np.exp(lin_dt / 2), Q, f1, f2, f3


def etdrk4(
    v: np.ndarray,
    lin: np.ndarray,
    nonlin: Callable[[np.ndarray], np.ndarray],
    dt: float,
    n_out: int,
    substeps: int,
    contour_points: int = 32,
) -> np.ndarray:
    """Integrate v' = lin * v + nonlin(v) from t = 0; returns v at t = j * substeps * dt,
    j = 0..n_out, stacked as (n_out + 1, len(v)).

    One step (Cox & Matthews 2002, eqs. 26-29):
        a = E2 v + Q N(v)
        b = E2 v + Q N(a)
        c = E2 a + Q (2 N(b) - N(v))
        v <- E v + f1 N(v) + 2 f2 (N(a) + N(b)) + f3 N(c)
    """
    E, E2, Q, f1, f2, f3 = etdrk4_coefficients(lin * dt, dt, contour_points)
    out = np.empty((n_out + 1, v.size), dtype=complex)
    out[0] = v
    for j in range(1, n_out + 1):
        for _ in range(substeps):
            Nv = nonlin(v)
            a = E2 * v + Q * Nv
            Na = nonlin(a)
            b = E2 * v + Q * Na
            Nb = nonlin(b)
            c = E2 * a + Q * (2 * Nb - Nv)
            Nc = nonlin(c)
            v = E * v + f1 * Nv + 2 * f2 * (Na + Nb) + f3 * Nc
        out[j] = v
    return out


#: ``operators(k) -> (lin, nonlin)``: the diagonal linear symbol and the nonlinear term
#: of v' = lin v + nonlin(v), given the wavenumbers k (Nyquist mode k = -N/2 kept)
Operators = Callable[[np.ndarray], tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]]


def solve_fourier(
    u0: Callable[[np.ndarray], np.ndarray],
    operators: Operators,
    *,
    x_min: float,
    length: float,
    n_modes: int,
    t_end: float,
    n_out: int,
    substeps: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve d/dt v = L v + N(v) for v = FFT(u) on [x_min, x_min + length) periodic.

    ``u0`` maps the grid x_j = x_min + length j / n_modes to u(0, x_j);
    ``operators`` builds (L, N) from the wavenumbers k = 2 pi / length *
    [0, 1, ..., N/2 - 1, -N/2, ..., -1]. Output times t_k = k t_end / n_out,
    k = 0..n_out, with ``substeps`` ETDRK4 steps of dt = t_end / (n_out substeps)
    between them. Returns ``(x, t, u)``, u complex of shape (n_out + 1, n_modes), i.e. (t, x).
    """
    x = x_min + length * np.arange(n_modes) / n_modes
    t = t_end * np.arange(n_out + 1) / n_out
    k = 2 * np.pi / length * np.fft.fftfreq(n_modes, d=1.0 / n_modes)
    lin, nonlin = operators(k)
    v0 = np.fft.fft(np.asarray(u0(x), dtype=complex))
    dt = t_end / (n_out * substeps)
    u = np.fft.ifft(etdrk4(v0, lin.astype(complex), nonlin, dt, n_out, substeps), axis=1)
    return x, t, u


def odd_wavenumbers(k: np.ndarray) -> np.ndarray:
    """k with the Nyquist mode zeroed, for odd derivatives of a real field: (i k)^odd
    at k = -N/2 would have no partner +N/2 and make the field complex."""
    k = k.copy()
    if k.size % 2 == 0:
        k[k.size // 2] = 0.0
    return k


def solve_nls(
    h0: Callable[[np.ndarray], np.ndarray],
    *,
    x_min: float = -5.0,
    length: float = 10.0,
    n_modes: int = 256,
    t_end: float = np.pi / 2,
    n_out: int = 200,
    substeps: int = NLS_SUBSTEPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve i h_t + 0.5 h_xx + |h|^2 h = 0 on [x_min, x_min + length) periodic.

    Arguments as in :func:`solve_fourier`; returns ``(x, t, h)`` with h of shape
    (n_out + 1, n_modes), complex, i.e. (t, x).
    """

    def operators(k):
        def nonlin(v):  # i |h|^2 h, not dealiased
            h = np.fft.ifft(v)
            return 1j * np.fft.fft(np.abs(h) ** 2 * h)

        return -0.5j * k**2, nonlin  # 0.5 h_xx -> -0.5 k^2, times i

    return solve_fourier(
        h0, operators, x_min=x_min, length=length, n_modes=n_modes, t_end=t_end, n_out=n_out, substeps=substeps
    )


def solve_allen_cahn(
    u0: Callable[[np.ndarray], np.ndarray],
    *,
    eps: float = 1e-4,
    a: float = 5.0,
    x_min: float = -1.0,
    length: float = 2.0,
    n_modes: int = 512,
    t_end: float = 1.0,
    n_out: int = 200,
    substeps: int = AC_SUBSTEPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve u_t - eps u_xx + a u^3 - a u = 0 on [x_min, x_min + length) periodic.

    L = a - eps k^2 (Nyquist mode k = -N/2 kept), N(v) = -a FFT(u^3), no dealiasing.
    Arguments as in :func:`solve_fourier`; returns ``(x, t, u)``, u real of shape
    (n_out + 1, n_modes).
    """

    def operators(k):
        def nonlin(v):
            return -a * np.fft.fft(np.fft.ifft(v).real ** 3)

        return a - eps * k**2, nonlin

    x, t, u = solve_fourier(
        u0, operators, x_min=x_min, length=length, n_modes=n_modes, t_end=t_end, n_out=n_out, substeps=substeps
    )
    return x, t, u.real


def solve_kdv(
    u0: Callable[[np.ndarray], np.ndarray],
    *,
    delta: float = 0.0025,
    x_min: float = -1.0,
    length: float = 2.0,
    n_modes: int = 512,
    t_end: float = 1.0,
    n_out: int = 200,
    substeps: int = KDV_SUBSTEPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve u_t + u u_x + delta u_xxx = 0 on [x_min, x_min + length) periodic.

    L = i delta k^3, N(v) = -0.5 i k FFT(u^2) (u u_x = (u^2 / 2)_x), the Nyquist
    mode zeroed in these odd derivatives, no dealiasing. Arguments as in
    :func:`solve_fourier`; returns ``(x, t, u)``, u real of shape (n_out + 1, n_modes).
    """

    def operators(k):
        k = odd_wavenumbers(k)

        def nonlin(v):
            return -0.5j * k * np.fft.fft(np.fft.ifft(v).real ** 2)

        return 1j * delta * k**3, nonlin

    x, t, u = solve_fourier(
        u0, operators, x_min=x_min, length=length, n_modes=n_modes, t_end=t_end, n_out=n_out, substeps=substeps
    )
    return x, t, u.real


def build_nls():
    """The NLS reference on the paper's grid: ``(grid, ref, method)`` for the HDF5 writer."""
    n_modes, n_out = 256, 200
    x, t, h = solve_nls(lambda x: 2.0 / np.cosh(x), n_modes=n_modes, n_out=n_out, substeps=NLS_SUBSTEPS)
    grid = {"t": t, "x": x}
    ref = {"u": h.real.copy(), "v": h.imag.copy(), "h_abs": np.abs(h)}
    method = (
        f"Fourier pseudo-spectral, {n_modes} modes on [-5,5) periodic, no dealiasing; "
        f"ETDRK4 (Cox-Matthews, Kassam-Trefethen contour phi-functions), "
        f"dt = (pi/2)/{n_out * NLS_SUBSTEPS}"
    )
    return grid, ref, method


def build_allen_cahn():
    """The Allen-Cahn reference on AC.mat's grid: ``(grid, ref, method)`` for the HDF5 writer."""
    n_modes, n_out = 512, 200
    x, t, u = solve_allen_cahn(lambda x: x**2 * np.cos(np.pi * x), n_modes=n_modes, n_out=n_out, substeps=AC_SUBSTEPS)
    method = (
        f"Fourier pseudo-spectral, {n_modes} modes on [-1,1) periodic, no dealiasing; "
        f"ETDRK4 (Cox-Matthews, Kassam-Trefethen contour phi-functions), "
        f"dt = 1/{n_out * AC_SUBSTEPS}"
    )
    return {"t": t, "x": x}, {"u": u}, method


def build_kdv():
    """The KdV reference on KdV.mat's grid: ``(grid, ref, method)`` for the HDF5 writer."""
    n_modes, n_out = 512, 200
    x, t, u = solve_kdv(lambda x: np.cos(np.pi * x), n_modes=n_modes, n_out=n_out, substeps=KDV_SUBSTEPS)
    method = (
        f"Fourier pseudo-spectral, {n_modes} modes on [-1,1) periodic, no dealiasing; "
        f"ETDRK4 (Cox-Matthews, Kassam-Trefethen contour phi-functions), "
        f"dt = 1/{n_out * KDV_SUBSTEPS}"
    )
    return {"t": t, "x": x}, {"u": u}, method
