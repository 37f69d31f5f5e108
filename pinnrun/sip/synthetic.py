"""The two-dimensional sin/linear example of scale-invariant physics training (Holl, Koltun &
Thuerey, NeurIPS 2022, sec. 4 "Characterization of SIP training"), as the authors' code sets it
up (github.com/tum-pbs/SIP, sin_characterization/train_sin.py, commit 8d4e9f3):

    P(x) = (sin(c / xi * x_hat_1),  c xi x_hat_2),   x_hat = R(phi) x,

c = ``scale`` (``global_scale = 10.``, train_sin.py:25), xi the conditioning
(``ill_conditioning``, :23), R the counter-clockwise rotation by phi (``angle = 45`` degrees,
:24; ``process``, :30-35: rotate, multiply by (c / xi, c xi), sin of the first component).
xi lives inside the simulator: the targets do not change with it, the solutions do (their
x_hat_1 spacing grows as xi, their x_hat_2 shrinks as 1 / xi).

Targets y* are drawn uniform on the box ``domain`` ([-1, 1]^2: train_sin.py:102) and given to
the network as they are. P is many-to-one: every y* in the box has the solutions

    c / xi * x_hat_1 in {asin y*_1 + 2 pi n} u {pi - asin y*_1 + 2 pi n},  c xi x_hat_2 = y*_2,

and a prediction is measured against the nearest of them (``closest_solution``, :45-64).

The local inverse is the authors' Newton step (sin_characterization/newton.py:6-43) on
l(x) = 1/2 |P(x) - y_target|^2: in the eigenbasis (lambda_i, v_i) of the Hessian, the step
along v_i is -g_i / |lambda_i| (towards a minimum whatever the curvature's sign); with
``max_loss_change`` = m > 0 it is capped at m / |g_i| (first-order loss change <= m) in every
direction except that of an eigenvalue above the geometric mean of the |lambda| (the strongly
curved one, which keeps its full step). 0 turns the cap off. The network trains on the L1
proxy loss mean |x - x_tilde|_1 (train_sin.py:112; ``proxy``).
"""

from __future__ import annotations

import math

import torch
from torch.func import grad, jacrev, vmap

from pinnrun.config import ConfigError
from pinnrun.sip import PROXIES, Inversion


class SipSynthetic(Inversion):
    variables = ("y1", "y2")  # the box the targets y* are drawn from
    # train_sin.py: ill_conditioning 10 (:23), angle 45 degrees (:24), global_scale 10 (:25),
    # newton_minimization(..., max_loss_change=0.2) (:111), math.l1_loss proxy (:112)
    params = {"xi": 10.0, "phi": math.pi / 4, "scale": 10.0, "max_loss_change": 0.2, "proxy": "l1"}
    x_dim = y_dim = 2

    def __init__(self, domain, params=None):
        super().__init__(domain, params)
        self.proxy = str(self.p["proxy"])
        if self.proxy not in PROXIES:
            raise ConfigError(f"equation.params.proxy={self.proxy}: unknown (choose from: {', '.join(PROXIES)})")
        for key in ("xi", "scale"):
            if not float(self.p[key]) > 0:
                raise ConfigError(f"equation.params.{key} must be positive, got {self.p[key]}")
        if not float(self.p["max_loss_change"]) >= 0:
            raise ConfigError(
                f"equation.params.max_loss_change must be >= 0 (0: no cap), got {self.p['max_loss_change']}"
            )
        lo, hi = self.domain["y1"]
        if not -1.0 <= lo < hi <= 1.0:  # sin's range: every target must have a solution
            raise ConfigError(f"equation.domain.y1 must lie within [-1, 1] (the range of sin), got [{lo}, {hi}]")

    def rotation(self, dtype, device) -> torch.Tensor:
        c, s = math.cos(self.p["phi"]), math.sin(self.p["phi"])
        return torch.tensor([[c, -s], [s, c]], dtype=dtype, device=device)

    def stretch(self) -> tuple[float, float]:
        """(c / xi, c xi): the factors of x_hat_1 and x_hat_2 inside P."""
        c, xi = float(self.p["scale"]), float(self.p["xi"])
        return c / xi, c * xi

    def simulate(self, x: torch.Tensor, rotation: torch.Tensor | None = None) -> torch.Tensor:
        a, b = self.stretch()
        r = self.rotation(x.dtype, x.device) if rotation is None else rotation
        xh = x @ r.T  # x_hat = R x
        return torch.stack([torch.sin(a * xh[..., 0]), b * xh[..., 1]], -1)  # (sin(c/xi x_hat_1), c xi x_hat_2)

    def local_inverse(self, x: torch.Tensor, y: torch.Tensor, y_target: torch.Tensor) -> torch.Tensor:
        r = self.rotation(x.dtype, x.device)  # made outside the transforms

        def misfit(xs, yt):  # l(x) = 1/2 |P(x) - y_target|^2
            return 0.5 * (self.simulate(xs, r) - yt).pow(2).sum()

        g = vmap(grad(misfit))(x, y_target)
        h = vmap(jacrev(grad(misfit)))(x, y_target)
        lam, v = torch.linalg.eigh(h)  # h = V diag(lam) V^T
        g_e = (v.transpose(-1, -2) @ g.unsqueeze(-1)).squeeze(-1)  # g in the eigenbasis
        # |lambda| kept above rounding level where the problem is locally flat (the authors'
        # divide_no_nan gives 0 there; an exact zero only)
        curv = lam.abs().clamp_min(torch.finfo(lam.dtype).eps * lam.abs().amax(-1, keepdim=True))
        size = g_e.abs() / curv  # |newton step| along each eigenvector
        m = float(self.p["max_loss_change"])
        if m > 0:  # newton.py:31-38
            mean = lam.abs().prod(-1, keepdim=True) ** (1.0 / lam.shape[-1])  # S_avg, geometric mean of |lambda|
            cap = m / g_e.abs().clamp_min(torch.finfo(g_e.dtype).tiny)  # m / |g_i|
            size = torch.where(lam > mean, size, torch.minimum(size, cap))
        step = -torch.sign(g_e) * size  # descending along every eigenvector
        return x + (v @ step.unsqueeze(-1)).squeeze(-1)

    def solutions(self, y_star: torch.Tensor, u1: torch.Tensor) -> torch.Tensor:
        """x with P(x) = y*: the solution whose c / xi * x_hat_1 is the one nearest ``u1`` (the
        authors' closest_solution, train_sin.py:45-64: both branches of asin, nearest 2 pi n)."""
        a, b = self.stretch()
        s1 = torch.asin(y_star[..., 0])  # in [-pi/2, pi/2]
        s2 = math.pi - s1
        n1 = torch.round((u1 - s1) / (2 * math.pi))
        n2 = torch.round((u1 - s2) / (2 * math.pi))
        c1, c2 = s1 + 2 * math.pi * n1, s2 + 2 * math.pi * n2
        u = torch.where((u1 - c1).abs() < (u1 - c2).abs(), c1, c2)
        x_hat = torch.stack([u / a, y_star[..., 1] / b], -1)
        return x_hat @ self.rotation(x_hat.dtype, x_hat.device)  # x = R^T x_hat

    def nearest_solution(self, x: torch.Tensor, y_star: torch.Tensor) -> torch.Tensor:
        """The solution of P(x') = y* nearest x (Euclidean, in x): x_hat_2 is fixed by y*_2,
        so the nearest is the one nearest in x_hat_1."""
        a, _ = self.stretch()
        u1 = a * (x @ self.rotation(x.dtype, x.device).T)[..., 0]
        return self.solutions(y_star, u1)

    def reference(self, x: torch.Tensor, y_star: torch.Tensor, x_star: torch.Tensor) -> torch.Tensor:
        return self.nearest_solution(x, y_star)

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """y* uniform on the box (train_sin.py:102), and its principal solution (asin branch, n = 0)."""
        lo = torch.tensor([self.domain[v][0] for v in self.variables], dtype=torch.float64)
        hi = torch.tensor([self.domain[v][1] for v in self.variables], dtype=torch.float64)
        y_star = lo + (hi - lo) * torch.rand(n, 2, generator=generator, dtype=torch.float64)
        return y_star, self.solutions(y_star, torch.asin(y_star[:, 0]))
