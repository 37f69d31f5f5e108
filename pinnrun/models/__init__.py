"""Networks. ``build_model`` is the one entry point the trainer uses.

Every model maps physical inputs (N, d) to outputs (N, out_dim), first
normalising inputs to [-1, 1] with the domain bounds it was built with.
"""
from __future__ import annotations

from typing import Sequence

from torch import nn

from pinnrun.config import ConfigError, ModelConfig, ModelKind
from pinnrun.models.activations import (ACTIVATIONS, AdaptiveActivation, activation_names, get_activation,
                                        slope_recovery)
from pinnrun.models.mlp import MLP, Normalize, init_linear
from pinnrun.models.mscale import MscaleScaled, MscaleSubnets, build_mscale, group_sizes, resolve_scales

__all__ = [
    "ACTIVATIONS",
    "AdaptiveActivation",
    "MLP",
    "MscaleScaled",
    "MscaleSubnets",
    "Normalize",
    "activation_names",
    "build_model",
    "count_parameters",
    "get_activation",
    "group_sizes",
    "init_linear",
    "resolve_scales",
    "slope_recovery",
]


def build_model(
    cfg: ModelConfig, lower: Sequence[float], upper: Sequence[float], out_dim: int
) -> nn.Module:
    """The network named by ``cfg.name`` for inputs in [lower, upper] and ``out_dim`` outputs."""
    try:
        kind = ModelKind(cfg.name)
    except ValueError:
        names = ", ".join(k.value for k in ModelKind)
        raise ConfigError(f"model.name: unknown '{cfg.name}' (choose from: {names})") from None
    if out_dim < 1:
        raise ConfigError(f"model output dimension must be >= 1, got {out_dim}")
    if kind is ModelKind.mlp:
        return MLP(cfg, lower, upper, out_dim)
    return build_mscale(cfg, lower, upper, out_dim)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
