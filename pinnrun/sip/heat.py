"""Recover the initial state of a periodic 1-D heat equation from the state at time T (the
heat example of scale-invariant physics training, Holl, Koltun & Thuerey, NeurIPS 2022):

    u_t = kappa u_ss on s in [0, 2 pi) (periodic),  x = u(0, .),  y = P(x) = u(T, .),

on ``n`` grid points. P is the exact spectral solver: mode k is damped by
g_k = exp(-kappa k^2 T), so the high modes of x are nearly invisible in y and the problem's
conditioning worsens quickly with T. The local inverse is the regularised Fourier inverse of
the step: x_tilde = x + F^-1[ g / (g^2 + reg) F(y_target - y) ] (Tikhonov; exact for the
modes with g^2 >> reg).

States: random smooth initial conditions x = sum_{k=1..modes} (a_k cos ks + b_k sin ks) / k
with a_k, b_k standard normal, drawn once as a data set (``equation.points.data``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pinnrun.sip import Inversion


class SipHeat(Inversion):
    variables = ("s",)
    params = {"T": 0.05, "kappa": 1.0, "n": 64, "modes": 8, "reg": 1e-7}

    def __init__(self, domain, params=None):
        super().__init__(domain, params)
        self.x_dim = self.y_dim = int(self.p["n"])
        lo, hi = self.domain["s"]
        self.length = hi - lo
        self.s = lo + self.length * np.arange(self.x_dim) / self.x_dim
        k = 2 * math.pi / self.length * np.fft.rfftfreq(self.x_dim, d=1.0 / self.x_dim)  # wavenumbers
        self.k = torch.as_tensor(k)

    def damping(self, dtype, device) -> torch.Tensor:
        return torch.exp(-float(self.p["kappa"]) * self.k.to(device, dtype) ** 2 * float(self.p["T"]))  # g_k

    def simulate(self, x: torch.Tensor) -> torch.Tensor:
        g = self.damping(x.dtype, x.device)
        return torch.fft.irfft(torch.fft.rfft(x) * g, n=self.x_dim)  # F^-1[g F(x)]

    def local_inverse(self, x: torch.Tensor, y: torch.Tensor, y_target: torch.Tensor) -> torch.Tensor:
        g = self.damping(x.dtype, x.device)
        inv = g / (g * g + float(self.p["reg"]))  # g / (g^2 + reg)
        return x + torch.fft.irfft(torch.fft.rfft(y_target - y) * inv, n=self.x_dim)

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        modes = int(self.p["modes"])
        k = torch.arange(1, modes + 1, dtype=torch.float64)
        a, b = torch.randn(2, n, modes, generator=generator, dtype=torch.float64) / k
        ks = 2 * math.pi / self.length * k[:, None] * torch.as_tensor(self.s - self.s[0])[None, :]  # (modes, n)
        x = a @ torch.cos(ks) + b @ torch.sin(ks)
        return self.simulate(x), x

    def axes(self, n: int):
        return {"sample": np.arange(n), "s": self.s}
