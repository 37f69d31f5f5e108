"""Networks. ``build_model`` is the one entry point the tasks use.

Every model maps physical inputs (N, d) to outputs (N, out_dim), first
normalising inputs to [-1, 1] with the domain bounds it was built with and embedding
them (:class:`~pinnrun.models.embeddings.InputMap`); with ``model.factorize`` every
linear layer is factorised (:class:`~pinnrun.models.embeddings.FactorizedLinear`).
The model config arrives validated (:func:`pinnrun.config.validate`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from pinnrun.config import ModelConfig, ModelKind
from pinnrun.models.activations import AdaptiveActivation, activation_names, get_activation, slope_recovery
from pinnrun.models.constrained import HardConstrained
from pinnrun.models.embeddings import FactorizedLinear, factorize, input_map
from pinnrun.models.mlp import MLP, ModifiedMLP
from pinnrun.models.mscale import build_mscale
from pinnrun.models.pirate import PirateNet

__all__ = [
    "AdaptiveActivation",
    "activation_names",
    "build_model",
    "count_parameters",
    "get_activation",
    "slope_recovery",
    "weight_layers",
    "weight_parameters",
]


def build_model(
    cfg: ModelConfig, lower: Sequence[float], upper: Sequence[float], out_dim: int, variables: Sequence[str] = ()
) -> nn.Module:
    """The network named by ``cfg.name`` for inputs in [lower, upper] (named ``variables``, for
    ``model.periodic``) and ``out_dim`` outputs."""
    assert out_dim >= 1, f"a model needs at least one output, got {out_dim}"
    build = {
        ModelKind.mlp: MLP,
        ModelKind.modified_mlp: ModifiedMLP,
        ModelKind.pirate: PirateNet,
        ModelKind.mscale: build_mscale,
    }[cfg.name]
    model = build(cfg, input_map(cfg, lower, upper, variables), out_dim)
    if cfg.factorize:
        factorize(model, cfg.factorize_mean, cfg.factorize_std)
    return model


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The linear layers whose weights grad-norm's per-layer statistics take: every one, or what
    the model names (the modified MLP: not its encoders, as its authors' code)."""
    if isinstance(model, HardConstrained):  # model.hard_constraints: the wrapped network's
        model = model.net
    if isinstance(model, ModifiedMLP):
        return model.weight_layers()
    return [m for m in model.modules() if isinstance(m, (nn.Linear, FactorizedLinear))]


def weight_parameters(layer: nn.Module) -> list[nn.Parameter]:
    """The parameters of a linear layer's weight matrix: W, or g and V of W = diag(g) V."""
    return [layer.g, layer.v] if isinstance(layer, FactorizedLinear) else [layer.weight]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
