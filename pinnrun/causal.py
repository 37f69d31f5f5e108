"""Causal training (Wang, Sankaran & Perdikaris 2022, "Respecting causality is all you need for
training physics-informed neural networks", eqs. 2.11-2.13 and Algorithm 1), as the authors' jaxpi
computes it (``res_and_w`` in examples/*/models.py, ``compute_diag_ntk`` with causal weights).

The points x_1..x_n of one condition (``weighting.causal.condition``, the PDE residual) are sorted
along one variable (``weighting.causal.variable``, time) and cut into M = ``chunks`` equal chunks
of n / M points. For a residual with components k (NLS: u, v) the chunk losses are

    L_{i,k} = mean_{p in chunk i} r_k(x_p)^2,         L_i = sum_k L_{i,k},
    w_i     = exp(-tol * sum_{j<i} L_j)               (w_1 = 1; no gradient through w),

and the condition's term of component k is ``mean_i w_i L_{i,k}``. The components share one set
of weights, from their summed chunk losses: the sum of the condition's terms is then the paper's
L_r = 1/M sum_i w_i L_r(t_i), with L_r(t_i) the whole residual's loss at time t_i (jaxpi's
residuals are scalar, where the two readings coincide). jaxpi sorts the time column alone
(``batch[:, 0].sort()``) and pairs it with the unsorted x column; here whole points are sorted
(the residuals are computed at the drawn points and reordered by their time).

The tolerance is a schedule ``tol = [tol_1, ..., tol_T]`` (Algorithm 1): after a step whose
weights have min_i w_i > ``delta`` (for the decreasing w_i, min_i w_i = w_M), the next step uses
the next value; at the last it stays. ``tol`` is a tensor changed in place, so the compiled step
reads it as an input and never recompiles; the schedule moves on the device after each step,
with no read back to the host. L-BFGS phases move it only between chunks of iterations (one
fixed objective for a line search), and forget their curvature history where it moves.

In a distributed run each rank holds a slice of every chunk (:mod:`pinnrun.sampling`): its
chunk losses are sum_{its points of chunk i} r_k^2 / (n / M), and ``reduce`` sums them over the
ranks before the weights are formed, so every rank weighs with the one-process w_i.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from pinnrun.config import CausalConfig, ConfigError


def causal_weights(chunk_losses: torch.Tensor, tol: torch.Tensor | float) -> torch.Tensor:
    """w_i = exp(-tol * sum_{j<i} L_j) of the chunk losses L (M,), without a gradient (eq. 2.12;
    jaxpi's exp(-tol * M @ l) with M the strictly lower triangular matrix of ones)."""
    L = chunk_losses.detach()
    before = torch.cat([L.new_zeros(1), torch.cumsum(L, 0)[:-1]])
    return torch.exp(-tol * before)


class Causal:
    """The causal weighting of one condition's loss terms, and its tolerance schedule (state)."""

    def __init__(
        self,
        cfg: CausalConfig,
        problem,
        counts: Mapping[str, int],
        per_face: Sequence[str] = (),
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        reduce: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
    ) -> None:
        conditions = problem.conditions()
        c, v, m = cfg.condition, cfg.variable, cfg.chunks
        if c not in conditions:
            raise ConfigError(
                f"weighting.causal.condition: unknown condition '{c}' (this equation has: {', '.join(conditions)})"
            )
        if counts.get(c, 0) <= 0:
            raise ConfigError(f"weighting.causal.condition: condition '{c}' has no points, so no loss term to weight")
        if c in per_face:
            raise ConfigError(
                f"weighting.causal.condition: condition '{c}' is in equation.per_face (a sum of per-face "
                "means); causal training weights one mean square"
            )
        if v not in problem.variables:
            raise ConfigError(
                f"weighting.causal.variable: '{v}' is not a variable of this equation "
                f"(it has: {', '.join(problem.variables)})"
            )
        if v in conditions[c].fixed:
            raise ConfigError(f"weighting.causal.variable: '{v}' is fixed on condition '{c}': nothing to sort along")
        n = counts[c]
        if n % m:
            raise ConfigError(
                f"weighting.causal.chunks={m} must divide equation.points.{c}={n} (equal chunks of points)"
            )
        self.condition, self.variable, self.chunks, self.delta = c, v, m, float(cfg.delta)
        self.reduce = reduce  # the sum over the ranks of a run's processes
        self.column = list(problem.variables).index(v)
        self.values = [float(t) for t in cfg.tol]  # the schedule as configured, for the log
        self.schedule = torch.tensor(self.values, dtype=dtype, device=device)
        #: index into the schedule, and the tolerance there: changed in place only
        self.position = torch.zeros((), dtype=torch.long, device=device)
        self.tol = self.schedule[0].clone()
        #: the weights of the latest evaluation of the term (set by :meth:`terms`)
        self.seen: torch.Tensor | None = None
        #: (min_i w_i, schedule position) of the latest step (set by :meth:`advance`), for the log
        self.latest: tuple[torch.Tensor, torch.Tensor] | None = None

    def order(self, points: torch.Tensor) -> torch.Tensor:
        """The permutation that sorts the points along the variable (stable: ties keep their order)."""
        return torch.sort(points[:, self.column], stable=True).indices

    def chunk_losses(
        self, residuals: Mapping[str, torch.Tensor], points: torch.Tensor, total: int | None = None
    ) -> dict[str, torch.Tensor]:
        """L_{i,k}: each component's sum of squares over each chunk of the sorted points, divided by
        the chunk's size (``total`` / M; total: the points over all ranks, else these), shape (M,)."""
        order, size = self.order(points), (total or len(points)) // self.chunks
        return {k: r.reshape(-1)[order].pow(2).reshape(self.chunks, -1).sum(1) / size for k, r in residuals.items()}

    def weights(self, chunk_losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """w_i at the current tol, from the components' summed chunk losses over all ranks."""
        return causal_weights(self.reduce(sum(chunk_losses.values()).detach()), self.tol)

    def terms(
        self, residuals: Mapping[str, torch.Tensor], points: torch.Tensor, total: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Each component's term mean_i w_i L_{i,k}, w from the summed chunk losses at the current tol."""
        L = self.chunk_losses(residuals, points, total)
        w = self.weights(L)
        self.seen = w
        return {k: (w * Lk).mean() for k, Lk in L.items()}

    def point_weights(
        self, residuals: Mapping[str, torch.Tensor], points: torch.Tensor, everywhere: torch.Tensor | None = None
    ) -> torch.Tensor:
        """w_{chunk(p)} of every point p of ``everywhere`` (the condition's points over all ranks;
        default ``points``, where the residuals are), in its own order (for the NTK, jaxpi's
        compute_diag_ntk: the mean over points of w_{chunk(p)} K_pp is the mean over chunks of
        w_i times the chunk's mean diagonal)."""
        everywhere = points if everywhere is None else everywhere
        w = self.weights(self.chunk_losses(residuals, points, len(everywhere)))
        out = torch.empty(len(everywhere), dtype=w.dtype, device=w.device)
        out[self.order(everywhere)] = w.repeat_interleave(len(everywhere) // self.chunks)
        return out

    def advance(self) -> torch.Tensor:
        """After a step: keep (min w, tol) of its weights for the log, and take the next tol if
        min w > delta (Algorithm 1). On the device; returns whether it moved (a 0-d bool tensor)."""
        w = self.seen
        if w is None:
            return torch.zeros((), dtype=torch.bool, device=self.position.device)
        low = w.min()
        self.latest = (low, self.position.clone())
        move = (low > self.delta) & (self.position < len(self.schedule) - 1)
        self.position += move
        self._set_tol()
        return move

    def _set_tol(self) -> None:
        # gather, not schedule[position]: indexing with a 0-d tensor reads it back to the host
        self.tol.copy_(self.schedule.gather(0, self.position.reshape(1)).reshape(()))

    def log_values(self) -> dict[str, float]:
        """``causal/min_weight`` and ``causal/tol`` of the latest step (NaN before the first)."""
        if self.latest is None:
            return {"causal/min_weight": float("nan"), "causal/tol": self.values[int(self.position)]}
        low, position = self.latest
        return {"causal/min_weight": float(low), "causal/tol": self.values[int(position)]}

    def state_dict(self) -> dict:
        return {"position": int(self.position)}

    def load_state_dict(self, state: Mapping) -> None:
        position = int(state["position"])
        if not 0 <= position < len(self.schedule):
            raise ConfigError(f"weighting.causal.tol: the checkpoint's schedule position {position} is not in it")
        self.position.fill_(position)
        self._set_tol()


__all__ = ["Causal", "causal_weights"]
