"""Reference datasets built by pinnrun's own numerical solvers.

A dataset is an HDF5 file ``data_dir()/<name>.h5``::

    /grid/<var>    1-D axis per input variable
    /ref/<field>   array of shape (len(grid[v0]), len(grid[v1]), ...)
    attrs: variables ("t,x": the equation's variable order, since h5py lists
           groups alphabetically), equation, method, pinnrun_version

``path(name)`` is where a dataset lives (nothing is built); ``ensure(name)``
builds a missing file with ``BUILDERS[name]`` (the run calls it, and says so,
before training); ``load(path)`` reads one back.
``python -m pinnrun.reference [name ...]`` (re)builds them (default: all).

PINNacle's reference files (COMSOL exports some built-in equations are compared with) are not
built but fetched, checksummed, into ``data_dir()/pinnacle/``: see :mod:`pinnrun.reference.pinnacle`
(``python -m pinnrun.reference --pinnacle`` fetches them all ahead of time).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import h5py
import numpy as np

from pinnrun.config import ConfigError
from pinnrun.io import atomic_path
from pinnrun.reference import pinnacle
from pinnrun.reference.burgers import build_burgers
from pinnrun.reference.points import PointReference, read_points, sha256, uniform_interior
from pinnrun.reference.spectral import build_allen_cahn, build_kdv, build_nls

#: name -> builder returning (grid: {var: 1-D array} in variable order,
#: ref: {field: array}, method: one-line description)
BUILDERS: dict[str, Callable[[], tuple[dict[str, np.ndarray], dict[str, np.ndarray], str]]] = {
    "nls": build_nls,
    "burgers": build_burgers,
    "allen_cahn": build_allen_cahn,
    "kdv": build_kdv,
}

_ENV = "PINNRUN_DATA_DIR"


def _version() -> str:
    try:
        return version("pinnrun")
    except PackageNotFoundError:
        return "0+unknown"


def data_dir() -> Path:
    """``$PINNRUN_DATA_DIR``; else ``<repo>/data`` in a source checkout; else ``~/.cache/pinnrun/data``."""
    env = os.environ.get(_ENV)
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / "data"
    return Path.home() / ".cache" / "pinnrun" / "data"


def _builder(name: str):
    try:
        return BUILDERS[name]
    except KeyError:
        raise ConfigError(f"unknown reference dataset '{name}': available are {', '.join(sorted(BUILDERS))}") from None


def build(name: str) -> Path:
    """Build ``data_dir()/<name>.h5`` (overwriting it) atomically; returns its path."""
    builder = _builder(name)
    grid, ref, method = builder()
    out = data_dir() / f"{name}.h5"
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["variables"] = ",".join(grid)
        f.attrs["equation"] = name
        f.attrs["method"] = method
        f.attrs["pinnrun_version"] = _version()
        for var, axis in grid.items():
            f.create_dataset(f"grid/{var}", data=np.asarray(axis, dtype=np.float64))
        for field, values in ref.items():
            f.create_dataset(f"ref/{field}", data=np.asarray(values, dtype=np.float64))
    return out


def path(name: str) -> Path:
    """Where dataset ``name`` lives, ``data_dir()/<name>.h5``, whether or not it exists (builds nothing)."""
    _builder(name)
    return data_dir() / f"{name}.h5"


def ensure(name: str) -> Path:
    """Path of ``data_dir()/<name>.h5``, built first if it is missing."""
    out = path(name)
    return out if out.exists() else build(name)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def load(path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read a reference file: ``(grid, ref)``, grid in the equation's variable order.

    Raises :class:`ConfigError` naming the file when it is missing, unreadable
    or not laid out as documented above.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"reference file {path} does not exist: build it with `python -m pinnrun.reference`")
    try:
        with h5py.File(path, "r") as f:
            variables = f.attrs["variables"]
            if isinstance(variables, bytes):
                variables = variables.decode()
            variables = [v.strip() for v in str(variables).split(",") if v.strip()]
            grid = {v: np.asarray(f["grid"][v][()]) for v in variables}
            ref = {k: np.asarray(d[()]) for k, d in f["ref"].items()}
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"reference file {path} is corrupt ({_one_line(exc)}): delete it to rebuild it") from None
    shape = tuple(a.shape[0] if a.ndim == 1 else -1 for a in grid.values())
    if not variables or not ref or any(a.shape != shape for a in ref.values()):
        raise ConfigError(
            f"reference file {path} is corrupt (expected /grid axes for "
            f"{variables or 'attribute variables'} and /ref fields of shape {shape}): "
            f"delete it to rebuild it"
        )
    return grid, ref


__all__ = [
    "BUILDERS",
    "PointReference",
    "build",
    "data_dir",
    "ensure",
    "load",
    "path",
    "pinnacle",
    "read_points",
    "sha256",
    "uniform_interior",
]
