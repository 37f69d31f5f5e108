"""Equations. Each module here holds one small declarative Problem subclass.

A problem states its input variables, its network outputs, the fields it is
evaluated on, its conditions (each a set of named loss terms on a region of
the domain) and its reference solution. A condition's residual function gets
the network's derivatives already bound to the condition's points (a
:class:`~pinnrun.derivatives.Derivatives`: ``d["u_xx"]``, ``d.input("x")``,
``d.at(x=1.0)``) and returns one tensor per component.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pinnrun import reference
from pinnrun.config import ConfigError, EquationConfig
from pinnrun.derivatives import Derivatives
from pinnrun.geometry import Geometry, GeometryWarning, from_spec
from pinnrun.geometry.base import ADF_FLOOR, root

#: d -> {component: residual (n,)}, d the derivatives at the condition's points
Residual = Callable[[Derivatives], dict[str, torch.Tensor]]


def term_name(condition: str, component: str) -> str:
    """The loss term of one component of a condition: ``<condition>_<component>`` (``initial_u``)."""
    return f"{condition}_{component}"


@dataclass
class Condition:
    """A set of loss terms sampled on one region of the domain.

    ``fixed`` pins some variables (t = 0 for an initial condition); the others
    are sampled over their domain bounds. ``boundary`` names the faces of the
    domain the points lie on: a variable for both its faces (``("x",)``: x =
    lower and x = upper; ``("x", "y")``: the four edges of a rectangle), or
    ``"x-"`` / ``"x+"`` for one face (``("t-", "x")``: the initial line and both
    walls). The points are shared among the faces in proportion to their size,
    or, for a condition in ``equation.per_face``, so many on each face.
    On a problem whose domain has a geometry (:mod:`pinnrun.geometry`), ``on``
    names the boundary parts the points lie on (``on="holes"``, ``on=("inlet",
    "walls")``; ``"boundary"`` is the whole boundary); there ``d.normal("u")``
    (``d["u_n"]``) is the outward normal derivative. A condition with neither
    ``on`` nor ``boundary`` lies inside the domain (in the geometry, for one).
    ``residual(d)``, with ``d`` the derivatives at the condition's points,
    returns one residual tensor per name in ``components``; the loss term
    ``term_name(<condition>, <component>)`` is the mean of its square (per
    face: the sum over the faces of each face's mean square).
    """

    components: Sequence[str]
    residual: Residual
    fixed: Mapping[str, float] = field(default_factory=dict)
    boundary: Sequence[str] = ()
    on: str | Sequence[str] = ()

    def __post_init__(self) -> None:
        check_residual(self.residual)
        self.on = (self.on,) if isinstance(self.on, str) else tuple(self.on)

    @property
    def periodic_in(self) -> str:
        """The variable this condition asks periodicity in (:meth:`Problem.periodic`), else ""."""
        return getattr(self.residual, "periodic_in", "")

    def faces(self) -> list[tuple[str, int]]:
        """The faces the points lie on, as (variable, 0 for its lower bound or 1 for its upper)."""
        out = []
        for b in self.boundary:
            var, side = (b[:-1], b[-1]) if b[-1] in "+-" else (b, "")
            out += [(var, s) for s in ((0, 1) if not side else (int(side == "+"),))]
        return out


def check_residual(residual: Residual) -> None:
    """A residual takes one argument, the derivatives at the condition's points. One written for
    the signature before pinnrun 0.2, ``residual(pts, net)`` with ``d = net(pts)``, gets a
    ConfigError naming it and the current signature (CHANGELOG.md, 0.2.0)."""
    try:
        params = inspect.signature(residual).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: nothing to say
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if len(required) > 1:
        name = getattr(residual, "__qualname__", repr(residual))
        args = ", ".join(p.name for p in required)
        raise ConfigError(
            f"residual {name}({args}) has the signature before pinnrun 0.2: write {name}(d) and read the "
            "derivatives at the condition's points from d (d['u_xx'], d.input('x')) instead of net(pts) "
            "(CHANGELOG.md, 0.2.0)"
        )


#: the key of ``equation.domain`` that holds a geometry (over the variables the domain names no bounds for)
GEOMETRY = "geometry"


def split_domain(
    domain: Mapping[str, Any], variables: Sequence[str]
) -> tuple[dict[str, tuple[float, float]], Geometry | None, tuple[str, ...]]:
    """(bounds per variable, the geometry or None, its space variables) of ``equation.domain``.

    Each key names one variable with ``[lower, upper]``; the key ``geometry`` holds a
    :class:`~pinnrun.geometry.Geometry` or its spec (``{difference: [...]}``,
    :func:`pinnrun.geometry.from_spec`) over the other variables, in the problem's order (its
    space variables); their bounds are its bounding box."""
    bounds: dict[str, tuple[float, float]] = {}
    for key, value in domain.items():
        if key != GEOMETRY:
            lo, hi = value
            bounds[str(key)] = (float(lo), float(hi))
    if GEOMETRY not in domain:
        return bounds, None, ()
    value = domain[GEOMETRY]
    geometry = value if isinstance(value, Geometry) else from_spec(value, where=f"equation.domain.{GEOMETRY}")
    space = tuple(v for v in variables if v not in bounds)
    if geometry.dim != len(space):
        raise ConfigError(
            f"equation.domain.{GEOMETRY}: a {geometry.dim}-D geometry for the {len(space)} variable(s) "
            f"{list(space)} the domain gives no bounds for"
        )
    lo, hi = geometry.bbox
    bounds.update({v: (float(a), float(b)) for v, a, b in zip(space, lo, hi)})
    return {v: bounds[v] for v in variables}, geometry, space


@dataclass
class HardConstraint:
    """An output transform that satisfies some conditions exactly, whatever the network N gives:

        u_o(x) = A_o(x) + B_o(x) N_o(x)      for each output o,

    A (``particular``) meeting the conditions' data and B (``factor``) vanishing where they are
    imposed (Lagaris, Likas & Fotiadis 1998, "Artificial neural networks for solving ordinary and
    partial differential equations", IEEE TNN 9(5); Lu et al. 2021, "Physics-informed neural
    networks with hard constraints for inverse design", SIAM J. Sci. Comput. 43(6)).
    ``particular(x)`` and ``factor(x)`` get the points as ``exact`` does (``x[var]``, columns)
    and return ``{output: tensor}``; an output neither names is N itself (A = 0, B = 1).
    ``satisfies``: the conditions that then hold for every N (their loss terms are dropped with
    ``model.hard_constraints=true``). ``periodic_in``: the variables in which A and B are periodic
    over the domain with all their derivatives, so that a network periodic in them
    (``model.periodic``) keeps u periodic.
    """

    satisfies: Sequence[str]
    particular: Callable[[Mapping[str, torch.Tensor]], Mapping[str, torch.Tensor]]
    factor: Callable[[Mapping[str, torch.Tensor]], Mapping[str, torch.Tensor]]
    periodic_in: Sequence[str] = ()

    def functions(
        self, variables: Sequence[str], outputs: Sequence[str]
    ) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
        """A and B as functions of the points (n, d) -> (n, m), columns in variable and output order."""

        def columns(fn, default: float):
            def stacked(points: torch.Tensor) -> torch.Tensor:
                out = fn({v: points[:, i] for i, v in enumerate(variables)})
                zero = torch.zeros_like(points[:, 0])
                return torch.stack([zero + out.get(o, default) for o in outputs], 1)

            return stacked

        return columns(self.particular, 0.0), columns(self.factor, 1.0)


class ReferenceData:
    """What a :class:`Problem` is compared with: its reference file, its reference dataset, or its
    exact solution on a grid or at scattered points (the evaluation's reference), and which points
    lie in its domain. A part of :class:`Problem` (its base class), on the attributes the problem
    declares (``dataset``, ``reference_file``, ``grid_points``, ...)."""

    def has_exact(self) -> bool:
        return type(self).exact is not Problem.exact

    @property
    def time(self) -> str | None:
        """The variable a scattered reference may hold as time-series columns: on a geometry the
        one variable besides its space variables, else ``t`` if the problem has one."""
        rest = [v for v in self.variables if v not in self.space]
        if self.geometry is not None:
            return rest[0] if len(rest) == 1 else None
        return "t" if "t" in self.variables else None

    def inside(self, points: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Which rows of ``points`` (columns in variable order) lie in the domain (within ``tol``
        of it, relative to its size)."""
        points = np.asarray(points, dtype=np.float64)
        lo, hi = np.array(self.lower), np.array(self.upper)
        pad = tol * np.maximum(hi - lo, 1.0)
        ok = np.all((points >= lo - pad) & (points <= hi + pad), axis=1)
        if self.geometry is not None:
            cols = [self.variables.index(v) for v in self.space]
            ok &= self.geometry.inside(points[:, cols], tol=float(pad[cols].max()))
        return ok

    def reference_dataset(self) -> str | None:
        """The name of the reference dataset of :mod:`pinnrun.reference` this problem is compared
        with: ``dataset`` if the domain is its ``dataset_domain`` and the constants are the
        equation's defaults (what it was made for); else None."""
        if not self.dataset:
            return None
        same = all(np.allclose(self.domain[v], self.dataset_domain[v]) for v in self.variables) and all(
            np.isclose(float(self.p[k]), float(v)) for k, v in self.params.items()
        )
        return self.dataset if same else None

    def reference(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | reference.PointReference | None:
        """(grid, ref): 1-D axis per variable, and each field on that grid; or a
        :class:`~pinnrun.reference.PointReference` (fields on scattered points); None if there is none.

        The reference file (``equation.reference`` or :attr:`reference_file`) if there is one,
        every point checked to lie in the domain; else the reference dataset
        (:meth:`reference_dataset`), loaded and never built here (a missing file is a
        :class:`ConfigError` saying how to build it); else, for a problem without a ``dataset``,
        the exact solution on ``grid_points`` equispaced points per axis, or at ``interior_points``
        uniform interior points (:func:`pinnrun.reference.uniform_interior`, PINNacle's test points)
        when that is set. On a geometry, without a file: None (the evaluation draws
        ``reference_points`` points and takes :meth:`exact_at`).
        """
        if self.reference_file:
            if not Path(self.reference_file).is_absolute() and not self.reference_path().is_file():
                return None  # an equation's own file not placed yet: no L2 errors (the run says which file)
            return self.scattered_reference()
        if self.geometry is not None:  # the evaluation takes the exact solution at its scattered points (exact_at)
            return None
        if self.interior_points:  # PINNacle's test points
            return self.exact_at(reference.uniform_interior(self.domain, self.interior_points, self.interior_time))
        name = self.reference_dataset()
        if name is not None:
            path = reference.path(name)
            if not path.is_file():
                raise ConfigError(
                    f"reference dataset {path} does not exist: build it with "
                    f"`python -m pinnrun.reference {name}` (or `make data`)"
                )
            return reference.load(path)
        if self.dataset or not self.has_exact():  # a dataset made for another domain or constants
            return None
        n = self.grid_points
        grid = {v: np.linspace(lo, hi, n[v] if isinstance(n, Mapping) else n) for v, (lo, hi) in self.domain.items()}
        mesh = torch.meshgrid(*(torch.as_tensor(a, dtype=torch.float64) for a in grid.values()), indexing="ij")
        fields = self.derived(self.exact({v: m.reshape(-1) for v, m in zip(grid, mesh)}))
        return grid, {f: fields[f].reshape(mesh[0].shape).numpy() for f in self.fields}

    def reference_path(self) -> Path:
        """Where the reference file is: ``reference_file`` under the reference data directory, or
        absolute (``equation.reference``)."""
        return reference.data_dir() / os.path.expanduser(self.reference_file)

    def scattered_reference(self) -> reference.PointReference:
        """The reference file read onto this problem's variables and fields, all of its points in
        the domain (a ConfigError counts those that are not)."""
        path = self.reference_path()
        ref = reference.read_points(path, self.variables, self.fields, self.time)
        outside = int((~self.inside(ref.points, tol=1e-6)).sum())
        if outside:
            raise ConfigError(
                f"reference file {path}: {outside} of {len(ref.points)} points lie outside the domain "
                f"({', '.join(self.variables)})"
            )
        return ref

    def exact_at(self, points: np.ndarray) -> reference.PointReference:
        """The exact solution's fields at ``points`` (columns in variable order), as a reference on
        scattered points (the evaluation's on a geometry)."""
        x = torch.as_tensor(points, dtype=torch.float64)
        fields = self.derived(self.exact({v: x[:, i] for i, v in enumerate(self.variables)}))
        values = {f: fields[f].detach().numpy() for f in self.fields}
        return reference.PointReference(self.variables, points, values, "exact solution")

    def exact_net(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The exact solution as a 'network' (points (N, d) -> outputs (N, m)), to check an equation."""

        def net(points: torch.Tensor) -> torch.Tensor:
            out = self.exact({v: points[:, i] for i, v in enumerate(self.variables)})
            return torch.stack([out[o] for o in self.outputs], 1)

        return net


class Problem(ReferenceData):
    variables: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # evaluated fields: outputs and derived ones
    primary_field: str = ""  # the field a paper reports ("": the first field)
    params: dict[str, Any] = {}  # equation constants and their defaults
    # per axis (or {variable: count}), of the grid an exact solution is evaluated on
    grid_points: int | dict[str, int] = 201
    dataset: str = ""  # a reference dataset of pinnrun.reference, made for ...
    dataset_domain: dict[str, tuple] = {}  # ... this domain only
    #: on a geometry: how many scattered points the run is evaluated on (a fixed Sobol draw)
    reference_points: int = 10000
    #: a file of scattered reference values (pinnrun.reference.points: COMSOL text, CSV, HDF5): a
    #: path relative to the reference data directory, or absolute (``equation.reference`` sets it)
    reference_file: str = ""
    #: an exact solution on a box: how many uniform interior points it is evaluated at instead of
    #: the grid (0: the grid), and the variable laid out as time there (None: one hypercube);
    #: ``equation.reference_interior`` sets them
    interior_points: int = 0
    interior_time: str | None = None

    def __init__(self, domain: Mapping[str, Any], params: Mapping[str, Any] | None = None):
        self.check(domain, params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GeometryWarning)
            self.domain, self.geometry, self.space = split_domain(domain, self.variables)
        #: what building the geometry warned of (a hole that misses the domain): the run's header says it
        self.warnings = [str(w.message) for w in caught if issubclass(w.category, GeometryWarning)]
        for w in caught:
            if not issubclass(w.category, GeometryWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.p = {**self.params, **(params or {})}
        self.primary_field = self.primary_field or (self.fields[0] if self.fields else "")

    def check(self, domain: Mapping[str, Any], params: Mapping[str, Any] | None) -> None:
        """The domain names this equation's variables in order (with a ``geometry``, the variables
        it does not span); ``params`` only its constants."""
        names = [k for k in domain if k != GEOMETRY]
        expected = [v for v in self.variables if v in names] if GEOMETRY in domain else list(self.variables)
        if names != expected:
            raise ConfigError(
                f"equation.domain: {type(self).__name__} needs variables {list(self.variables)} "
                f"in that order{' (a geometry spans the others)' if GEOMETRY in domain else ''}, got {names}"
            )
        unknown = set(params or {}) - set(self.params)
        if unknown:
            raise ConfigError(
                f"equation.params: unknown {sorted(unknown)} (this equation takes: {sorted(self.params) or 'none'})"
            )

    # -- what an equation module defines --------------------------------------
    def conditions(self) -> dict[str, Condition]:
        raise NotImplementedError

    def derived(self, out: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Evaluated fields from the network outputs (default: the outputs)."""
        return {f: out[f] for f in self.fields}

    def exact(self, x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The exact solution, if the problem has one: each output at the points ``x[var]``."""
        raise NotImplementedError

    def hard_constraint(self) -> HardConstraint | None:
        """The output transform ``model.hard_constraints=true`` wraps the network in, if this
        equation declares one (default: none)."""
        return None

    def dirichlet(self, data: Mapping[str, Mapping[str, float | Callable]]) -> HardConstraint:
        """The output transform that makes Dirichlet conditions hold exactly, on any domain:
        ``data`` maps condition names to ``{output: value}``, a value a number or a function of the
        points as :meth:`exact` gets them (``x["t"]``, columns). Return it from
        :meth:`hard_constraint`; e.g. ``self.dirichlet({"outer": {"u": 1.0}, "holes": {"u": 0.0}})``.

        Per output, over the conditions that give it a value: B = 1 / sum_c 1 / phi_c and
        A = sum_c (g_c / phi_c) / sum_c (1 / phi_c), with phi_c an approximate distance to where
        condition c lies (Sukumar & Srivastava 2022, "Exact imposition of boundary conditions with
        distance functions in physics-informed deep neural networks", CMAME 389, 114333: this is
        their transfinite interpolation with mu = 1). phi_c vanishes exactly there: on its geometry
        parts (``on``: :meth:`pinnrun.geometry.Geometry.adf`), on its box faces (``boundary``:
        |x - bound|) and at its ``fixed`` values, taken together as sqrt of the sum of their squares
        (the points lie on all of them at once). So A = g_c and B = 0 on condition c, for every
        network. A one-line ConfigError names a condition that is unknown, lies inside the domain,
        or lacks a value for one of its components."""
        conditions = self.conditions()
        for name, values in data.items():
            where = f"{type(self).__name__}.dirichlet: condition '{name}'"
            if name not in conditions:
                raise ConfigError(f"{where} is not one of this equation's ({', '.join(conditions)})")
            c = conditions[name]
            if not (c.on or c.boundary or c.fixed):
                raise ConfigError(f"{where} lies inside the domain: a Dirichlet condition lies on a boundary")
            missing = [o for o in c.components if o not in values]
            unknown = [o for o in values if o not in self.outputs]
            if missing or unknown:
                raise ConfigError(
                    f"{where}: give a value for each of its components {list(c.components)} "
                    f"(missing {missing}, not outputs {unknown})"
                )
            if c.on:
                if self.geometry is None:
                    raise ConfigError(f"{where} lies on parts {list(c.on)}, but the domain has no geometry")
                self.geometry.check_parts(c.on)

        def distance(x: Mapping[str, torch.Tensor], c: Condition) -> torch.Tensor:
            squares = []
            if c.on:
                points = torch.stack([x[v] for v in self.space], 1)
                squares.append(self.geometry.adf(points, c.on) ** 2)
            faces = [(x[var] - self.domain[var][side]).abs() for var, side in c.faces()]
            if faces:
                squares.append((1 / sum(1 / f.clamp_min(ADF_FLOOR) for f in faces)) ** 2)
            squares += [(x[var] - float(value)) ** 2 for var, value in c.fixed.items()]
            return root(sum(squares))

        def inverse_distances(x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {name: 1 / distance(x, conditions[name]) for name in data}

        def particular(x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            inv, out = inverse_distances(x), {}
            for o in self.outputs:
                given = [(inv[name], values[o]) for name, values in data.items() if o in values]
                if given:
                    value = [g(x) if callable(g) else g for _, g in given]
                    out[o] = sum(w * g for (w, _), g in zip(given, value)) / sum(w for w, _ in given)
            return out

        def factor(x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            inv = inverse_distances(x)
            return {
                o: 1 / sum(inv[name] for name, values in data.items() if o in values)
                for o in self.outputs
                if any(o in values for values in data.values())
            }

        return HardConstraint(satisfies=tuple(data), particular=particular, factor=factor)

    def with_params(self, values: Mapping[str, Any]) -> Problem:
        """A shallow copy whose constants ``p`` are ``{**self.p, **values}`` (e.g. trainable
        unknowns); this problem is left as it is. Names that are not constants: ConfigError."""
        unknown = set(values) - set(self.p)
        if unknown:
            raise ConfigError(
                f"equation.unknowns: {sorted(unknown)} are not constants of this equation "
                f"(it has: {', '.join(self.p) or 'none'})"
            )
        new = copy.copy(self)
        new.p = {**self.p, **values}
        return new

    # -- shared helpers ---------------------------------------------------------
    @property
    def lower(self) -> list[float]:
        return [self.domain[v][0] for v in self.variables]

    @property
    def upper(self) -> list[float]:
        return [self.domain[v][1] for v in self.variables]

    def misfit(self, d: Derivatives, *names: str) -> dict[str, torch.Tensor]:
        """Each named output (default: all) minus the exact solution at the points of ``d``:
        ``{name: d[name] - exact(inputs of d)[name]}``."""
        target = self.exact({v: d.input(v) for v in self.variables})
        return {o: d[o] - target[o] for o in (names or self.outputs)}

    def matches_exact(self, *names: str) -> Residual:
        """Residual of a condition that matches the exact solution: ``d -> misfit(d, *names)``.

        Use with ``Condition(names, self.matches_exact(*names), ...)`` (no names: all outputs).
        """

        def residual(d: Derivatives) -> dict[str, torch.Tensor]:
            return self.misfit(d, *names)

        return residual

    def periodic(self, var: str, names: Sequence[str]) -> Residual:
        """Residual of periodicity in ``var``: each named quantity equal at its lower and upper bound,
        ``d -> {k: d[k] - d.at(var=upper)[k]}``.

        Use with ``Condition(names, self.periodic(var, names), fixed={var: lower})``.
        """
        upper = self.domain[var][1]

        def residual(d: Derivatives) -> dict[str, torch.Tensor]:
            hi = d.at(**{var: upper})
            return {k: d[k] - hi[k] for k in names}

        residual.periodic_in = var  # a periodic embedding of var satisfies it (Condition.periodic_in)
        return residual


class FunctionFit(Problem):
    """Fitting instead of solving: the network's outputs are fitted to ``exact`` (the target
    function) at the sampled points of the one condition ``fit`` (loss terms ``fit_<output>``,
    the mean squared error). With ``equation.test_points`` the run also logs the MSE on
    held-out random points (``test_loss``)."""

    def conditions(self) -> dict[str, Condition]:
        return {"fit": Condition(self.outputs, self.matches_exact())}


def load_class(name: str, also: Sequence[str] = ()) -> type:
    """The class named by ``name``: the ``PROBLEM`` of a module of pinnrun.problems, or 'pkg.module:Class'
    (a user's, or another built-in kind of problem; ``also`` names those for the error message)."""
    if ":" in name:
        module_name, _, cls_name = name.partition(":")
        if os.getcwd() not in sys.path:  # a user's package in the directory pinnrun runs from
            sys.path.append(os.getcwd())
    else:
        module_name, cls_name = f"pinnrun.problems.{name}", None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and module_name.startswith(e.name):  # the module itself, or its package
            raise ConfigError(
                f"equation.name: unknown equation '{name}' (built in: {', '.join(sorted([*available(), *also]))}; "
                "or give 'package.module:ClassName')"
            ) from None
        raise
    return getattr(module, "PROBLEM" if cls_name is None else cls_name, None)


def build(cfg: EquationConfig, cls: type | None = None) -> Problem:
    """The PINN problem named by ``equation.name`` (see :func:`load_class`; ``cls``: already loaded),
    with the reference file of ``equation.reference`` if one is given."""
    cls = cls or load_class(cfg.name)
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise ConfigError(f"equation.name: '{cfg.name}' does not name a pinnrun Problem class")
    problem = cls(dict(cfg.domain), dict(cfg.params))
    if cfg.reference:  # a path as the user gave it: from the working directory, or absolute
        problem.reference_file = str(Path(cfg.reference).expanduser().resolve())
    interior = cfg.reference_interior
    if interior.points or interior.time:
        problem.interior_points, problem.interior_time = interior.points, interior.time or None
        check_interior(problem)
    return problem


def check_interior(problem: Problem) -> None:
    """A ConfigError for ``equation.reference_interior`` settings the problem cannot take."""
    key = "equation.reference_interior"
    if problem.interior_points <= 0:
        raise ConfigError(f"{key}.points: {problem.interior_points}; give a positive number of points (0: the grid)")
    if problem.interior_time is not None and problem.interior_time not in problem.variables:
        raise ConfigError(
            f"{key}.time: '{problem.interior_time}' is not a variable of this equation ({', '.join(problem.variables)})"
        )
    if problem.geometry is not None:
        raise ConfigError(f"{key}: the domain is a geometry, not a box (its errors are taken at scattered points)")
    dataset = problem.reference_dataset()
    if problem.reference_file or dataset is not None:
        source = problem.reference_file or f"the dataset '{dataset}'"
        raise ConfigError(f"{key}: this equation is compared with {source}, not with an exact solution")
    if not problem.has_exact():
        raise ConfigError(f"{key}: this equation has no exact solution to evaluate at interior points")


def available() -> list[str]:
    import pkgutil

    import pinnrun.problems as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))


__all__ = [
    "Condition",
    "FunctionFit",
    "HardConstraint",
    "Problem",
    "Residual",
    "available",
    "build",
    "load_class",
    "GEOMETRY",
    "split_domain",
    "term_name",
]
