"""Geometries from a nested mapping, as YAML in an equation config gives them::

    difference:
      - rectangle: {lower: [-0.5, -0.5], upper: [0.5, 0.5], name: outer}
      - union:
          - disk: {center: [0.0, 0.0], radius: 0.2, name: holes}
          - disk: {center: [0.3, 0.3], radius: 0.1, name: holes}

Each mapping has exactly one key: a primitive (its constructor's parameters as keys) or ``union``,
``difference``, ``intersection`` (a list of two or more specs, combined left to right; a
difference is the first minus all the others). Errors are one-line ConfigErrors naming the path.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from functools import reduce
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from pinnrun.config import ConfigError
from pinnrun.geometry.base import Geometry
from pinnrun.geometry.csg import Difference, Intersection, Union
from pinnrun.geometry.primitives import (
    Ball,
    Box,
    Cuboid,
    Disk,
    Ellipse,
    Interval,
    Polygon,
    Rectangle,
    Sphere,
    Triangle,
)

# what each parameter must be, as error messages name it
NUM, VEC, PAIRS, STR = "a number", "a list of numbers", "a list of [x, y] pairs", "a string"
NAMES, STRS = "a mapping of face to name", "a list of names"
_BOX = {"lower": VEC, "upper": VEC, "name": STR, "names": NAMES}
_BALL = {"center": VEC, "radius": NUM, "name": STR}
PRIMITIVES: dict[str, tuple[type[Geometry], dict[str, str]]] = {
    "interval": (Interval, {"a": NUM, "b": NUM, "name": STR, "names": NAMES}),
    "box": (Box, _BOX),
    "rectangle": (Rectangle, _BOX),
    "cuboid": (Cuboid, _BOX),
    "ball": (Ball, _BALL),
    "disk": (Disk, _BALL),
    "sphere": (Sphere, _BALL),
    "ellipse": (Ellipse, {"center": VEC, "semi_axes": VEC, "angle": NUM, "name": STR}),
    "triangle": (Triangle, {"a": VEC, "b": VEC, "c": VEC, "name": STR, "edge_names": STRS}),
    "polygon": (Polygon, {"vertices": PAIRS, "name": STR, "edge_names": STRS}),
}
OPERATIONS = {"union": Union, "difference": Difference, "intersection": Intersection}
KINDS = ", ".join([*PRIMITIVES, *OPERATIONS])


def from_spec(spec: Any, where: str = "domain") -> Geometry:
    """The geometry a nested mapping describes (plain dicts and lists, or OmegaConf containers);
    ``where`` is the path of ``spec`` in the config, the prefix of error messages."""
    if isinstance(spec, (DictConfig, ListConfig)):
        spec = OmegaConf.to_container(spec, resolve=True)
    return _build(spec, where)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_number(e) for e in v)


CHECKS = {
    NUM: _is_number,
    VEC: _numbers,
    PAIRS: lambda v: isinstance(v, (list, tuple)) and all(_numbers(e) and len(e) == 2 for e in v),
    STR: lambda v: isinstance(v, str),
    NAMES: lambda v: isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(e, str) for k, e in v.items()),
    STRS: lambda v: isinstance(v, (list, tuple)) and all(isinstance(e, str) for e in v),
}


def _build(spec: Any, where: str) -> Geometry:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: expected a mapping with one key (one of: {KINDS}), got {spec!r}")
    if len(spec) != 1:
        keys = ", ".join(map(str, spec)) or "none"
        raise ConfigError(f"{where}: expected exactly one key (one of: {KINDS}), got {len(spec)} ({keys})")
    ((kind, value),) = spec.items()
    path = f"{where}.{kind}"
    if kind in OPERATIONS:
        if not isinstance(value, (list, tuple)) or len(value) < 2:
            raise ConfigError(f"{path}: expected a list of two or more geometries, got {value!r}")
        children = [_build(child, f"{path}[{i}]") for i, child in enumerate(value)]
        try:
            return reduce(OPERATIONS[kind], children)
        except ConfigError as e:
            raise ConfigError(f"{path}: {_strip(e)}") from None
    if kind not in PRIMITIVES:
        raise ConfigError(f"{where}: unknown geometry {kind!r} (known: {KINDS})")
    cls, types = PRIMITIVES[kind]
    keys = ", ".join(types)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of parameters (keys: {keys}), got {value!r}")
    for key, v in value.items():
        if key not in types:
            raise ConfigError(f"{path}: unknown key {key!r} (keys: {keys})")
        if not CHECKS[types[key]](v):
            raise ConfigError(f"{path}.{key}: expected {types[key]}, got {v!r}")
    required = [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.default is p.empty][1:]
    for key in required:
        if key not in value:
            raise ConfigError(f"{path}: missing key {key!r} (keys: {keys})")
    try:
        return cls(**value)
    except ConfigError as e:
        raise ConfigError(f"{path}: {_strip(e)}") from None


def _strip(e: ConfigError) -> str:
    msg = str(e)
    return msg[len("geometry: ") :] if msg.startswith("geometry: ") else msg
