"""Loss-weighting schemes: one weight per loss term.

The trainer forms ``loss = sum_i w_i * L_i`` with the scheme's current
weights and calls :meth:`Weighting.update` once per first-order step, before
the loss is formed; an adaptive scheme recomputes its weights there, every
``weighting.update_every`` steps (step 0 included), from the model and the
loss terms (:class:`TermSource`). New weights are blended in as
``w <- (1 - alpha) w + alpha w_new`` (``alpha = 1``: no smoothing).

During L-BFGS phases the weights are frozen (the line search and the curvature
history need one fixed objective) unless ``weighting.lbfgs_updates=true``:
then the weights are recomputed at every multiple of ``update_every`` and the
L-BFGS history restarts there.

A scheme's state (its weights) goes into the checkpoint, so a resumed run
continues with the same weights.

Schemes:

* ``fixed``: ``weighting.weights``, unchanged.
* ``ntk`` (Wang, Yu & Perdikaris 2022): w_i = sum_j t_j / t_i with
  t_i = tr K_i / n_i, the mean diagonal of term i's neural tangent kernel on a
  random subsample of n_i = min(points, its points) points (pinnrun.ntk). With
  equal n_i, as in the paper, this is the paper's trace ratio sum_j tr K_j /
  tr K_i; the mean keeps a term's weight independent of how many points it has,
  as the loss terms are means. Every term adapts, the residual included.
* ``gradnorm`` (learning-rate annealing, Wang, Teng & Perdikaris 2021,
  eq. 40): w_hat_i = max_theta |grad L_r| / mean_theta |grad (w_i L_i)| for
  every term i outside the ``residual`` condition, whose terms (together L_r,
  with their configured weights) are the reference and stay fixed.

The slope-recovery term of adaptive activations (``model.adaptive``) is a
regularizer, not a fit: it keeps its configured weight (1) under every scheme.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from pinnrun import io, ntk
from pinnrun.config import ConfigError, TraceMethod, WeightingConfig


@dataclass
class TermSource:
    """What an adaptive scheme may look at, at a given step."""
    model: torch.nn.Module
    variables: Sequence[str]
    outputs: Sequence[str]
    groups: Callable[[int], List[ntk.Group]]              # residual functions and their points
    losses: Callable[[int], Dict[str, torch.Tensor]]      # the loss terms, with their graphs


class Weighting:
    adaptive = False

    def __init__(self, terms: Sequence[str], cfg: WeightingConfig, seed: int = 0) -> None:
        self.terms = list(terms)
        self.cfg, self.seed = cfg, seed
        unknown = set(cfg.weights) - set(self.terms)
        if unknown:
            raise ConfigError(f"weighting.weights: unknown loss term {sorted(unknown)} "
                              f"(this equation has: {', '.join(self.terms)})")
        self.weights: Dict[str, float] = {t: 1.0 for t in self.terms}
        for term, w in cfg.weights.items():
            if w < 0:
                raise ConfigError(f"weighting.weights.{term} must be >= 0, got {w}")
            self.weights[term] = float(w)

    def due(self, step: int) -> bool:
        return self.adaptive and step % self.cfg.update_every == 0

    def update(self, step: int, src: TermSource) -> bool:
        """Recompute the weights if this scheme adapts them at ``step``; True if it did."""
        if not self.due(step):
            return False
        new = self.compute(step, src)
        a = self.cfg.alpha
        for t, w in new.items():
            self.weights[t] = (1 - a) * self.weights[t] + a * w
        return True

    def compute(self, step: int, src: TermSource) -> Dict[str, float]:
        raise NotImplementedError

    def attach(self, run_dir: Path, resume_step: Optional[int]) -> None:
        """Called by the trainer before training: where a scheme may write its own files."""

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {t: float(state["weights"][t]) for t in self.terms}


class Fixed(Weighting):
    """w_i from ``weighting.weights``; terms not named there get 1."""


class NTK(Weighting):
    adaptive = True

    def __init__(self, terms, cfg, seed=0):
        super().__init__(terms, cfg, seed)
        self.spectrum_file: Optional[Path] = None

    def attach(self, run_dir: Path, resume_step: Optional[int]) -> None:
        if self.cfg.spectrum:
            self.spectrum_file = Path(run_dir) / "ntk.h5"
            io.truncate_spectra(self.spectrum_file, resume_step or 0)

    def subsample(self, group: ntk.Group, step: int) -> ntk.Group:
        n = len(group.points)
        k = min(self.cfg.points, n)
        if k == n:
            return group
        rng = np.random.default_rng([self.seed, step, 524287])   # a pure function of (seed, step)
        idx = torch.as_tensor(np.sort(rng.choice(n, size=k, replace=False)), device=group.points.device)
        return ntk.Group(group.name, group.comps, group.points[idx], group.loss)

    def compute(self, step: int, src: TermSource) -> Dict[str, float]:
        c = self.cfg
        traces: Dict[str, float] = {}     # mean kernel diagonal t_i per term
        spectra: Dict[str, np.ndarray] = {}
        gen = torch.Generator().manual_seed(self.seed * 1000003 + step)
        for group in src.groups(step):
            g = self.subsample(group, step)
            if c.spectrum:   # the whole kernel: its eigenvalues, and its trace
                kernels = ntk.kernel(src.model, g, src.variables, src.outputs, c.chunk)
                spectra.update({t: torch.linalg.eigvalsh(K).flip(0).cpu().numpy() for t, K in kernels.items()})
                tr = {t: float(K.diagonal().sum()) for t, K in kernels.items()}
            elif c.trace is TraceMethod.exact:
                tr = ntk.traces(src.model, g, src.variables, src.outputs, c.chunk)
            else:
                tr = ntk.hutchinson_traces(src.model, g, src.variables, src.outputs, c.probes, gen)
            traces.update({t: v / len(g.points) for t, v in tr.items()})
        if spectra and self.spectrum_file is not None:
            io.append_spectra(self.spectrum_file, step, spectra)
        total = sum(traces.values())
        # a term whose kernel vanishes (it does not depend on the parameters) keeps its weight
        return {t: total / tr for t, tr in traces.items() if tr > 0}


class GradNorm(Weighting):
    adaptive = True
    reference = "residual"

    def __init__(self, terms, cfg, seed=0):
        super().__init__(terms, cfg, seed)
        self.ref_terms = [t for t in self.terms if t.startswith(self.reference + "_")]
        if not self.ref_terms:
            raise ConfigError("weighting=gradnorm needs the loss terms of a 'residual' condition as its "
                              f"reference (this equation has: {', '.join(self.terms)})")

    def compute(self, step: int, src: TermSource) -> Dict[str, float]:
        params = [p for p in src.model.parameters() if p.requires_grad]
        losses = src.losses(step)

        def grad(loss: torch.Tensor) -> torch.Tensor:
            g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
            return torch.cat([(torch.zeros_like(p) if gi is None else gi).reshape(-1) for gi, p in zip(g, params)])

        g_r = grad(sum(self.weights[t] * losses[t] for t in self.ref_terms))
        top = float(g_r.abs().max())
        new = {}
        for t in self.terms:
            if t in self.ref_terms or t in REGULARIZERS:
                continue
            mean = float(grad(self.weights[t] * losses[t]).abs().mean())
            if mean > 0:
                new[t] = top / mean
        return new


#: loss terms that are not fitted to anything and keep their configured weight under every scheme
REGULARIZERS = ("slope_recovery",)

SCHEMES = {"fixed": Fixed, "ntk": NTK, "gradnorm": GradNorm}


def build_weighting(cfg: WeightingConfig, terms: Sequence[str], seed: int = 0) -> Weighting:
    if cfg.name not in SCHEMES:
        raise ConfigError(f"weighting.name: unknown scheme '{cfg.name}' (choose from: {', '.join(SCHEMES)})")
    return SCHEMES[cfg.name](terms, cfg, seed)
