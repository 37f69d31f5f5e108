"""Neural tangent kernel of each loss term, for the NTK weighting (Wang, Yu & Perdikaris 2022).

For a loss term with residuals r_1..r_n at its points (the PDE residual, or
prediction minus data), J is the n x P Jacobian of (r_1..r_n) with respect to
the P network parameters and K = J J^T its kernel; tr K = sum_p ||dr_p/dtheta||^2.

* :func:`jacobian_blocks` builds J exactly: ``torch.func.vmap`` over the points of
  ``jacrev`` of the residual at one point, with input derivatives from
  :class:`~pinnrun.derivatives.PointDerivatives`, ``chunk`` points at a time;
  :func:`traces` reduces each chunk to its sum of squares, so memory stays at
  chunk x m x P numbers. :func:`kernel` keeps J to form K (its spectrum).
* :func:`hutchinson_traces` estimates tr K = E ||J^T v||^2 over Rademacher
  vectors v; J^T v is one ordinary backward pass through the batched residual,
  so its cost does not grow with the number of parameters the way J does.

A *residual set* is one condition's residual function over its points: ``residual(d)``,
``d`` the derivatives at the points (a :class:`~pinnrun.derivatives.Derivatives`,
or per point under the transforms a :class:`~pinnrun.derivatives.PointDerivatives`),
returns one residual tensor per component (``components``), and the loss term
``term_name(name, component)`` is the mean of that residual's square.

A set may carry a weight a_p per point (``weights``: causal training, :mod:`pinnrun.causal`);
its traces are then sum_p a_p ||dr_p/dtheta||^2, the trace of D^1/2 K D^1/2 with D = diag(a), as
jaxpi's compute_diag_ntk weighs the residual's diagonal by the causal weight of each point's chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call, jacrev, vmap

from pinnrun.derivatives import Derivatives, PointDerivatives
from pinnrun.problems import term_name


@dataclass
class ResidualSet:
    name: str
    components: Sequence[str]
    points: torch.Tensor
    residual: Callable  # d (derivatives at the points) -> {component: residual (n,)}
    weights: torch.Tensor | None = None  # a_p per point (n,), or None: all 1
    space: Sequence[str] = ()  # on a geometry's boundary: the space variables of the normal columns

    def term(self, component: str) -> str:
        return term_name(self.name, component)

    def part(self, part: slice | torch.Tensor) -> ResidualSet:
        """The set on some of its points: a slice (a rank's part, :mod:`pinnrun.distributed`) or
        indices (the NTK's subsample)."""
        weights = None if self.weights is None else self.weights[part]
        return ResidualSet(self.name, self.components, self.points[part], self.residual, weights, self.space)


def _per_point(model: torch.nn.Module, group: ResidualSet, variables, outputs):
    """(params, x) -> residual components at the single point x, shape (m,)."""
    buffers = dict(model.named_buffers())

    def residual(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        def f(z):
            return functional_call(model, (params, buffers), (z,))

        res = group.residual(PointDerivatives(f, x[None], variables, outputs, group.space))
        return torch.stack([res[c].reshape(()) for c in group.components])

    return residual


def jacobian_blocks(model: torch.nn.Module, group: ResidualSet, variables, outputs, chunk: int):
    """Yields, for ``chunk`` points at a time, J as {parameter name: (points, m, *shape)}."""
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    jac = vmap(jacrev(_per_point(model, group, variables, outputs)), in_dims=(None, 0))
    for pts in group.points.detach().split(chunk):
        with torch.no_grad():  # no graph into trainable constants (inverse problems) outside the transforms
            yield jac(params, pts)


def jacobian_chunks(model: torch.nn.Module, group: ResidualSet, variables, outputs, chunk: int):
    """Yields J for ``chunk`` points at a time, shape (points, m, P) (P: all trainable parameters)."""
    for rows in jacobian_blocks(model, group, variables, outputs, chunk):
        yield torch.cat([r.reshape(r.shape[0], r.shape[1], -1) for r in rows.values()], dim=2)


def traces(model, group: ResidualSet, variables, outputs, chunk: int = 64) -> dict[str, float]:
    """tr K of each component of ``group``: sum over its points of ||dr_p/dtheta||^2."""
    total = torch.zeros(len(group.components), dtype=torch.float64, device=group.points.device)
    a = group.weights.detach().double().split(chunk) if group.weights is not None else None
    for i, rows in enumerate(jacobian_blocks(model, group, variables, outputs, chunk)):
        for r in rows.values():
            sq = torch.linalg.vector_norm(r.reshape(r.shape[0], r.shape[1], -1), dim=2, dtype=torch.float64).pow(2)
            total += (sq if a is None else sq * a[i][:, None]).sum(0)
    return {group.term(c): float(t) for c, t in zip(group.components, total)}


def kernel(model, group: ResidualSet, variables, outputs, chunk: int = 64) -> dict[str, torch.Tensor]:
    """K = J J^T (n x n, float64) of each component of ``group``."""
    J = torch.cat(list(jacobian_chunks(model, group, variables, outputs, chunk)), dim=0).double()
    return {group.term(c): J[:, i] @ J[:, i].T for i, c in enumerate(group.components)}


def hutchinson_traces(
    model,
    group: ResidualSet,
    variables,
    outputs,
    probes: int,
    generator: torch.Generator,
    part: slice = slice(None),
    reduce: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
) -> dict[str, float]:
    """Randomized tr K = mean over ``probes`` Rademacher v of ||J^T v||^2, J^T v by one backward pass
    (with point weights a: v_p scaled by sqrt(a_p), whose expectation is sum_p a_p K_pp).

    Split over a run's processes: v is drawn for all the points, each rank forms J^T v on its
    ``part`` of them, and ``reduce`` sums those over the ranks before the square."""
    params = [p for p in model.parameters() if p.requires_grad]
    mine = group.part(part)
    res = group.residual(Derivatives(model, mine.points, variables, outputs, mine.space))
    out = {}
    for c in group.components:
        r, acc = res[c], 0.0
        for _ in range(probes):
            v = torch.randint(0, 2, (len(group.points),), generator=generator, device="cpu")[part].to(r) * 2 - 1
            v = v.reshape(r.shape)
            if mine.weights is not None:
                v = v * mine.weights.detach().to(r).reshape(r.shape).sqrt()
            grads = torch.autograd.grad((v * r).sum(), params, retain_graph=True, allow_unused=True)
            flat = torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])
            acc += float(reduce(flat).double().pow(2).sum())
        out[group.term(c)] = acc / probes
    return out


__all__ = ["ResidualSet", "jacobian_blocks", "jacobian_chunks", "traces", "kernel", "hutchinson_traces"]
