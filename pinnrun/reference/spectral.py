"""Fourier pseudo-spectral solvers with ETDRK4 time stepping.

Nonlinear Schrödinger equation (Raissi et al. 2019, Sec. 3.1.1)::

    i h_t + 0.5 h_xx + |h|^2 h = 0,   x in [-5, 5) periodic,  t in [0, pi/2],
    h(0, x) = 2 sech(x).

In Fourier space (h_hat_k = FFT(h)_k, d/dx -> i k) this is the stiff
semilinear system

    d/dt h_hat = L h_hat + N(h_hat),   L = -0.5 i k^2,   N = i FFT(|h|^2 h),

integrated with ETDRK4 (Cox & Matthews 2002) whose phi-functions are
evaluated by contour integrals (Kassam & Trefethen 2005).

Conventions chosen to agree with Chebfun (which produced the published
``NLS.mat``): 256 points x_j = -5 + 10 j / 256, no dealiasing, and the Nyquist
mode keeps its wavenumber k = -N/2 (2 pi / length) in k^2 (zeroing it instead
leaves a 4.7e-6 discrepancy).

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
"""
from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

#: internal ETDRK4 steps per output interval of the NLS reference grid
NLS_SUBSTEPS = 64


def etdrk4_coefficients(lin_dt: np.ndarray, dt: float, contour_points: int = 32):
    """ETDRK4 coefficients for the diagonal linear part, z = L dt.

        E  = e^z,  E2 = e^(z/2)
        Q  = dt (e^(z/2) - 1) / z
        f1 = dt (-4 - z + e^z (4 - 3 z + z^2)) / z^3
        f2 = dt ( 2 + z + e^z (-2 + z)) / z^3
        f3 = dt (-4 - 3 z - z^2 + e^z (4 - z)) / z^3

    The quotients cancel catastrophically for small |z|, so each is replaced
    by its mean over a circle of radius 1 around z (Cauchy integral formula),
    z + r_m, r_m = exp(2 pi i (m - 1/2) / M), m = 1..M. L is complex here, so
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


def etdrk4(v: np.ndarray, lin: np.ndarray, nonlin: Callable[[np.ndarray], np.ndarray],
           dt: float, n_out: int, substeps: int, contour_points: int = 32) -> np.ndarray:
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


def solve_nls(h0: Callable[[np.ndarray], np.ndarray], *, x_min: float = -5.0,
              length: float = 10.0, n_modes: int = 256, t_end: float = np.pi / 2,
              n_out: int = 200, substeps: int = NLS_SUBSTEPS,
              ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve i h_t + 0.5 h_xx + |h|^2 h = 0 on [x_min, x_min + length) periodic.

    ``h0`` maps the grid x_j = x_min + length j / n_modes to h(0, x_j).
    Output times t_k = k t_end / n_out, k = 0..n_out, with ``substeps`` ETDRK4
    steps of dt = t_end / (n_out substeps) between them. Returns ``(x, t, h)``
    with h of shape (n_out + 1, n_modes), complex, i.e. (t, x).
    """
    x = x_min + length * np.arange(n_modes) / n_modes
    t = t_end * np.arange(n_out + 1) / n_out
    # k = 2 pi / length * [0, 1, ..., N/2 - 1, -N/2, ..., -1]; the Nyquist mode keeps -N/2
    k = 2 * np.pi / length * np.fft.fftfreq(n_modes, d=1.0 / n_modes)
    lin = -0.5j * k**2                                   # 0.5 h_xx -> -0.5 k^2, times i

    def nonlin(v):                                       # i |h|^2 h, not dealiased
        h = np.fft.ifft(v)
        return 1j * np.fft.fft(np.abs(h) ** 2 * h)

    v0 = np.fft.fft(np.asarray(h0(x), dtype=complex))
    dt = t_end / (n_out * substeps)
    h = np.fft.ifft(etdrk4(v0, lin, nonlin, dt, n_out, substeps), axis=1)
    return x, t, h


def build_nls():
    """The NLS reference on the paper's grid: ``(grid, ref, method)`` for the HDF5 writer."""
    n_modes, n_out = 256, 200
    x, t, h = solve_nls(lambda x: 2.0 / np.cosh(x), n_modes=n_modes, n_out=n_out,
                        substeps=NLS_SUBSTEPS)
    grid = {"t": t, "x": x}
    ref = {"u": h.real.copy(), "v": h.imag.copy(), "h_abs": np.abs(h)}
    method = (f"Fourier pseudo-spectral, {n_modes} modes on [-5,5) periodic, no dealiasing; "
              f"ETDRK4 (Cox-Matthews, Kassam-Trefethen contour phi-functions), "
              f"dt = (pi/2)/{n_out * NLS_SUBSTEPS}")
    return grid, ref, method
