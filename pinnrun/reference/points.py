"""Reference solutions on scattered points: finite-element exports for non-box domains.

``read_points(path, variables, fields, time=None)`` reads one file into a
:class:`PointReference` (``points`` of shape (N, len(variables)) in the equation's
variable order, one (N,) array per field). The format follows the suffix:

``.dat``, ``.txt``
    COMSOL text export. Lines starting with ``%`` are a header whose last line names the
    columns, separated by runs of two or more spaces (``u (m/s)``, ``u (1) @ t=0.1``); a file
    may have no header. Then rows of whitespace-separated numbers. Without ``@ t=`` columns
    a row is a point: every variable in order, then each field. With them (a time series)
    the columns before the first ``@ t=`` column are the space variables (all but ``time``,
    in order); the time columns are grouped by t (ascending), the fields of each t taken in
    the order of their first appearance in the file and mapped by position onto ``fields``;
    the file expands into one row per (t, space row), t-major.
``.csv``
    One header row. When the names include every variable and every field (a name matches
    as written or without its unit and ``@`` suffix: ``u (m/s)`` is ``u``), columns are taken
    by name, extra ones ignored; otherwise by position, as for a steady text export.
``.h5``, ``.hdf5``
    Datasets ``points/<var>`` and ``ref/<field>``, each of shape (N,).

Anything wrong with a file (missing, unknown suffix, wrong column count, ragged or
non-numeric rows, NaN or inf, no data rows, time columns that do not match ``fields``)
raises :class:`~pinnrun.config.ConfigError` with one line naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import h5py
import numpy as np

from pinnrun.config import ConfigError

#: suffix -> format
FORMATS = {".dat": "comsol", ".txt": "comsol", ".csv": "csv", ".h5": "hdf5", ".hdf5": "hdf5"}

# "u (1) @ t=0.1", "u @ Re=100, t=2": the value after "t=" in the part after "@"
_TIME = re.compile(r"@.*?(?<![\w.])t\s*=\s*([^\s,;]+)")
# COMSOL separates header names by two or more spaces (or a tab); single spaces stay in a name
_HEADER_SPLIT = re.compile(r"\s*\t\s*|\s{2,}")
_UNIT = re.compile(r"\s*\([^()]*\)\s*$")


@dataclass(frozen=True)
class PointReference:
    """A reference solution on N scattered points."""

    variables: tuple[str, ...]  # column order of points
    points: np.ndarray  # (N, len(variables)) float64
    fields: dict[str, np.ndarray]  # field -> (N,) float64
    source: str  # the file path, for messages


def sha256(path) -> str:
    """Hex SHA-256 digest of the file at ``path``, read in 1 MiB chunks."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"file {path} does not exist")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_points(path, variables: Sequence[str], fields: Sequence[str], time: str | None = None) -> PointReference:
    """Read the reference file at ``path`` (format by suffix; see the module docstring).

    ``variables``: the equation's input variables in order; ``fields``: the fields the
    columns hold after the coordinates, in order (may be empty: points only); ``time``: the
    variable that a text export may hold as ``@ t=`` columns (None: the equation has none).
    """
    variables, fields = tuple(variables), tuple(fields)
    _check_arguments(variables, fields, time)
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"reference file {path} does not exist")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(
            f"reference file {path}: unknown format '{path.suffix or '(no suffix)'}', "
            f"supported are {', '.join(sorted(FORMATS))}"
        )
    if kind == "hdf5":
        points, values = _read_hdf5(path, variables, fields)
    elif kind == "csv":
        points, values = _read_csv(path, variables, fields)
    else:
        points, values = _read_comsol(path, variables, fields, time)
    return PointReference(variables=variables, points=points, fields=values, source=str(path))


def _check_arguments(variables: tuple[str, ...], fields: tuple[str, ...], time: str | None) -> None:
    if not variables:
        raise ConfigError("read_points: no variables given")
    names = variables + fields
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"read_points: {', '.join(repeated)} named twice among variables and fields")
    if time is not None and time not in variables:
        raise ConfigError(f"read_points: time '{time}' is not one of the variables ({', '.join(variables)})")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _bare(name: str) -> str:
    """A column name without its ``@ ...`` suffix and trailing unit: ``u (m/s) @ t=1`` -> ``u``."""
    return _UNIT.sub("", name.split("@", 1)[0]).strip()


def _read_text(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ConfigError(f"reference file {path} cannot be read ({_one_line(exc)})") from None


def _table(path: Path, rows: list[tuple[int, str]], delimiter: str | None) -> np.ndarray:
    """The numbers of ``rows`` ((line number, text) pairs) as an (n, k) float64 array."""
    if not rows:
        raise ConfigError(f"reference file {path} holds no data rows")
    try:
        lines = [text for _, text in rows]
        table = np.loadtxt(lines, delimiter=delimiter, comments=None, ndmin=2, dtype=np.float64)
    except ValueError as exc:
        _diagnose(path, rows, delimiter, exc)
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        first = rows[int(np.argmax(bad))][0]
        raise ConfigError(
            f"reference file {path}: {int(bad.sum())} of {len(rows)} rows hold NaN or inf (first: line {first})"
        )
    return table


def _diagnose(path: Path, rows: list[tuple[int, str]], delimiter: str | None, exc: ValueError) -> NoReturn:
    """Raise a ConfigError naming the line that np.loadtxt could not read."""
    width = None
    first = rows[0][0]
    for line, text in rows:
        values = text.split(delimiter)
        if delimiter is not None:
            values = [v.strip() for v in values]
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ConfigError(
                f"reference file {path}: line {line} holds {len(values)} values, line {first} holds {width}"
            ) from None
        for column, value in enumerate(values, start=1):
            try:
                float(value)
            except ValueError:
                raise ConfigError(
                    f"reference file {path}: line {line}, column {column}: '{value[:40]}' is not a number"
                ) from None
    raise ConfigError(f"reference file {path}: unreadable numbers ({_one_line(exc)})") from None


def _column_count_error(path: Path, ncol: int, expected: Sequence[str], header: list[str] | None = None) -> ConfigError:
    extra = f"; the header names {', '.join(header)}" if header else ""
    return ConfigError(
        f"reference file {path}: {ncol} columns, expected {len(expected)} ({', '.join(expected)}){extra}"
    )


def _by_position(
    path: Path,
    table: np.ndarray,
    variables: tuple[str, ...],
    fields: tuple[str, ...],
    header: list[str] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    expected = variables + fields
    if table.shape[1] != len(expected):
        raise _column_count_error(path, table.shape[1], expected, header)
    points = np.ascontiguousarray(table[:, : len(variables)])
    values = {f: np.ascontiguousarray(table[:, len(variables) + i]) for i, f in enumerate(fields)}
    return points, values


def _time_of(path: Path, name: str) -> float | None:
    match = _TIME.search(name)
    if match is None:
        return None
    try:
        return float(match.group(1))
    except ValueError:
        raise ConfigError(f"reference file {path}: column '{name}': '{match.group(1)}' is not a time") from None


def _read_comsol(
    path: Path, variables: tuple[str, ...], fields: tuple[str, ...], time: str | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    lines = _read_text(path)
    header = [line for line in lines if line.lstrip().startswith("%")]
    rows = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("%")]
    table = _table(path, rows, None)
    ncol = table.shape[1]
    names = _HEADER_SPLIT.split(header[-1].lstrip()[1:].strip()) if header else None
    if names is not None and len(names) != ncol:
        if any(_TIME.search(n) for n in names):
            raise ConfigError(f"reference file {path}: the header names {len(names)} columns, the rows hold {ncol}")
        names = None  # the last header line is a comment, not column names: columns by position
    times = [_time_of(path, n) for n in names] if names else [None] * ncol
    if all(t is None for t in times):
        return _by_position(path, table, variables, fields)
    if time is None:
        timed = next(n for n, t in zip(names, times) if t is not None)
        raise ConfigError(
            f"reference file {path}: columns such as '{timed}' hold a time series, "
            f"but the equation has no time variable"
        )
    return _expand(path, table, names, times, variables, fields, time)


def _expand(
    path: Path,
    table: np.ndarray,
    names: list[str],
    times: list[float | None],
    variables: tuple[str, ...],
    fields: tuple[str, ...],
    time: str,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A time-series export as one row per (t, space row), t ascending."""
    space = [v for v in variables if v != time]
    first = next(j for j, t in enumerate(times) if t is not None)
    if first != len(space):
        raise ConfigError(
            f"reference file {path}: {first} space columns before the time columns, "
            f"expected {len(space)} ({', '.join(space)})"
        )
    columns: dict[tuple[float, str], int] = {}
    in_file: list[str] = []  # field names in the order of their first appearance
    for j in range(first, len(names)):
        t = times[j]
        if t is None:
            raise ConfigError(
                f"reference file {path}: column {j + 1} '{names[j]}' among the time columns has no '@ t='"
            )
        name = _bare(names[j])
        if (t, name) in columns:
            raise ConfigError(f"reference file {path}: two columns '{name} @ t={t:g}'")
        columns[t, name] = j
        if name not in in_file:
            in_file.append(name)
    if len(in_file) != len(fields):
        raise ConfigError(
            f"reference file {path}: the time columns hold {len(in_file)} fields ({', '.join(in_file)}), "
            f"expected {len(fields)} ({', '.join(fields) or 'none'})"
        )
    steps = sorted({t for t in times if t is not None})
    for t in steps:
        for name in in_file:
            if (t, name) not in columns:
                raise ConfigError(f"reference file {path}: no column '{name} @ t={t:g}'")
    n = table.shape[0]
    points = np.empty((n * len(steps), len(variables)), dtype=np.float64)
    for k, v in enumerate(variables):
        if v == time:
            points[:, k] = np.repeat(np.asarray(steps, dtype=np.float64), n)
        else:
            points[:, k] = np.tile(table[:, space.index(v)], len(steps))
    values = {}
    for field, name in zip(fields, in_file):
        index = [columns[t, name] for t in steps]
        values[field] = np.ascontiguousarray(table[:, index].T.reshape(-1))
    return points, values


def _read_csv(
    path: Path, variables: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    lines = _read_text(path)
    rows = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise ConfigError(f"reference file {path} holds no data rows")
    names = [n.strip() for n in next(csv.reader([rows[0][1].lstrip().lstrip("#")]))]
    try:
        [float(n) for n in names]
        names = None  # the first row is data: no header
    except ValueError:
        rows = rows[1:]
    rows = [(i, line) for i, line in rows if not line.lstrip().startswith("#")]
    table = _table(path, rows, ",")
    if names is None:
        return _by_position(path, table, variables, fields)
    timed = [n for n in names if _TIME.search(n)]
    if timed:
        raise ConfigError(
            f"reference file {path}: time-series columns such as '{timed[0]}' are not supported in CSV "
            f"(give one row per point and time)"
        )
    if len(names) != table.shape[1]:
        raise ConfigError(
            f"reference file {path}: the header names {len(names)} columns, the rows hold {table.shape[1]}"
        )
    index = {}
    for want in variables + fields:
        found = [j for j, n in enumerate(names) if n == want] or [j for j, n in enumerate(names) if _bare(n) == want]
        if len(found) > 1:
            raise ConfigError(f"reference file {path}: {len(found)} columns named '{want}'")
        if found:
            index[want] = found[0]
    if len(index) < len(variables) + len(fields):
        return _by_position(path, table, variables, fields, header=names)
    points = np.ascontiguousarray(table[:, [index[v] for v in variables]])
    values = {f: np.ascontiguousarray(table[:, index[f]]) for f in fields}
    return points, values


def _held(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names


def _read_hdf5(
    path: Path, variables: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    wanted = [f"points/{v}" for v in variables] + [f"ref/{k}" for k in fields]
    try:
        with h5py.File(path, "r") as f:
            held = _held(f)
            missing = [w for w in wanted if w not in held]
            raw = {} if missing else {w: f[w][()] for w in wanted}
    except OSError as exc:
        raise ConfigError(f"reference file {path} is not a readable HDF5 file ({_one_line(exc)})") from None
    if missing:
        shown = ", ".join(held[:20]) + (f", ... ({len(held) - 20} more)" if len(held) > 20 else "")
        raise ConfigError(f"reference file {path} lacks {', '.join(missing)}: it holds {shown or 'no datasets'}")
    arrays = {}
    for name, value in raw.items():
        value = np.asarray(value)
        if value.dtype.kind not in "fiub":
            raise ConfigError(f"reference file {path}: {name} holds {value.dtype} values, not real numbers")
        if value.ndim != 1:
            raise ConfigError(f"reference file {path}: {name} has shape {value.shape}, expected (N,)")
        arrays[name] = value.astype(np.float64)
    n = len(arrays[wanted[0]])
    for name, value in arrays.items():
        if len(value) != n:
            raise ConfigError(f"reference file {path}: {name} holds {len(value)} values, {wanted[0]} {n}")
    if n == 0:
        raise ConfigError(f"reference file {path} holds no data rows")
    points = np.stack([arrays[f"points/{v}"] for v in variables], axis=1)
    values = {k: arrays[f"ref/{k}"] for k in fields}
    finite = np.isfinite(points).all(axis=1)
    for value in values.values():
        finite &= np.isfinite(value)
    bad = ~finite
    if bad.any():
        raise ConfigError(
            f"reference file {path}: {int(bad.sum())} of {n} rows hold NaN or inf (first: index {int(np.argmax(bad))})"
        )
    return points, values


__all__ = ["FORMATS", "PointReference", "read_points", "sha256", "uniform_interior"]


def uniform_interior(domain: Mapping[str, tuple[float, float]], n: int, time: str | None = None) -> np.ndarray:
    """About ``n`` uniform points inside the box ``domain`` (variable -> (lower, upper)), none on
    its faces but the last time's, as DeepXDE's ``uniform_points(n, boundary=False)`` lays them
    out: PINNacle's test points for an exact solution (its src/utils/callbacks.py asks for 2500
    points with two inputs, else 20000). Columns in the order of ``domain``.

    Without ``time``, one hypercube (DeepXDE's Hypercube, geometry_nd.py:55-80): dx = (volume /
    n) ** (1 / dim), and on each axis the ceil(side / dx) points of linspace(lower, upper,
    ceil(side / dx) + 1) after the lower end (an interval: n such points, geometry_1d.py:28-33).
    With ``time``, DeepXDE's space-time domain (GeometryXTime, timedomain.py:38-75): nx =
    ceil(sqrt(n * space volume / duration)) space points laid out as above, at nt = ceil(n / nx)
    times linspace(t1, t0, nt) without t0 (t1 included)."""
    space = [v for v in domain if v != time]

    def box(variables: list[str], m: int) -> dict[str, np.ndarray]:
        lo = np.array([domain[v][0] for v in variables], dtype=float)
        side = np.array([domain[v][1] for v in variables], dtype=float) - lo
        if len(variables) == 1:
            counts = [m]
        else:
            dx = (float(np.prod(side)) / m) ** (1 / len(variables))
            counts = [math.ceil(s / dx) for s in side]
        return {v: a + s * np.arange(1, k + 1) / (k + 1) for v, a, s, k in zip(variables, lo, side, counts)}

    if time is None:
        axes = box(space, n)
    else:
        (t0, t1), volume = domain[time], float(np.prod([domain[v][1] - domain[v][0] for v in space]))
        nx = math.ceil((n * volume / (t1 - t0)) ** 0.5)
        axes = box(space, nx)
        nt = math.ceil(n / nx)
        axes[time] = t1 - (t1 - t0) * np.arange(nt) / nt
    mesh = np.meshgrid(*(axes[v] for v in domain), indexing="ij")
    return np.stack([m.ravel() for m in mesh], 1)
