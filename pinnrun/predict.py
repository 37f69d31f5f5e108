"""pinnrun-predict: a trained run's solution at your points, from the shell.

    pinnrun-predict RUN_DIR --points probes.csv --out pred.csv
    pinnrun-predict RUN_DIR --grid t=0:1:201 x=-5:5:512 --fields h_abs --out fine.h5
    pinnrun-predict RUN_DIR --grid t=0.5 x=-1:1:401 --derivatives u_x u_xx --residual --out line.csv

Points: a CSV file (a header naming the variables, in any order, or exactly one column per
variable in the equation's order), .npy (an (n, d) array), .npz (one array per variable, or
one (n, d) array) or HDF5 (a dataset per variable at the top or under points/, or one (n, d)
dataset 'points'). ``--grid`` takes VAR=LO:HI:N for each variable (or VAR=VALUE to hold it
fixed). Output by suffix: CSV (one row per point: the variables, then the fields) or HDF5
(points/<var> or, for a grid, grid/<var> axes; fields/<name>; attributes: the run directory,
the checkpoint, its step and the run's config). ``--out -`` writes CSV to stdout.

Bad input (a missing or corrupt file, wrong columns, a NaN, a point outside the domain unless
``--allow-outside``, an unknown field) gets one line naming it and exit status 2; the output
file is written whole or not at all.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from pinnrun import io
from pinnrun.api import Run, load, point_columns
from pinnrun.config import ConfigError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, as every pinnrun command
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def read_points(path: Path, variables: Sequence[str]) -> np.ndarray:
    """The (n, d) points of a CSV, .npy, .npz or HDF5 file, columns in the order of ``variables``."""
    if not path.is_file():
        raise ConfigError(f"points file {path} " + ("is not a file" if path.exists() else "does not exist"))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            array = _read_csv(path, variables)
        elif suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                array = _by_name({k: z[k] for k in z.files}, variables, path)
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                group = f["points"] if isinstance(f.get("points"), h5py.Group) else f
                sets = {k: group[k][()] for k in group if isinstance(group[k], h5py.Dataset)}
            array = _by_name(sets, variables, path)
        else:
            raise ConfigError(f"points file {path}: unknown format '{path.suffix}' (use .csv, .npy, .npz, .h5)")
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - a torn or foreign file: one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"points file {path} cannot be read ({first})") from None
    array = point_columns(array, variables, f"points file {path}")
    if len(array) == 0:
        raise ConfigError(f"points file {path} holds no points")
    return array


def _read_csv(path: Path, variables: Sequence[str]) -> np.ndarray:
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"points file {path} holds no points")
    header = None
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    values = []
    for i, r in enumerate(rows, start=2 if header else 1):
        try:
            values.append([float(c) for c in r])
        except ValueError:
            raise ConfigError(f"points file {path}, line {i}: {','.join(r)!r} is not a row of numbers") from None
    widths = {len(r) for r in values}
    if len(widths) > 1:
        raise ConfigError(f"points file {path}: rows of different lengths ({sorted(widths)})")
    array = np.array(values, dtype=np.float64).reshape(len(values), -1)
    if header is None:
        return array
    if len(header) != array.shape[1]:
        raise ConfigError(f"points file {path}: {len(header)} header names for {array.shape[1]} columns")
    return _by_name({h: array[:, i] for i, h in enumerate(header)}, variables, path)


def _by_name(arrays: dict[str, np.ndarray], variables: Sequence[str], path: Path) -> np.ndarray:
    """Columns named by the variables, or the one array there is."""
    if all(v in arrays for v in variables):
        extra = [k for k in arrays if k not in variables]
        if extra and len(arrays) != len(variables):
            raise ConfigError(f"points file {path}: '{extra[0]}' is not a variable ({', '.join(variables)})")
        shapes = {np.shape(arrays[v]) for v in variables}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ConfigError(f"points file {path}: the variables' columns differ in shape ({sorted(shapes)})")
        return np.stack([np.asarray(arrays[v]) for v in variables], 1)
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    names = ", ".join(sorted(arrays)) or "nothing"
    raise ConfigError(f"points file {path}: expected a column per variable ({', '.join(variables)}), found {names}")


def parse_grid(specs: Sequence[str], run: Run) -> dict[str, np.ndarray]:
    """VAR=LO:HI:N (N points, ends included) or VAR=VALUE for each variable: the grid's axes."""
    axes: dict[str, np.ndarray] = {}
    for spec in specs:
        var, sep, rng = spec.partition("=")
        if not sep or var not in run.variables:
            raise ConfigError(f"--grid {spec}: write VAR=LO:HI:N with VAR one of {', '.join(run.variables)}")
        parts = rng.split(":")
        try:
            if len(parts) == 1:
                axes[var] = np.array([float(parts[0])])
            elif len(parts) == 3:
                lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
                if n < 1:
                    raise ValueError
                axes[var] = np.linspace(lo, hi, n)
            else:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--grid {spec}: write {var}=LO:HI:N (N >= 1 points) or {var}=VALUE") from None
    missing = [v for v in run.variables if v not in axes]
    if missing:
        raise ConfigError(f"--grid: no axis for {', '.join(missing)} (give each of {', '.join(run.variables)})")
    return axes


def write_output(
    out: str, run: Run, points: np.ndarray, values: dict[str, np.ndarray], grid: dict[str, np.ndarray] | None
) -> None:
    """CSV (or stdout for '-') or HDF5, by the suffix of ``out``; atomically."""
    flat = {k: np.asarray(v).reshape(len(points), -1) for k, v in values.items()}
    if out == "-" or Path(out).suffix.lower() == ".csv":
        header = list(run.variables)
        for k, v in flat.items():
            header += [k] if v.shape[1] == 1 else [f"{k}{j}" for j in range(v.shape[1])]
        table = np.concatenate([points, *flat.values()], 1)
        if out == "-":
            _write_csv(sys.stdout, header, table)
            return
        with io.atomic_path(Path(out)) as tmp, open(tmp, "w", newline="") as f:
            _write_csv(f, header, table)
        return
    if Path(out).suffix.lower() not in (".h5", ".hdf5"):
        raise ConfigError(f"--out {out}: unknown format '{Path(out).suffix}' (use .csv, .h5, or - for stdout)")
    import h5py
    from omegaconf import OmegaConf

    with io.atomic_path(Path(out)) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["run_dir"] = str(run.run_dir.resolve())
        f.attrs["checkpoint"] = str(run.checkpoint)
        f.attrs["step"] = run.step
        f.attrs["config"] = OmegaConf.to_yaml(OmegaConf.structured(run.config))
        f.attrs["variables"] = ",".join(run.variables)
        f.attrs["fields"] = ",".join(values)
        f.attrs["pinnrun_version"] = _version()
        if grid is not None:
            for v in run.variables:
                f.create_dataset(f"grid/{v}", data=grid[v])
        else:
            for i, v in enumerate(run.variables):
                f.create_dataset(f"points/{v}", data=points[:, i])
        for k, v in values.items():
            f.create_dataset(f"fields/{k}", data=v)


def _write_csv(f: Any, header: list[str], table: np.ndarray) -> None:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows([repr(float(x)) for x in row] for row in table)


def _version() -> str:
    from pinnrun.version import __version__

    return __version__


def predict(args: argparse.Namespace) -> None:
    run = load(args.run_dir, checkpoint=args.checkpoint, device=args.device)
    if args.grid:
        grid = parse_grid(args.grid, run)
        mesh = np.meshgrid(*(grid[v] for v in run.variables), indexing="ij")
        points = np.stack([m.reshape(-1) for m in mesh], 1)
        shape = mesh[0].shape
    else:
        points, grid, shape = read_points(Path(args.points), run.variables), None, None
    values = run.predict(points, fields=args.fields, derivatives=args.derivatives, allow_outside=args.allow_outside)
    if args.residual:
        residual = run.residual(points, allow_outside=args.allow_outside)
        values.update({f"residual_{k}": v for k, v in residual.items()})
    if shape is not None and not (args.out == "-" or Path(args.out).suffix.lower() == ".csv"):
        values = {k: v.reshape(shape + v.shape[1:]) for k, v in values.items()}
    write_output(args.out, run, points, values, grid)
    if args.out != "-":
        print(f"wrote {args.out} ({len(points)} points: {', '.join(values)})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    ap = _Parser(
        prog="pinnrun-predict",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:5]),
    )
    ap.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a pinnrun run directory")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--points", metavar="FILE", help="points: .csv, .npy, .npz or .h5")
    where.add_argument("--grid", nargs="+", metavar="VAR=LO:HI:N", help="a grid (VAR=VALUE holds VAR fixed)")
    ap.add_argument("--out", required=True, metavar="FILE", help="output: .csv, .h5, or - (CSV on stdout)")
    ap.add_argument("--fields", nargs="+", metavar="F", help="fields to predict (default: all the equation's)")
    ap.add_argument("--derivatives", nargs="+", default=[], metavar="D", help="input derivatives, e.g. u_x u_xx")
    ap.add_argument("--residual", action="store_true", help="also the PDE residual (residual_<component>)")
    ap.add_argument("--checkpoint", default="last", help="last (the final state; default), best, or a .pt path")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    ap.add_argument("--allow-outside", action="store_true", help="predict outside the training domain too")
    args = ap.parse_args(argv)
    try:
        predict(args)
    except ConfigError as e:
        print(f"pinnrun-predict: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"pinnrun-predict: error: cannot write {args.out} ({e.strerror or e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
