"""Loss-weighting schemes: one weight per group of loss terms, as self-contained stateful objects.

A *group* is a set of loss terms that share one weight (``weighting.groups``, e.g. a paper's
lambda_u over the initial values and both walls); its loss L_g is the sum of its terms' losses.
A term outside every group is a group of its own, under its name. Below, i runs over groups.

The task forms ``loss = sum_i w_i * L_i`` with :meth:`Weighting.weights_for` the phase, and
calls :meth:`Weighting.update` before the loss of a step is formed (Algorithm 1 of the
gradient-pathologies paper as printed), or with ``weighting.update_after_step=true`` after the
optimizer step, on that step's points, the new weights taking effect at the next step (the
authors' codes); an adaptive scheme recomputes its weights there, every
``weighting.update_every`` steps (step 0 included), from the
:class:`~pinnrun.objective.Objective` it is handed (the model, the loss terms and the residual
groups). New weights are blended in as ``w <- (1 - alpha) w + alpha w_new``
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
  t_i = tr K_i / n_i, the mean diagonal of group i's neural tangent kernel, built on
  its terms' points together (the paper's K_uu on the initial and boundary points),
  each condition's points a random subsample of min(points, its points)
  (pinnrun.ntk). With equal n_i, as in the paper, this is the paper's trace ratio
  sum_j tr K_j / tr K_i; the mean keeps a weight independent of how many points a
  group has, as the loss terms are means. Every group adapts, the residual included.
  With causal training (:mod:`pinnrun.causal`) the causal condition's diagonal is weighted by
  each point's chunk weight, K_pp -> w_{chunk(p)} K_pp, as jaxpi's compute_diag_ntk does: on
  all the points, t_i is then the mean over chunks of w_i times the chunk's mean diagonal.
* ``gradnorm`` (learning-rate annealing, Wang, Teng & Perdikaris 2021,
  eq. 40): w_hat_i = max |grad L_r| / mean |grad (w_i L_i)| for every group i
  outside the ``residual`` condition, whose terms (together L_r, with their
  configured weights) are the reference and stay fixed. ``weighting.grad_stats``
  says over what: ``layers`` (default) as the authors' published code computes it
  (GradientPathologiesPINNs, Helmholtz2D_model_tf.py): the gradients with respect
  to the weight matrices W_1..W_L only, max_l max|grad_{W_l} L_r| over
  mean_l mean|grad_{W_l} (w_i L_i)|, each layer's mean counting once whatever its
  size; ``flat``: eq. 40 as printed, max and mean over every network parameter
  (biases and adaptive slopes too) as one vector. At initialisation on Helmholtz
  the two differ by an order of magnitude.

In a distributed run (:mod:`pinnrun.distributed`) the NTK's subsample is drawn from all the
points, each rank computes the traces of its part of it and the traces are summed over the
ranks (spectra, which need every row of J, are computed whole on every rank); grad-norm's
statistics are taken of the gradients summed over the ranks. Every rank then holds the
one-process weights.

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
from pinnrun.config import PDE_CONDITION, ConfigError, GradStats, TraceMethod, WeightingConfig
from pinnrun.models import weight_layers, weight_parameters
from pinnrun.objective import Objective
from pinnrun.optim import Phase

Spectra = tuple[int, dict[str, np.ndarray]]  # (step, eigenvalues of each group's kernel, descending)


class Weighting:
    adaptive = False

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        self.objective, self.cfg, self.seed = objective, cfg, seed
        self.terms = list(objective.terms)
        self.regularizers = [t for t in self.terms if t in objective.regularizers]
        self.groups = weight_groups(cfg.groups, self.terms, self.regularizers)
        self.group_of = {t: g for g, members in self.groups.items() for t in members}
        grouped = [k for k in cfg.weights if k in self.group_of and k not in self.groups]
        if grouped:
            raise ConfigError(
                f"weighting.weights.{grouped[0]}: the term is in group '{self.group_of[grouped[0]]}', "
                "whose weight it shares: set that group's"
            )
        unknown = set(cfg.weights) - set(self.groups)
        if unknown:
            raise ConfigError(
                f"weighting.weights: unknown loss term {sorted(unknown)} (this run has: {', '.join(self.groups)})"
            )
        for key, w in cfg.weights.items():
            if w < 0:
                raise ConfigError(f"weighting.weights.{key} must be >= 0, got {w}")
        #: one weight per group (a term outside every group is a group of its own, of its name)
        self.weights: dict[str, float] = {g: float(cfg.weights.get(g, 1.0)) for g in self.groups}

    def updates_in(self, phase: Phase) -> bool:
        """Whether the weights change during ``phase`` (L-BFGS: only with lbfgs_updates)."""
        return self.adaptive and (phase.first_order or self.cfg.lbfgs_updates)

    def weights_for(self, phase: Phase) -> dict[str, float]:
        """The weight of each group that ``phase`` trains with: the scheme's, except that L-BFGS
        phases leave out the regularizers (see the module's docstring)."""
        if phase.first_order:
            return self.weights
        return {g: (0.0 if g in self.regularizers else v) for g, v in self.weights.items()}

    def term_weights(self, phase: Phase) -> dict[str, float]:
        """The weight of each loss term in ``phase``: its group's."""
        w = self.weights_for(phase)
        return {t: w[self.group_of[t]] for t in self.terms}

    def group_losses(self, losses: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each group's loss: the sum of its terms'."""
        return {g: sum(losses[t] for t in members) for g, members in self.groups.items()}

    def update(self, step: int) -> bool:
        """Recompute the weights if this scheme adapts them at ``step``; True if it did."""
        if not (self.adaptive and step % self.cfg.update_every == 0):
            return False
        new = self.compute(step)
        a = self.cfg.alpha
        for g, w in new.items():
            self.weights[g] = (1 - a) * self.weights[g] + a * w
        return True

    def compute(self, step: int) -> dict[str, float]:
        raise NotImplementedError

    def take_diagnostics(self) -> list[Spectra]:
        """What the scheme measured since the last call, for the run directory (ntk.h5)."""
        return []

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {g: float(state["weights"][g]) for g in self.groups}


def weight_groups(declared, terms: list[str], regularizers: list[str]) -> dict[str, list[str]]:
    """``weighting.groups`` checked, completed by a group of its own for every other term, in the
    order of the terms (a group where its first term is)."""
    of: dict[str, str] = {}
    for g, members in declared.items():
        if g in terms and list(members) != [g]:
            raise ConfigError(f"weighting.groups.{g}: a group cannot take the name of the loss term '{g}'")
        if not members:
            raise ConfigError(f"weighting.groups.{g} is empty: name the loss terms that share its weight")
        for t in members:
            if t not in terms:
                raise ConfigError(f"weighting.groups.{g}: unknown loss term '{t}' (this run has: {', '.join(terms)})")
            if t in regularizers:
                raise ConfigError(f"weighting.groups.{g}: '{t}' is a regularizer, which keeps a weight of its own")
            if t in of:
                raise ConfigError(f"weighting.groups: loss term '{t}' is in both '{of[t]}' and '{g}'")
            of[t] = g
    out: dict[str, list[str]] = {}
    for t in terms:
        g = of.get(t, t)
        out.setdefault(g, []).append(t)
    return out


class Fixed(Weighting):
    """w_i from ``weighting.weights``; terms not named there get 1."""


class NTK(Weighting):
    adaptive = True

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        super().__init__(objective, cfg, seed)
        self.spectra: list[Spectra] = []

    def subsample(self, group: ntk.ResidualSet, step: int) -> ntk.ResidualSet:
        n = len(group.points)
        k = min(self.cfg.points, n) if self.cfg.points else n  # 0: all of them (as jaxpi)
        if k == n:
            return group
        rng = np.random.default_rng([self.seed, step, 524287])  # a pure function of (seed, step)
        idx = torch.as_tensor(np.sort(rng.choice(n, size=k, replace=False)), device=group.points.device)
        return group.part(idx)

    def compute(self, step: int) -> dict[str, float]:
        c, obj = self.cfg, self.objective
        model, variables, outputs = obj.model, obj.variables, obj.outputs
        trace: dict[str, float] = {}  # tr K of each term, on its (subsampled) points
        count: dict[str, int] = {}  # ... and their number
        rows: dict[str, torch.Tensor] = {}  # spectrum: J of each term (points, parameters)
        gen = torch.Generator().manual_seed(self.seed * 1000003 + step)
        for res in obj.residual_sets(step):
            r = self.subsample(res, step)
            if c.spectrum:
                J = torch.cat(list(ntk.jacobian_chunks(model, r, variables, outputs, c.chunk)), dim=0).double()
                if r.weights is not None:  # causal weights: the kernel of sqrt(a_p) r_p
                    J = J * r.weights.detach().double().sqrt()[:, None, None]
                rows.update({r.term(k): J[:, i] for i, k in enumerate(r.components)})
                tr = {r.term(k): float(J[:, i].pow(2).sum()) for i, k in enumerate(r.components)}
            else:
                part = obj.ranks.part(len(r.points))  # this rank's part of the subsample
                if c.trace is TraceMethod.exact:
                    tr = ntk.traces(model, r.part(part), variables, outputs, c.chunk)
                else:
                    tr = ntk.hutchinson_traces(model, r, variables, outputs, c.probes, gen, part, obj.ranks.all_sum)
                total = obj.ranks.all_sum(torch.tensor(list(tr.values()), dtype=torch.float64))
                tr = dict(zip(tr, total.tolist()))
            trace.update(tr)
            count.update({t: len(r.points) for t in tr})
        # a group's kernel is built on its terms' points together: its mean diagonal t_g
        mean = {
            g: sum(trace[t] for t in members) / sum(count[t] for t in members)
            for g, members in self.groups.items()
            if all(t in trace for t in members)
        }
        if rows:  # each group's kernel J J^T, J its terms' rows together
            joined = {g: torch.cat([rows[t] for t in self.groups[g]]) for g in mean}
            eigenvalues = {g: torch.linalg.eigvalsh(J @ J.T).flip(0).cpu().numpy() for g, J in joined.items()}
            self.spectra.append((step, eigenvalues))
        total = sum(mean.values())
        # a group whose kernel vanishes (it does not depend on the parameters) keeps its weight
        return {g: total / t for g, t in mean.items() if t > 0}

    def take_diagnostics(self) -> list[Spectra]:
        out, self.spectra = self.spectra, []
        return out


def gradient_blocks(loss: torch.Tensor, blocks: list[list[torch.Tensor]], objective: Objective) -> list[torch.Tensor]:
    """|grad loss| with respect to each block of parameters, flattened, summed over the ranks."""
    params = [p for b in blocks for p in b]
    g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    flat = [(torch.zeros_like(p) if gi is None else gi).reshape(-1) for gi, p in zip(g, params)]
    whole = objective.ranks.all_sum(torch.cat(flat)).abs()
    return list(whole.split([sum(p.numel() for p in block) for block in blocks]))


class GradNorm(Weighting):
    """Learning-rate annealing (Wang, Teng & Perdikaris 2021, eq. 40): the PDE residual's terms are
    the fixed reference, every other group gets max |grad L_r| / mean |grad (w_i L_i)|."""

    adaptive = True
    reference = PDE_CONDITION

    def __init__(self, objective: Objective, cfg: WeightingConfig, seed: int = 0) -> None:
        super().__init__(objective, cfg, seed)
        ref_terms = set(objective.condition_terms(self.reference))
        if not ref_terms:
            raise ConfigError(
                f"weighting=gradnorm needs the loss terms of a '{PDE_CONDITION}' condition as its "
                f"reference (this equation has: {', '.join(self.terms)})"
            )
        self.ref_groups = [g for g, members in self.groups.items() if ref_terms & set(members)]
        for g in self.ref_groups:
            if not set(self.groups[g]) <= ref_terms:
                raise ConfigError(
                    f"weighting.groups.{g}: gradnorm's reference, the residual terms, cannot share a "
                    "weight with other terms"
                )

    def compute(self, step: int) -> dict[str, float]:
        model = self.objective.model
        if self.cfg.grad_stats is GradStats.layers:  # one group per weight matrix
            blocks = [weight_parameters(m) for m in weight_layers(model)]
        else:  # every network parameter, one group
            blocks = [[p for p in model.parameters() if p.requires_grad]]
        losses = self.group_losses(self.objective.losses(step))

        def grads(loss: torch.Tensor) -> list[torch.Tensor]:
            return gradient_blocks(loss, blocks, self.objective)

        top = max(float(g.max()) for g in grads(sum(self.weights[g] * losses[g] for g in self.ref_groups)))
        new = {}
        for g in self.groups:
            if g in self.ref_groups or g in self.regularizers:
                continue
            mean = float(np.mean([float(b.mean()) for b in grads(self.weights[g] * losses[g])]))
            if mean > 0:
                new[g] = top / mean
        return new


class GradNormMean(Weighting):
    """The grad-norm weights of the expert's guide (Wang, Wang & Perdikaris 2023, sec. 6.3) as jaxpi
    computes them ("grad_norm"): every group, the residual's too, gets

        w_hat_k = mean_j |grad L_j| / |grad L_k|,

    |.| the L2 norm of the unweighted group loss's gradient over every network parameter."""

    adaptive = True

    def compute(self, step: int) -> dict[str, float]:
        blocks = [[p for p in self.objective.model.parameters() if p.requires_grad]]
        losses = self.group_losses(self.objective.losses(step))
        fitted = [g for g in self.groups if g not in self.regularizers]
        norms = {
            g: float(torch.linalg.vector_norm(torch.cat(gradient_blocks(losses[g], blocks, self.objective))))
            for g in fitted
        }
        mean = float(np.mean(list(norms.values())))
        return {g: mean / n for g, n in norms.items() if n > 0}


SCHEMES = {"fixed": Fixed, "ntk": NTK, "gradnorm": GradNorm, "gradnorm_mean": GradNormMean}


def build_weighting(cfg: WeightingConfig, objective: Objective, seed: int = 0) -> Weighting:
    if cfg.name not in SCHEMES:
        raise ConfigError(f"weighting.name: unknown scheme '{cfg.name}' (choose from: {', '.join(SCHEMES)})")
    return SCHEMES[cfg.name](objective, cfg, seed)


__all__ = ["GradNorm", "GradNormMean", "NTK", "Fixed", "SCHEMES", "Weighting", "build_weighting"]
