"""Domains beyond boxes: primitives, constructive solid geometry, space-time, and geometries from
a config mapping.

A geometry is a closed domain in ``dim`` dimensions whose boundary is made of named parts. Points
are float64 numpy arrays of shape (n, dim), in and out; randomness comes from the
``numpy.random.Generator`` passed in, so the same seed gives the same points. Every geometry answers:

- ``dim``, ``bbox`` (lower, upper), ``measure`` (length, area, volume), ``parts`` (part names;
  ``"boundary"`` names the whole boundary wherever a part is asked for), ``boundary_measure(part=None)``;
- ``inside(x, tol=1e-9)``, ``on_boundary(x, tol=1e-9, part=None)`` (boolean (n,));
- ``interior_points(n, rng, draw=None)``: exactly n points inside, by rejection from
  ``draw(m, lower, upper, rng)`` in the bounding box (default uniform; pinnrun passes
  ``functools.partial(sampling.sample_box, method)``); a :class:`Box` returns the draw itself;
- ``boundary_points(n, rng, part=None, *, normals=False)``: exactly n points uniform in boundary
  measure (and their outward normals with ``normals=True``);
- ``normal(x, tol=1e-9)``: outward unit normals (nan rows off the boundary; at corners the normal of
  one of the pieces meeting there);
- ``distance(x, parts=None)``: distance to the chosen parts (numpy, exact for primitives);
- ``adf(x, parts=None)``: an approximate distance to them in torch, differentiable to any order,
  0 on them and positive elsewhere, for hard constraints u = A + adf N
  (:meth:`pinnrun.problems.Problem.dirichlet`);
- ``a | b``, ``a - b``, ``a & b``: union, difference, intersection.

Primitives (:mod:`.primitives`, :mod:`.planar`) are exact; CSG results (:mod:`.csg`) estimate
their measures by quasi-Monte Carlo. :class:`SpaceTime` adds a time interval; :func:`from_spec`
builds a geometry from a nested mapping (YAML). The layer depends on numpy, scipy, torch (``adf``
only) and :mod:`pinnrun.config` (and omegaconf, to read configs).
"""

from __future__ import annotations

from pinnrun.geometry.base import WHOLE, Geometry, GeometryWarning
from pinnrun.geometry.csg import Difference, Intersection, Union
from pinnrun.geometry.planar import Ellipse, Polygon, Triangle
from pinnrun.geometry.primitives import Ball, Box, Cuboid, Disk, Interval, Rectangle, Sphere
from pinnrun.geometry.spacetime import SpaceTime
from pinnrun.geometry.spec import from_spec

__all__ = [
    "WHOLE",
    "Ball",
    "Box",
    "Cuboid",
    "Difference",
    "Disk",
    "Ellipse",
    "Geometry",
    "GeometryWarning",
    "Intersection",
    "Interval",
    "Polygon",
    "Rectangle",
    "SpaceTime",
    "Sphere",
    "Triangle",
    "Union",
    "from_spec",
]
