"""What every model can put around its layers (Wang, Wang & Perdikaris 2023, "An expert's guide
to training physics-informed neural networks", sec. 5-6; the same choices as jaxpi's archs.py):

- :class:`InputMap`: the inputs normalised to [-1, 1], then an exact periodic embedding of chosen
  variables, x_hat -> (cos(pi x_hat), sin(pi x_hat)), so that the network is periodic in them with
  the domain's length as the period, or a learned one, v -> (cos(w v), sin(w v)) with w trained
  (jaxpi's trainable period, used for time in its advection example), then random Fourier
  features [cos(z B), sin(z B)] with B drawn N(0, s^2) and trained (Tancik et al. 2020; Wang, Wang & Perdikaris 2021).
- :class:`FactorizedLinear`: random weight factorisation, W = diag(g) V with g = exp(s), s drawn
  N(mean, std^2) per output neuron and V = W_init / g, so the network starts as initialised; g and
  V are the trained parameters, as jaxpi's archs.py stores and trains them (``kernel = g * v``;
  the guide's sec. 6.1 writes W = diag(exp(s)) V).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from pinnrun.config import ConfigError, InputScaling, ModelConfig
from pinnrun.derivatives import Jet
from pinnrun.models.taylor import sin_cos


class Normalize(nn.Module):
    """Affine map of physical coordinates onto [-1, 1] per input variable:

        x_hat = gain * (2 (x - lower) / (upper - lower) - 1)

    ``gain`` 1 (``model.inputs=bounds``), or sqrt(3) (``standard``: x_hat has mean 0 and standard
    deviation 1 over the domain, the uniform distribution's (upper - lower) / sqrt(12)); ``gain``
    None (``none``): x_hat = x, the coordinates as they are.
    ``lower``/``upper`` are buffers: saved in the state_dict and moved by
    ``.to(device, dtype)``. The bounds are the problem's (config.validate checks
    equation.domain).
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float], gain: float | None = 1.0):
        super().__init__()
        self.gain = None if gain is None else float(gain)
        lo = [float(v) for v in lower]
        hi = [float(v) for v in upper]
        assert lo and len(lo) == len(hi) and all(a < b for a, b in zip(lo, hi)), f"bad bounds {lo}, {hi}"
        # in float64, whatever dtype the network is built in: ``.to(dtype)`` then gives a float64
        # network the bounds unrounded (x = 2 pi exactly at the top of a periodic variable)
        self.register_buffer("lower", torch.tensor(lo, dtype=torch.float64))
        self.register_buffer("upper", torch.tensor(hi, dtype=torch.float64))

    @property
    def in_dim(self) -> int:
        return self.lower.numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gain is None:
            return x
        lo, hi = self.lower.to(x.dtype), self.upper.to(x.dtype)  # a no-op once the model has x's dtype
        x_hat = 2.0 * (x - lo) / (hi - lo) - 1.0  # in [-1, 1]
        return x_hat if self.gain == 1.0 else self.gain * x_hat

    def jet(self, jet: Jet) -> Jet:
        if self.gain is None:
            return jet
        c = (self.gain * 2.0 / (self.upper - self.lower)).to(jet.value.dtype)  # x_hat = c (x - lower) - gain
        return jet.map(lambda s: s * c, lambda s: Normalize.forward(self, s))


class InputMap(Normalize):
    """x -> x_hat = Normalize(x) -> periodic embedding of the columns ``periodic`` -> Fourier
    features (``features`` of them, 0: none). ``width`` is the number of columns it gives."""

    def __init__(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        periodic: Sequence[int] = (),
        features: int = 0,
        scale: float = 1.0,
        learned: dict[int, float] | None = None,
        gain: float | None = 1.0,
    ):
        super().__init__(lower, upper, gain)
        d = self.in_dim
        learned = dict(learned or {})
        self.periodic = sorted(periodic)  # column indices (lists: tensor indexing)
        self.learned = sorted(learned)
        self.plain = [i for i in range(d) if i not in self.periodic and i not in learned]
        # a learned period: (cos, sin)(w v) of the physical v = c1 x_hat + c0, w trained
        self.omega = nn.Parameter(torch.tensor([float(learned[i]) for i in self.learned])) if learned else None
        embedded = len(self.plain) + 2 * (len(self.periodic) + len(self.learned))
        self.fourier = None
        if features:
            self.fourier = nn.Parameter(torch.randn(embedded, features // 2) * scale)
        self.width = 2 * (features // 2) if features else embedded

    def half_widths(self) -> tuple[torch.Tensor, torch.Tensor]:
        """c1 = (upper - lower) / 2 and c0 = (upper + lower) / 2 of the learned-period columns."""
        lo, hi = self.lower[self.learned], self.upper[self.learned]
        return (hi - lo) / 2, (hi + lo) / 2

    def embed(self, x_hat: torch.Tensor) -> torch.Tensor:
        """The embeddings of normalised inputs."""
        z = x_hat
        if self.periodic or self.learned:
            angles = []
            if self.periodic:
                angles.append(math.pi * x_hat[:, self.periodic])
            if self.learned:
                c1, c0 = (c.to(x_hat.dtype) for c in self.half_widths())
                angles.append(self.omega * (c1 * x_hat[:, self.learned] + c0))
            a = torch.cat(angles, dim=1)
            z = torch.cat([x_hat[:, self.plain], torch.cos(a), torch.sin(a)], dim=1)
        if self.fourier is not None:
            zb = z @ self.fourier
            z = torch.cat([torch.cos(zb), torch.sin(zb)], dim=1)
        return z

    def embed_jet(self, jet: Jet) -> Jet:
        """The jet of :meth:`embed`."""
        if self.periodic or self.learned:
            angles = []
            if self.periodic:
                angles.append(jet.map(lambda s: math.pi * s[..., self.periodic]))
            if self.learned:  # w (c1 x_hat + c0): c0 in the value only
                c1, c0 = (c.to(jet.value.dtype) for c in self.half_widths())
                w = self.omega
                angles.append(
                    jet.map(lambda s: w * c1 * s[..., self.learned], lambda s: w * (c1 * s[..., self.learned] + c0))
                )
            sin, cos = sin_cos(Jet.cat(angles) if len(angles) > 1 else angles[0])
            jet = Jet.cat([jet.map(lambda s: s[..., self.plain]), cos, sin])
        if self.fourier is not None:
            sin, cos = sin_cos(jet.map(lambda s: s @ self.fourier))
            jet = Jet.cat([cos, sin])
        return jet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(super().forward(x))

    def jet(self, jet: Jet) -> Jet:
        return self.embed_jet(super().jet(jet))


def input_map(cfg: ModelConfig, lower: Sequence[float], upper: Sequence[float], variables: Sequence[str]) -> InputMap:
    """The model's :class:`InputMap` from ``model.periodic``, ``fourier_features``, ``fourier_scale``."""
    for key, named in (("model.periodic", cfg.periodic), ("model.learned_periods", cfg.learned_periods)):
        unknown = [v for v in named if v not in variables]
        if unknown:
            raise ConfigError(
                f"{key}: {unknown} are not input variables (this problem has: {', '.join(variables) or 'none'})"
            )
    if cfg.fourier_features < 0 or cfg.fourier_features % 2:
        raise ConfigError(f"model.fourier_features must be an even number >= 0, got {cfg.fourier_features}")
    if cfg.fourier_features and cfg.fourier_scale <= 0:
        raise ConfigError(f"model.fourier_scale must be positive, got {cfg.fourier_scale}")
    both = sorted(set(cfg.periodic) & set(cfg.learned_periods))
    if both:
        raise ConfigError(f"model.periodic and model.learned_periods both name {both}: give each variable one period")
    if any(w <= 0 for w in cfg.learned_periods.values()):
        raise ConfigError(
            f"model.learned_periods: angular frequencies must be positive, got {dict(cfg.learned_periods)}"
        )
    if cfg.inputs is not InputScaling.bounds and (cfg.periodic or cfg.learned_periods):
        onto = "onto [-sqrt(3), sqrt(3)]" if cfg.inputs is InputScaling.standard else "as they are"
        raise ConfigError(
            f"model.inputs={cfg.inputs.value} gives the network the inputs {onto}; the periodic embeddings "
            "(model.periodic, model.learned_periods) take them on [-1, 1]: use model.inputs=bounds"
        )
    index = list(variables).index
    periodic = [index(v) for v in cfg.periodic]
    learned = {index(v): w for v, w in cfg.learned_periods.items()}
    gain = {InputScaling.bounds: 1.0, InputScaling.standard: math.sqrt(3.0), InputScaling.none: None}[cfg.inputs]
    return InputMap(lower, upper, periodic, cfg.fourier_features, cfg.fourier_scale, learned, gain)


class FactorizedLinear(nn.Module):
    """y = x W^T + b with W = diag(g) V: ``g`` (out,) and ``v`` (out, in) are the parameters, g drawn
    exp(N(mean, std^2)). jaxpi trains g itself; training s = log g instead (pinnrun before 0.3)
    moves the scales by a different rule under Adam, and keeps them positive, which g need not stay.
    A state dict of that parametrisation (``s``) loads as g = exp(s)."""

    def __init__(self, layer: nn.Linear, mean: float, std: float):
        super().__init__()
        w = layer.weight.detach()
        g = torch.exp(mean + std * torch.randn(w.shape[0], dtype=w.dtype, device=w.device))
        self.g = nn.Parameter(g)
        self.v = nn.Parameter(w / g[:, None])
        self.bias = layer.bias
        self.in_features, self.out_features = layer.in_features, layer.out_features

    @property
    def weight(self) -> torch.Tensor:
        return self.g[:, None] * self.v

    def set_weight(self, w: torch.Tensor) -> None:
        """Makes W = ``w`` (g kept)."""
        with torch.no_grad():
            self.v.copy_(w / self.g[:, None])

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if prefix + "s" in state_dict and prefix + "g" not in state_dict:  # saved by pinnrun 0.2
            state_dict[prefix + "g"] = torch.exp(state_dict.pop(prefix + "s"))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)

    def jet(self, jet: Jet) -> Jet:
        w = self.weight  # W a + b for the value, W a_S for each partial
        return jet.map(lambda s: s @ w.T, lambda s: F.linear(s, w, self.bias))


class Kernel(nn.Linear):
    """A linear layer without bias that weight factorisation leaves as it is: PirateNet's output
    layer under physics-informed initialisation, a plain kernel in jaxpi (archs.py: ``pi_init``)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features, bias=False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if prefix + "bias" in state_dict:  # pinnrun 0.2 gave this layer a trained bias
            raise ConfigError(
                f"the checkpoint's '{prefix}bias' belongs to PirateNet's output layer as pinnrun 0.2 built it "
                "(with a bias; now a kernel without one, as jaxpi's pi_init): load it with pinnrun 0.2 "
                "(CHANGELOG.md)"
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def factorize(model: nn.Module, mean: float, std: float) -> None:
    """Every ``nn.Linear`` of ``model`` but a :class:`Kernel` replaced by its :class:`FactorizedLinear`
    (same function)."""
    for name, child in list(model.named_children()):
        if isinstance(child, Kernel):
            continue
        if isinstance(child, nn.Linear):
            setattr(model, name, FactorizedLinear(child, mean, std))
        else:
            factorize(child, mean, std)


def set_weight(layer: nn.Module, w: torch.Tensor) -> None:
    """The weight matrix of a linear layer, factorised or not, made ``w``."""
    if isinstance(layer, FactorizedLinear):
        layer.set_weight(w)
    else:
        with torch.no_grad():
            layer.weight.copy_(w)


__all__ = ["FactorizedLinear", "InputMap", "Kernel", "Normalize", "factorize", "input_map", "set_weight"]
