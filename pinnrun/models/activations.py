"""Activation functions by name.

Every activation here is built from torch primitives only, so autograd can
differentiate it twice (PINN residuals take second input derivatives), and
gives its jet (Taylor mode, :class:`Elementwise`) beside its forward.

The compact-support activations ``srelu``, ``s2relu`` and ``phi`` are those of
the MscaleDNN paper: Z. Liu, W. Cai and Z.-Q. J. Xu, "Multi-scale deep neural
network (MscaleDNN) for solving Poisson-Boltzmann equation in complex domains",
Commun. Comput. Phys. 28 (2020).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from pinnrun.config import Adaptive, ConfigError, ModelConfig
from pinnrun.derivatives import Jet
from pinnrun.models.taylor import activation_derivatives, propagate


class Elementwise(nn.Module):
    """An activation s applied entry by entry; its jet by the chain rule from s(a), s'(a), ...,
    s^(n)(a) at the pre-activations a (:func:`~pinnrun.models.taylor.activation_derivatives`)."""

    def jet(self, jet: Jet) -> Jet:
        return jet.apply(activation_derivatives(self, jet.value, jet.order))


class Sin(Elementwise):
    """sin(x)"""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)  # sin(x)

    def derivatives(self, a: torch.Tensor, n: int) -> list[torch.Tensor]:
        """sin^(k)(a) = sin, cos, -sin, -cos (a) for k = 0, 1, 2, 3 (mod 4), k = 0..n."""
        s, c = torch.sin(a), torch.cos(a)
        return [(s, c, -s, -c)[k % 4] for k in range(n + 1)]


class SReLU(Elementwise):
    """sReLU(x) = ReLU(x) * ReLU(1 - x): a bump supported on [0, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) * torch.relu(1.0 - x)  # ReLU(x) * ReLU(1 - x)


class S2ReLU(Elementwise):
    """s2ReLU(x) = sin(2 pi x) * ReLU(x) * ReLU(1 - x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # sin(2 pi x) * ReLU(x) * ReLU(1 - x)
        return torch.sin(2.0 * math.pi * x) * torch.relu(x) * torch.relu(1.0 - x)


class Phi(Elementwise):
    """Quadratic B-spline, supported on [0, 3]:
    phi(x) = ReLU(x)^2 - 3 ReLU(x-1)^2 + 3 ReLU(x-2)^2 - ReLU(x-3)^2."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = torch.relu
        # ReLU(x)^2 - 3 ReLU(x-1)^2 + 3 ReLU(x-2)^2 - ReLU(x-3)^2
        return r(x) ** 2 - 3.0 * r(x - 1.0) ** 2 + 3.0 * r(x - 2.0) ** 2 - r(x - 3.0) ** 2


# name -> factory returning a fresh module
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,  # tanh(x)
    "sin": Sin,  # sin(x)
    "sigmoid": nn.Sigmoid,  # 1 / (1 + exp(-x))
    "relu": nn.ReLU,  # max(0, x)
    "softplus": nn.Softplus,  # log(1 + exp(x))
    "gelu": nn.GELU,  # x * Phi_gauss(x) (exact erf form)
    "silu": nn.SiLU,  # x * sigmoid(x)
    "srelu": SReLU,
    "s2relu": S2ReLU,
    "phi": Phi,
}


class AdaptiveActivation(nn.Module):
    """sigma(n * a * z) with trainable slope(s) a: one per layer (size 1) or one per neuron
    (Jagtap, Kawaguchi & Karniadakis 2020); a starts at 1 / n, so the network starts as the
    plain one, and n scales the slopes' learning rate."""

    def __init__(self, act: nn.Module, size: int, scale: float):
        super().__init__()
        self.act, self.scale = act, float(scale)
        self.slope = nn.Parameter(torch.full((size,), 1.0 / self.scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.scale * self.slope * x)  # sigma(n a z)

    def jet(self, jet: Jet) -> Jet:
        n_a = self.scale * self.slope  # sigma(n a z): every stream times n a
        return propagate(self.act, jet.map(lambda s: s * n_a))


def slope_recovery(model: nn.Module) -> torch.Tensor | None:
    """S(a) = 1 / mean over adaptive layers k of exp(mean slope of layer k); None if none."""
    slopes = [m.slope for m in model.modules() if isinstance(m, AdaptiveActivation)]
    if not slopes:
        return None
    return 1.0 / torch.stack([torch.exp(a.mean()) for a in slopes]).mean()


def activation_factory(cfg: ModelConfig) -> Callable[[int], nn.Module]:
    """width -> a new activation module for ``cfg.activation``, adaptive if ``cfg.adaptive`` says so."""
    if cfg.adaptive is Adaptive.none:
        return lambda width: get_activation(cfg.activation)
    per_neuron = cfg.adaptive is Adaptive.neuron
    # not a rule of config.validate: checked here only
    if not cfg.adaptive_scale > 0:
        raise ConfigError(f"model.adaptive_scale must be positive, got {cfg.adaptive_scale}")
    return lambda width: AdaptiveActivation(
        get_activation(cfg.activation), width if per_neuron else 1, cfg.adaptive_scale
    )


def activation_names() -> list[str]:
    """The registered names, sorted."""
    return sorted(ACTIVATIONS)


def get_activation(name: str) -> nn.Module:
    """A new activation module for ``name``; :class:`ConfigError` if unknown (the one place
    model.activation is checked: the registry lives here, below config)."""
    key = str(name).strip().lower()
    if key not in ACTIVATIONS:
        raise ConfigError(f"model.activation: unknown '{name}' (choose from: {', '.join(activation_names())})")
    return ACTIVATIONS[key]()
