"""Loss-weighting schemes: one weight per loss term.

The trainer forms ``loss = sum_i w_i * L_i`` with the scheme's current
weights and calls :meth:`Weighting.update` once per first-order step, before
the loss is formed; an adaptive scheme recomputes its weights there from the
model and the per-term residuals (``terms()`` evaluates them on the current
points). Weights are frozen during L-BFGS phases, whose line search needs one
fixed objective. A scheme's state (weights and whatever it smooths) goes into
the checkpoint, so a resumed run continues with the same weights.
"""
from __future__ import annotations

from typing import Callable, Dict, Sequence

import torch

from pinnrun.config import ConfigError, WeightingConfig

TermResiduals = Callable[[], Dict[str, torch.Tensor]]


class Weighting:
    def __init__(self, terms: Sequence[str], cfg: WeightingConfig) -> None:
        self.terms = list(terms)
        self.weights: Dict[str, float] = {t: 1.0 for t in self.terms}

    def update(self, step: int, model: torch.nn.Module, terms: TermResiduals) -> None:
        """Recompute the weights if this scheme adapts them at ``step``."""

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {t: float(state["weights"][t]) for t in self.terms}


class Fixed(Weighting):
    """w_i from ``weighting.weights``; terms not named there get 1."""

    def __init__(self, terms: Sequence[str], cfg: WeightingConfig) -> None:
        super().__init__(terms, cfg)
        unknown = set(cfg.weights) - set(self.terms)
        if unknown:
            raise ConfigError(f"weighting.weights: unknown loss term {sorted(unknown)} "
                              f"(this equation has: {', '.join(self.terms)})")
        for term, w in cfg.weights.items():
            if w < 0:
                raise ConfigError(f"weighting.weights.{term} must be >= 0, got {w}")
            self.weights[term] = float(w)


SCHEMES = {"fixed": Fixed}


def build_weighting(cfg: WeightingConfig, terms: Sequence[str]) -> Weighting:
    if cfg.name not in SCHEMES:
        raise ConfigError(f"weighting.name: unknown scheme '{cfg.name}' (choose from: {', '.join(SCHEMES)})")
    return SCHEMES[cfg.name](terms, cfg)
