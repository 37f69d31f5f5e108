"""The one place that computes derivatives of network outputs w.r.t. inputs.

Residuals ask for what they need by name (``d["u_xx"]``, ``d["v_t"]``,
``d["u_tx"]``) and never call ``torch.autograd`` themselves, so this engine can
be swapped for another (forward mode, compiled) without touching an equation.

Engine: reverse-mode autograd on one batched input tensor X of shape (N, d).
Because the network acts point by point, one ``grad(g.sum(), X)`` gives every
first partial of g at every point at once; each result is cached, so u_x and
u_t come from the same pass and u_xx reuses u_x. ``create_graph=True`` keeps
the graph so the loss can be differentiated w.r.t. the network parameters.
(Measured on the NLS setup, 4x100 tanh, 20000 points, CPU: this is faster than
nested ``torch.func.jvp``, 0.39 s against 0.53 s per training step.)

``d.at(x=1.0)`` is the same network's derivatives at a copy of the points with
x set to 1.0 (a periodic boundary compares d["u"] with d.at(x=upper)["u"]).

On the boundary of a geometry (:mod:`pinnrun.geometry`; a condition with ``on=``) the points
come with their outward unit normals: ``d.normal("u")`` (or ``d["u_n"]``) is the normal
derivative n . grad u over the geometry's space variables (``space``), for Neumann and Robin
conditions, in every engine. The points tensor then holds the k normal components after the d
coordinates, (N, d + k), so that sampling, sharding and checkpoints carry them row by row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations

import torch
from torch.func import jacfwd, jacrev, jvp

from pinnrun.config import ConfigError


class _ByName:
    """``d["u_tx"]`` -> ``d.diff("u", "t", "x")``, and the checks of names, shared by both engines."""

    variables: tuple[str, ...]
    outputs: tuple[str, ...]

    points: torch.Tensor
    #: the space variables the normals are over (empty: the points are not on a geometry's boundary)
    space: tuple[str, ...] = ()
    normals: torch.Tensor | None = None  # (N, k), the outward unit normal at each point

    def __getitem__(self, name: str) -> torch.Tensor:
        field, _, wrt = name.partition("_")
        if wrt == "n" and "n" not in self.variables:
            return self.normal(field)
        return self.diff(field, *wrt)

    def normal(self, field: str) -> torch.Tensor:
        """The outward normal derivative n . grad ``field`` at the points (a condition on the
        boundary of a geometry: ``Condition(on=...)``)."""
        if not self.space:
            raise ConfigError(
                f"d.normal('{field}') ({field}_n): a normal derivative needs a condition on the boundary "
                "of a geometry (Condition(on=...)); this condition's points are not on one"
            )
        return sum(self.normals[:, j] * self.diff(field, v) for j, v in enumerate(self.space))

    def _take(self, points: torch.Tensor, space: Sequence[str]) -> torch.Tensor:
        """The coordinates of ``points``; with ``space``, the normal columns after them go to ``normals``."""
        self.space = tuple(space)
        if not self.space:
            return points
        d = len(self.variables)
        if points.shape[-1] != d + len(self.space):
            raise ValueError(
                f"points of a boundary condition have {points.shape[-1]} columns, expected {d} + {len(self.space)}"
            )
        self.normals = points[:, d:]
        return points[:, :d]

    def _with_normals(self, points: torch.Tensor) -> torch.Tensor:
        """``points`` (coordinates) with this object's normals appended, for a moved copy."""
        return torch.cat([points, self.normals], 1) if self.space else points

    def input(self, var: str) -> torch.Tensor:
        """The column of input coordinates of variable ``var``."""
        return self.points[:, self.variables.index(var)]

    def _moved(self, values: dict) -> torch.Tensor:
        """A copy of ``self.points`` (n, d) with the named variables set to fixed values, built
        out of place (torch.where), so it also works on a point under torch.func transforms."""
        column = torch.arange(len(self.variables), device=self.points.device)
        moved = self.points
        for var, value in values.items():
            if var not in self.variables:
                raise KeyError(f"unknown variable '{var}' (variables: {', '.join(self.variables)})")
            moved = torch.where(
                column == self.variables.index(var),
                torch.as_tensor(value, dtype=moved.dtype, device=moved.device),
                moved,
            )
        return moved

    def _indices(self, field: str, wrt: Sequence[str]) -> tuple[int, ...]:
        if field not in self.outputs:
            raise KeyError(f"unknown output '{field}' (outputs: {', '.join(self.outputs)})")
        try:
            return tuple(self.variables.index(v) for v in wrt)
        except ValueError:
            raise KeyError(f"unknown variable in {wrt} (variables: {', '.join(self.variables)})") from None


class Derivatives(_ByName):
    """Network outputs at ``points`` and their input derivatives, by name.

    ``d["u"]`` is output u; ``d["u_x"]``, ``d["u_xx"]``, ``d["u_tx"]`` are
    partial derivatives (variables listed after the underscore, one letter
    each; for longer variable names use ``d.diff("u", "x1", "x1")``).
    ``d.input("x")`` is the column of input coordinates for variable x;
    ``d.at(x=1.0)`` the same network's derivatives with x set to 1.0.
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        points: torch.Tensor,
        variables: Sequence[str],
        outputs: Sequence[str],
        space: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.variables = tuple(variables)
        self.outputs = tuple(outputs)
        self.points = self._take(points.detach(), space).requires_grad_(True)
        values = model(self.points)
        if values.shape[-1] != len(self.outputs):
            raise ValueError(f"network gives {values.shape[-1]} outputs, equation expects {len(self.outputs)}")
        # cache: (field, sorted variable indices) -> tensor of shape (N,)
        self._cache: dict[tuple[str, tuple[int, ...]], torch.Tensor] = {
            (name, ()): values[:, i] for i, name in enumerate(self.outputs)
        }

    def input(self, var: str) -> torch.Tensor:
        """The column of input coordinates of variable ``var`` (no gradient flows through it)."""
        return self.points[:, self.variables.index(var)].detach()

    def at(self, **values: float) -> Derivatives:
        """The same network's derivatives at a copy of the points with the named variables set
        to fixed values (``d.at(x=1.0)``)."""
        moved = self._with_normals(self._moved(values).detach())
        return Derivatives(self.model, moved, self.variables, self.outputs, self.space)

    def diff(self, field: str, *wrt: str) -> torch.Tensor:
        """The partial derivative of output ``field`` with respect to the variables ``wrt``, in any
        order (``d.diff("u", "t", "x")`` is ``d["u_tx"]``; no ``wrt``: the output itself)."""
        return self._partial(field, tuple(sorted(self._indices(field, wrt))))  # partials commute

    def _partial(self, field: str, idx: tuple[int, ...]) -> torch.Tensor:
        key = (field, idx)
        if key not in self._cache:
            # d^k g / dx_i... = d/dx_last (d^(k-1) g / ...): one grad pass yields all d partials
            lower = self._partial(field, idx[:-1])
            grads = None
            if lower.requires_grad:  # else a constant (e.g. the derivative of a linear function)
                (grads,) = torch.autograd.grad(lower.sum(), self.points, create_graph=True, allow_unused=True)
            if grads is None:  # output does not depend on the inputs at all
                grads = torch.zeros_like(self.points)
            for j in range(len(self.variables)):
                self._cache.setdefault((field, tuple(sorted(idx[:-1] + (j,)))), grads[:, j])
        return self._cache[key]


class PointDerivatives(_ByName):
    """The :class:`Derivatives` interface for one point, built from torch.func transforms.

    Used where a residual must be differentiated *per point* with respect to
    the parameters (the NTK of :mod:`pinnrun.ntk`): there the residual runs
    under ``torch.func.vmap``/``jacrev``, where ``torch.autograd.grad`` cannot.
    ``points`` is one point as a batch of one, shape (1, d); ``model`` maps
    (1, d) to (1, m). The k-th partials come from k nested transforms of
    x -> model(x) (reverse mode innermost, forward mode above it), all d^k of
    them at once, cached by order.
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor], torch.Tensor],
        points: torch.Tensor,
        variables: Sequence[str],
        outputs: Sequence[str],
        space: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.variables, self.outputs = tuple(variables), tuple(outputs)
        self.points = self._take(points, space)
        self._fns = [lambda x: model(x[None])[0]]  # order k: (d,) -> (m, d, ..., d)
        self._values: dict[int, torch.Tensor] = {}

    def at(self, **values: float) -> PointDerivatives:
        """The same function's derivatives at the point with the named variables set to fixed
        values; the moved point is built out of place, so this works under vmap/jacrev."""
        return PointDerivatives(
            self.model, self._with_normals(self._moved(values)), self.variables, self.outputs, self.space
        )

    def diff(self, field: str, *wrt: str) -> torch.Tensor:
        idx = self._indices(field, wrt)
        k = len(idx)
        if k not in self._values:
            while len(self._fns) <= k:
                transform = jacrev if len(self._fns) == 1 else jacfwd
                self._fns.append(transform(self._fns[-1]))
            self._values[k] = self._fns[k](self.points[0])
        return self._values[k][(self.outputs.index(field), *idx)].reshape(1)


# -- Taylor mode: every derivative a residual needs in one forward pass --------------------------

Key = tuple[int, ...]  # a partial derivative: the sorted indices of the variables it is taken in


def closure(keys: Sequence[Key]) -> tuple[Key, ...]:
    """``keys`` with every partial they are built from (u_xxt needs u_x, u_t, u_xx, u_xt), sorted
    by order, the value () first. Their chain rules are worked out here, once, so that a compiled
    step finds them ready (a table filled while compiling would make it compile again)."""
    out = {()}
    for key in keys:
        for r in range(1, len(key) + 1):
            out.update(tuple(sorted(c)) for c in _sub_multisets(key, r))
    for key in out:
        faa_di_bruno(key)
        leibniz(key)
    return tuple(sorted(out, key=lambda k: (len(k), k)))


def _sub_multisets(key: Key, r: int):
    return {tuple(key[i] for i in c) for c in combinations(range(len(key)), r)}


def _partitions(items: list[int]):
    """The set partitions of ``items`` (positions), each a list of blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]


def faa_di_bruno(key: Key) -> list[tuple[int, int, tuple[Key, ...]]]:
    """The chain rule of order len(key) for an elementwise function s of a(x):

        d^S s(a) = sum over set partitions P of S of  s^(|P|)(a) * prod_{B in P} d^B a,

    as (coefficient, |P|, blocks) with equal terms merged: for S = xx, 1 * s'' a_x a_x and
    1 * s' a_xx."""
    if key in _CHAIN_RULES:
        return _CHAIN_RULES[key]
    terms = Counter(
        (len(p), tuple(sorted(tuple(sorted(key[i] for i in b)) for b in p))) for p in _partitions(list(range(len(key))))
    )
    _CHAIN_RULES[key] = [(c, order, blocks) for (order, blocks), c in sorted(terms.items())]
    return _CHAIN_RULES[key]


_CHAIN_RULES: dict[Key, list[tuple[int, int, tuple[Key, ...]]]] = {}


def leibniz(key: Key) -> list[tuple[int, Key, Key]]:
    """The product rule of order len(key): d^S (f g) = sum over subsets A of S of d^A f d^(S-A) g,
    as (coefficient, A, S - A) with equal terms merged: for S = xx, 1 f g_xx, 2 f_x g_x, 1 f_xx g."""
    if key in _PRODUCT_RULES:
        return _PRODUCT_RULES[key]
    n = len(key)
    terms = Counter(
        (tuple(sorted(key[i] for i in a)), tuple(sorted(key[i] for i in range(n) if i not in a)))
        for r in range(n + 1)
        for a in combinations(range(n), r)
    )
    _PRODUCT_RULES[key] = [(c, a, b) for (a, b), c in sorted(terms.items())]
    return _PRODUCT_RULES[key]


_PRODUCT_RULES: dict[Key, list[tuple[int, Key, Key]]] = {}


class Jet:
    """A tensor a(x) with its partial derivatives in the input variables, ``streams[key]`` (None
    where a partial is identically zero), carried forward through a network layer by layer
    (Taylor mode): a linear layer maps each stream, an elementwise function combines them by
    :func:`faa_di_bruno`. Nothing is differentiated twice, so the parameter gradient is one
    ordinary backward pass and the whole loss compiles (torch.compile does not do double
    backward)."""

    def __init__(self, streams: dict[Key, torch.Tensor | None]) -> None:
        self.streams = streams

    @classmethod
    def inputs(cls, points: torch.Tensor, keys: Sequence[Key]) -> Jet:
        """The jet of x itself: d x / d x_j = e_j, higher partials zero; ``keys`` as
        :func:`closure` gives them (the value and everything the partials are built from)."""
        d = points.shape[-1]
        eye = torch.eye(d, dtype=points.dtype, device=points.device)
        return cls({k: points if not k else (eye[k[0]][None] if len(k) == 1 else None) for k in keys})

    @classmethod
    def of(cls, fn: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, keys: Sequence[Key]) -> Jet:
        """The jet of ``fn`` (points (n, d) -> (n, m), acting point by point) at ``points``: the
        partial d^S fn / dx_i1 ... dx_ik as k nested forward-mode derivatives along the coordinate
        directions, d/dx_j g(x) = jvp(g, x, e_j) (e_j the j-th unit vector at every point)."""
        eye = torch.eye(points.shape[-1], dtype=points.dtype, device=points.device)
        fns: dict[Key, Callable[[torch.Tensor], torch.Tensor]] = {(): fn}

        def partial(key: Key) -> Callable[[torch.Tensor], torch.Tensor]:
            if key not in fns:
                g, e = partial(key[:-1]), eye[key[-1]]
                fns[key] = lambda x: jvp(g, (x,), (e.expand_as(x),))[1]
            return fns[key]

        return cls({k: partial(tuple(k))(points) for k in keys})

    @property
    def value(self) -> torch.Tensor:
        return self.streams[()]

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor], value_fn=None) -> Jet:
        """A linear map ``fn`` on every stream; the value gets ``value_fn`` (the affine map) if
        given: ``jet.map(lambda s: s @ W.T, layer)``."""
        return Jet(
            {k: (value_fn or fn)(s) if not k else (None if s is None else fn(s)) for k, s in self.streams.items()}
        )

    @classmethod
    def cat(cls, jets: Sequence[Jet]) -> Jet:
        """The jet of the columns of ``jets`` side by side (a partial that is zero in all: None)."""
        n = jets[0].value.shape[0]
        out = {}
        for key in jets[0].streams:
            parts = [j.streams[key] for j in jets]
            if all(p is None for p in parts):
                out[key] = None
                continue
            like = next(p for p in parts if p is not None)
            out[key] = torch.cat(
                [
                    like.new_zeros(n, j.value.shape[-1]) if p is None else p.expand(n, j.value.shape[-1])
                    for p, j in zip(parts, jets)
                ],
                dim=-1,
            )
        return cls(out)

    def __add__(self, other: Jet) -> Jet:
        def add(a, b):
            return b if a is None else a if b is None else a + b

        return Jet({k: add(s, other.streams[k]) for k, s in self.streams.items()})

    def __mul__(self, other: Jet) -> Jet:
        """The jet of the elementwise product, by :func:`leibniz`."""
        out = {}
        for key in self.streams:
            total = None
            for coef, a, b in leibniz(key):
                f, g = self.streams[a], other.streams[b]
                if f is None or g is None:
                    continue
                term = f * g if coef == 1 else coef * (f * g)
                total = term if total is None else total + term
            out[key] = total
        return Jet(out)

    def __neg__(self) -> Jet:
        return self.map(lambda s: -s, lambda s: -s)

    def __sub__(self, other: Jet) -> Jet:
        return self + (-other)

    def apply(self, derivatives: Sequence[torch.Tensor]) -> Jet:
        """The jet of s(a) from ``derivatives`` = [s(a), s'(a), ..., s^(n)(a)] (n = highest order)."""
        out = {(): derivatives[0]}
        for key in self.streams:
            if not key:
                continue
            total = None
            for coef, order, blocks in faa_di_bruno(key):
                factors = [self.streams[b] for b in blocks]
                if any(f is None for f in factors):
                    continue
                term = derivatives[order]
                for f in factors:
                    term = term * f
                term = term if coef == 1 else coef * term
                total = term if total is None else total + term
            out[key] = total
        return Jet(out)

    @property
    def order(self) -> int:
        return max(len(k) for k in self.streams)


class JetDerivatives(_ByName):
    """The :class:`Derivatives` interface on a Taylor-mode pass: ``model_jet(Jet) -> Jet`` gives
    the outputs' jet; ``keys`` are the partials (sorted variable indices) the residual asks for
    (found by :class:`Recorder`) with those they are built from (:func:`closure`), all computed
    at once."""

    def __init__(
        self,
        model_jet: Callable[[Jet], Jet],
        points: torch.Tensor,
        variables: Sequence[str],
        outputs: Sequence[str],
        keys: Sequence[Key],
        space: Sequence[str] = (),
    ) -> None:
        self.model_jet, self.keys = model_jet, tuple(keys)
        self.variables, self.outputs = tuple(variables), tuple(outputs)
        self.points = points = self._take(points, space)
        self.streams = model_jet(Jet.inputs(points, self.keys)).streams
        if self.streams[()].shape[-1] != len(self.outputs):
            raise ValueError(f"network gives {self.streams[()].shape[-1]} outputs, equation expects {len(outputs)}")

    def at(self, **values: float) -> JetDerivatives:
        moved = self._with_normals(self._moved(values))
        return JetDerivatives(self.model_jet, moved, self.variables, self.outputs, self.keys, self.space)

    def diff(self, field: str, *wrt: str) -> torch.Tensor:
        key = tuple(sorted(self._indices(field, wrt)))
        if key not in self.streams:
            raise KeyError(f"{field} {wrt}: not among the derivatives recorded for this residual")
        s = self.streams[key]
        i = self.outputs.index(field)
        return torch.zeros_like(self.points[:, 0]) if s is None else s[..., i].expand(len(self.points))


class Recorder(_ByName):
    """Runs a residual once to learn which partials it asks for (on ``d`` and on ``d.at(...)``):
    every request answers zeros; :attr:`keys` collects them."""

    def __init__(
        self, points: torch.Tensor, variables: Sequence[str], outputs: Sequence[str], keys=None, space=()
    ) -> None:
        self.variables, self.outputs = tuple(variables), tuple(outputs)
        self.points = self._take(points, space)
        self.keys: set[Key] = set() if keys is None else keys

    def at(self, **values: float) -> Recorder:
        return Recorder(self._with_normals(self._moved(values)), self.variables, self.outputs, self.keys, self.space)

    def diff(self, field: str, *wrt: str) -> torch.Tensor:
        self.keys.add(tuple(sorted(self._indices(field, wrt))))
        return torch.zeros_like(self.points[:, 0])
