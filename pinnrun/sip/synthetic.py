"""The two-dimensional example of scale-invariant physics training (Holl, Koltun & Thuerey,
NeurIPS 2022; Physics-Based Deep Learning book, chapter "physgrad-nn"):

    P(x) = (sin(x_hat_1) / xi,  xi * x_hat_2),   x_hat = R(phi) x   (rotation by phi).

xi sets the conditioning (the two outputs scale as 1/xi and xi: gradients in x differ by
xi^4), phi couples the two components. States x* are drawn with x_hat* uniform on the box
``domain`` (|x_hat| <= 1, where sin is one-to-one), targets y* = P(x*), fresh every step.

The local inverse is one saddle-free Newton step per sample on
l(x) = 1/2 |P(x) - y_target|^2:  x_tilde = x - |H|^-1 grad l,  |H| = V |Lambda| V^T
(the absolute eigenvalues of the 2x2 Hessian), via torch.func.
"""

from __future__ import annotations

import math

import torch
from torch.func import grad, jacrev, vmap

from pinnrun.sip import Inversion


class SipSynthetic(Inversion):
    variables = ("x1", "x2")  # the box x_hat* is drawn from
    params = {"xi": 1.0, "phi": math.pi / 8}
    x_dim = y_dim = 2

    def rotation(self, dtype, device) -> torch.Tensor:
        c, s = math.cos(self.p["phi"]), math.sin(self.p["phi"])
        return torch.tensor([[c, -s], [s, c]], dtype=dtype, device=device)

    def simulate(self, x: torch.Tensor, rotation: torch.Tensor | None = None) -> torch.Tensor:
        xi = float(self.p["xi"])
        r = self.rotation(x.dtype, x.device) if rotation is None else rotation
        xh = x @ r.T  # x_hat = R x
        return torch.stack([torch.sin(xh[..., 0]) / xi, xi * xh[..., 1]], -1)

    def local_inverse(self, x: torch.Tensor, y: torch.Tensor, y_target: torch.Tensor) -> torch.Tensor:
        r = self.rotation(x.dtype, x.device)  # made outside the transforms

        def misfit(xs, yt):  # l(x) = 1/2 |P(x) - y_target|^2
            return 0.5 * (self.simulate(xs, r) - yt).pow(2).sum()

        g = vmap(grad(misfit))(x, y_target)
        h = vmap(jacrev(grad(misfit)))(x, y_target)
        lam, v = torch.linalg.eigh(h)
        # saddle-free: |lambda|, kept above rounding level where the problem is locally flat
        lam = lam.abs().clamp_min(torch.finfo(lam.dtype).eps * lam.abs().amax(-1, keepdim=True))
        step = v @ ((v.transpose(-1, -2) @ g.unsqueeze(-1)) / lam.unsqueeze(-1))
        return x - step.squeeze(-1)  # x - |H|^-1 grad l

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        lo = torch.tensor([self.domain[v][0] for v in self.variables], dtype=torch.float64)
        hi = torch.tensor([self.domain[v][1] for v in self.variables], dtype=torch.float64)
        x_hat = lo + (hi - lo) * torch.rand(n, 2, generator=generator, dtype=torch.float64)
        x = x_hat @ self.rotation(torch.float64, "cpu")  # x = R^T x_hat
        return self.simulate(x), x

    def input_bounds(self) -> tuple[list[float], list[float]]:
        xi = float(self.p["xi"])  # the image of the box under P
        (a1, b1), (a2, b2) = (self.domain[v] for v in self.variables)
        return [math.sin(a1) / xi, xi * a2], [math.sin(b1) / xi, xi * b2]
