"""Loss-weighting schemes: one weight per loss term, as self-contained stateful objects.

The task forms ``loss = sum_i w_i * L_i`` with :meth:`Weighting.weights_for` the phase, and
calls :meth:`Weighting.update` before the loss of a step is formed; an adaptive scheme
recomputes its weights there, every ``weighting.update_every`` steps (step 0 included), from
the :class:`~pinnrun.objective.Objective` it is handed (the model, the loss terms and the
residual groups). New weights are blended in as ``w <- (1 - alpha) w + alpha w_new``
(``alpha = 1``: no smoothing). A scheme never reaches back into the loop and writes no file:
what it has to report (NTK spectra) it keeps until :meth:`Weighting.take_diagnostics`.

During L-BFGS phases the weights are frozen (the line search and the curvature history need
one fixed objective) unless ``weighting.lbfgs_updates=true`` (:meth:`Weighting.updates_in`):
then the weights are recomputed at every multiple of ``update_every`` and the L-BFGS history
restarts there.

A scheme's state (its weights) goes into the checkpoint, so a resumed run continues with the
same weights.

Schemes:

* ``fixed``: ``weighting.weights``, unchanged.
* ``ntk`` (Wang, Yu & Perdikaris 2022): w_i = sum_j t_j / t_i with
  t_i = tr K_i / n_i, the mean diagonal of term i's neural tangent kernel on a
  random subsample of n_i = min(points, its points) points (pinnrun.ntk). With
  equal n_i, as in the paper, this is the paper's trace ratio sum_j tr K_j /
  tr K_i; the mean keeps a term's weight independent of how many points it has,
  as the loss terms are means. Every term adapts, the residual included.
* ``gradnorm`` (learning-rate annealing, Wang, Teng & Perdikaris 2021,
  eq. 40): w_hat_i = max |grad L_r| / mean |grad (w_i L_i)| for every term i
  outside the ``residual`` condition, whose terms (together L_r, with their
  configured weights) are the reference and stay fixed. ``weighting.grad_stats``
  says over what: ``layers`` (default) as the authors' published code computes it
  (GradientPathologiesPINNs, Helmholtz2D_model_tf.py): the gradients with respect
  to the weight matrices W_1..W_L only, max_l max|grad_{W_l} L_r| over
  mean_l mean|grad_{W_l} (w_i L_i)|, each layer's mean counting once whatever its
  size; ``flat``: eq. 40 as printed, max and mean over every network parameter
  (biases and adaptive slopes too) as one vector. At initialisation on Helmholtz
  the two differ by an order of magnitude.

Regularizers (the slope-recovery term of adaptive activations, ``model.adaptive``) are not
fits: they keep their configured weight (1) under every scheme, and L-BFGS phases leave them
out (weight 0). S(a) has no minimum and is nearly linear in the slopes: Adam's bounded steps
raise them slowly (its purpose, Jagtap et al. 2020), but an L-BFGS line search follows it to
runaway slopes while the PDE loss stalls (measured on nls_rogue: the slopes went from 1.6 to
5.4 in 300 iterations, the L2 error stayed at 0.27).
"""

from __future__ import annotations

import numpy as np
import torch

from pinnrun import ntk
from pinnrun.config import ConfigError, GradStats, TraceMethod, WeightingConfig
from pinnrun.objective import Objective
from pinnrun.optim import Phase

Spectra = tuple[int, dict[str, np.ndarray]]  # (step, eigenvalues of each term's kernel, descending)


class Weighting:
    adaptive = False

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        self.objective, self.cfg, self.seed = objective, cfg, seed
        self.terms = list(objective.terms)
        self.regularizers = [t for t in self.terms if t in objective.regularizers]
        unknown = set(cfg.weights) - set(self.terms)
        if unknown:
            raise ConfigError(
                f"weighting.weights: unknown loss term {sorted(unknown)} (this equation has: {', '.join(self.terms)})"
            )
        self.weights: dict[str, float] = {t: 1.0 for t in self.terms}
        for term, w in cfg.weights.items():
            if w < 0:
                raise ConfigError(f"weighting.weights.{term} must be >= 0, got {w}")
            self.weights[term] = float(w)

    def updates_in(self, phase: Phase) -> bool:
        """Whether the weights change during ``phase`` (L-BFGS: only with lbfgs_updates)."""
        return self.adaptive and (phase.first_order or self.cfg.lbfgs_updates)

    def weights_for(self, phase: Phase) -> dict[str, float]:
        """The weights ``phase`` trains with: the scheme's, except that L-BFGS phases leave out the
        regularizers (see the module's docstring)."""
        if phase.first_order:
            return self.weights
        return {k: (0.0 if k in self.regularizers else v) for k, v in self.weights.items()}

    def update(self, step: int) -> bool:
        """Recompute the weights if this scheme adapts them at ``step``; True if it did."""
        if not (self.adaptive and step % self.cfg.update_every == 0):
            return False
        new = self.compute(step)
        a = self.cfg.alpha
        for t, w in new.items():
            self.weights[t] = (1 - a) * self.weights[t] + a * w
        return True

    def compute(self, step: int) -> dict[str, float]:
        raise NotImplementedError

    def take_diagnostics(self) -> list[Spectra]:
        """What the scheme measured since the last call, for the run directory (ntk.h5)."""
        return []

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {t: float(state["weights"][t]) for t in self.terms}


class Fixed(Weighting):
    """w_i from ``weighting.weights``; terms not named there get 1."""


class NTK(Weighting):
    adaptive = True

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        super().__init__(objective, cfg, seed)
        self.spectra: list[Spectra] = []

    def subsample(self, group: ntk.Group, step: int) -> ntk.Group:
        n = len(group.points)
        k = min(self.cfg.points, n)
        if k == n:
            return group
        rng = np.random.default_rng([self.seed, step, 524287])  # a pure function of (seed, step)
        idx = torch.as_tensor(np.sort(rng.choice(n, size=k, replace=False)), device=group.points.device)
        return ntk.Group(group.name, group.components, group.points[idx], group.residual)

    def compute(self, step: int) -> dict[str, float]:
        c, obj = self.cfg, self.objective
        model, variables, outputs = obj.model, obj.variables, obj.outputs
        traces: dict[str, float] = {}  # mean kernel diagonal t_i per term
        spectra: dict[str, np.ndarray] = {}
        gen = torch.Generator().manual_seed(self.seed * 1000003 + step)
        for group in obj.groups(step):
            g = self.subsample(group, step)
            if c.spectrum:  # the whole kernel: its eigenvalues, and its trace
                kernels = ntk.kernel(model, g, variables, outputs, c.chunk)
                spectra.update({t: torch.linalg.eigvalsh(K).flip(0).cpu().numpy() for t, K in kernels.items()})
                tr = {t: float(K.diagonal().sum()) for t, K in kernels.items()}
            elif c.trace is TraceMethod.exact:
                tr = ntk.traces(model, g, variables, outputs, c.chunk)
            else:
                tr = ntk.hutchinson_traces(model, g, variables, outputs, c.probes, gen)
            traces.update({t: v / len(g.points) for t, v in tr.items()})
        if spectra:
            self.spectra.append((step, spectra))
        total = sum(traces.values())
        # a term whose kernel vanishes (it does not depend on the parameters) keeps its weight
        return {t: total / tr for t, tr in traces.items() if tr > 0}

    def take_diagnostics(self) -> list[Spectra]:
        out, self.spectra = self.spectra, []
        return out


class GradNorm(Weighting):
    adaptive = True
    reference = "residual"

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        super().__init__(objective, cfg, seed)
        self.ref_terms = [t for t in self.terms if t in objective.condition_terms(self.reference)]
        if not self.ref_terms:
            raise ConfigError(
                "weighting=gradnorm needs the loss terms of a 'residual' condition as its "
                f"reference (this equation has: {', '.join(self.terms)})"
            )

    def compute(self, step: int) -> dict[str, float]:
        model = self.objective.model
        if self.cfg.grad_stats is GradStats.layers:  # one group per weight matrix
            groups = [[m.weight] for m in model.modules() if isinstance(m, torch.nn.Linear)]
        else:  # every network parameter, one group
            groups = [[p for p in model.parameters() if p.requires_grad]]
        params = [p for g in groups for p in g]
        losses = self.objective.losses(step)

        def grads(loss: torch.Tensor) -> list[torch.Tensor]:
            """|grad loss| of each group, flattened."""
            g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
            flat = [(torch.zeros_like(p) if gi is None else gi).abs().reshape(-1) for gi, p in zip(g, params)]
            out, i = [], 0
            for group in groups:
                out.append(torch.cat(flat[i : i + len(group)]))
                i += len(group)
            return out

        top = max(float(g.max()) for g in grads(sum(self.weights[t] * losses[t] for t in self.ref_terms)))
        new = {}
        for t in self.terms:
            if t in self.ref_terms or t in self.regularizers:
                continue
            mean = float(np.mean([float(g.mean()) for g in grads(self.weights[t] * losses[t])]))
            if mean > 0:
                new[t] = top / mean
        return new


SCHEMES = {"fixed": Fixed, "ntk": NTK, "gradnorm": GradNorm}


def build_weighting(cfg: WeightingConfig, objective: Objective, seed: int = 0) -> Weighting:
    if cfg.name not in SCHEMES:
        raise ConfigError(f"weighting.name: unknown scheme '{cfg.name}' (choose from: {', '.join(SCHEMES)})")
    return SCHEMES[cfg.name](objective, cfg, seed)


__all__ = ["GradNorm", "NTK", "Fixed", "SCHEMES", "Weighting", "build_weighting"]
