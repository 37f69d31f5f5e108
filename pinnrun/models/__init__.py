"""Networks. ``build_model`` is the one entry point the tasks use.

Every model maps physical inputs (N, d) to outputs (N, out_dim), first
normalising inputs to [-1, 1] with the domain bounds it was built with.
The model config arrives validated (:func:`pinnrun.config.validate`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from pinnrun.config import ModelConfig, ModelKind
from pinnrun.models.activations import AdaptiveActivation, activation_names, get_activation, slope_recovery
from pinnrun.models.mlp import MLP, ModifiedMLP
from pinnrun.models.mscale import build_mscale

__all__ = [
    "AdaptiveActivation",
    "activation_names",
    "build_model",
    "count_parameters",
    "get_activation",
    "slope_recovery",
    "weight_layers",
]


def build_model(cfg: ModelConfig, lower: Sequence[float], upper: Sequence[float], out_dim: int) -> nn.Module:
    """The network named by ``cfg.name`` for inputs in [lower, upper] and ``out_dim`` outputs."""
    assert out_dim >= 1, f"a model needs at least one output, got {out_dim}"
    build = {ModelKind.mlp: MLP, ModelKind.modified_mlp: ModifiedMLP, ModelKind.mscale: build_mscale}[cfg.name]
    return build(cfg, lower, upper, out_dim)


def weight_layers(model: nn.Module) -> list[nn.Linear]:
    """The layers whose weight matrices grad-norm's per-layer statistics take: every linear layer,
    or what the model names (the modified MLP: not its encoders, as its authors' code)."""
    if isinstance(model, ModifiedMLP):
        return model.weight_layers()
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
