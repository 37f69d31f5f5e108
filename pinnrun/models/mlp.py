"""Plain fully connected network, and the pieces every model shares:
input normalisation to [-1, 1] and weight initialisation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from pinnrun.config import Init, ModelConfig
from pinnrun.models.activations import activation_factory


class Normalize(nn.Module):
    """Affine map of physical coordinates onto [-1, 1] per input variable:

        x_hat = 2 (x - lower) / (upper - lower) - 1

    ``lower``/``upper`` are buffers: saved in the state_dict and moved by
    ``.to(device, dtype)``. The bounds are the problem's (config.validate checks
    equation.domain).
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float]):
        super().__init__()
        lo = [float(v) for v in lower]
        hi = [float(v) for v in upper]
        assert lo and len(lo) == len(hi) and all(a < b for a, b in zip(lo, hi)), f"bad bounds {lo}, {hi}"
        self.register_buffer("lower", torch.tensor(lo, dtype=torch.get_default_dtype()))
        self.register_buffer("upper", torch.tensor(hi, dtype=torch.get_default_dtype()))

    @property
    def in_dim(self) -> int:
        return self.lower.numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2.0 * (x - self.lower) / (self.upper - self.lower) - 1.0  # x_hat in [-1, 1]


#: weight initialisations by name (the bias starts at zero)
INITS: dict[Init, Callable[[torch.Tensor], object]] = {
    Init.xavier_normal: nn.init.xavier_normal_,  # N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
    Init.xavier_uniform: nn.init.xavier_uniform_,  # U(-b, b), b = sqrt(6 / (fan_in + fan_out))
    Init.kaiming_normal: lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),  # s = sqrt(2 / fan_in)
    Init.kaiming_uniform: lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),  # b = sqrt(6 / fan_in)
}


def init_linear(layer: nn.Linear, init: Init) -> None:
    """Initialise ``layer.weight`` by ``init``; bias zero."""
    INITS[init](layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def hidden_widths(cfg: ModelConfig) -> list[int]:
    """The hidden-layer widths: ``cfg.widths``, or ``cfg.depth`` layers of ``cfg.width``."""
    return list(cfg.widths) if cfg.widths is not None else [cfg.width] * cfg.depth


def fully_connected(
    in_dim: int, hidden: Sequence[int], out_dim: int, activation: Callable[[int], nn.Module], init: Init
) -> nn.Sequential:
    """in_dim -> hidden[0] -> ... -> hidden[-1] (``activation(width)`` after each) -> out_dim (linear)."""
    layers: list[nn.Module] = []
    fan_in = in_dim
    for width in hidden:
        lin = nn.Linear(fan_in, width)
        init_linear(lin, init)
        layers += [lin, activation(width)]  # h_{k+1} = sigma(W_k h_k + b_k)
        fan_in = width
    out = nn.Linear(fan_in, out_dim)  # y = W_L h_L + b_L
    init_linear(out, init)
    layers.append(out)
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """u(x) = FCN(x_hat), x_hat = Normalize(x)."""

    def __init__(self, cfg: ModelConfig, lower: Sequence[float], upper: Sequence[float], out_dim: int):
        super().__init__()
        self.norm = Normalize(lower, upper)
        self.net = fully_connected(self.norm.in_dim, hidden_widths(cfg), out_dim, activation_factory(cfg), cfg.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))
