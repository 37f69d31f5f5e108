"""The run directory (DESIGN.md's contract): every file a run leaves behind.

    config.yaml            resolved config;  overrides.yaml: the command-line overrides
    metrics.csv            step, phase, lr, loss, loss/<term>, weight/<group>, l2/<field>, time_s
    predictions.h5         /grid/<var>, /pred/<field>, /ref/<field>, /error/<field>; attrs
    checkpoints/last.pt    (and best.pt) resumable state, loaded with weights_only=True
    summary.json           status, final metrics, wall time, device
    plots/                 PNG figures (pinnrun.plots)
    ntk.h5                 weighting=ntk with spectrum=true: kernel eigenvalues per update

Every file is written to a temporary name and renamed into place, so a killed
run never leaves a torn file (ntk.h5 excepted: it grows by one row per update).
"""

from __future__ import annotations

import csv
import json
import math
import os
import pickle
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pinnrun.config import ConfigError

# h5py and torch are imported where they are used: the command line checks its paths (and
# reports a bad one) before a run, without paying for them

RESULT_FILES = ("metrics.csv", "summary.json", "predictions.h5", "checkpoints/last.pt")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def check_dir(path: Path | str, name: str, key: str, writable: bool = True) -> None:
    """``path`` (the ``name`` directory, set by ``key``) is a directory, or one that can be made:
    a :class:`ConfigError` naming it if it is a file, lies under a file, or (``writable``) cannot
    be written into or created. Writes nothing."""
    path = Path(path)
    where = f"{name} {path} ({key})"
    try:
        if path.is_symlink() and not path.exists():
            raise ConfigError(f"{where} is a broken symbolic link (to {os.readlink(path)})")
        if path.exists():
            if not path.is_dir():
                raise ConfigError(f"{where} is a file, not a directory")
            if writable and not os.access(path, os.W_OK | os.X_OK):
                raise ConfigError(f"{where} is not writable (permission denied)")
            return
        # to be made: its nearest existing ancestor must be a directory we may write into
        parent = path.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ConfigError(f"{where} cannot be created: {parent} is a file, not a directory")
        if writable and not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{where} cannot be created: {parent} is not writable (permission denied)")
    except OSError as e:  # a parent we may not even look into
        raise ConfigError(f"{where} cannot be checked ({e.strerror or type(e).__name__})") from None


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A run directory we may write into; refuse to overwrite an earlier run; refuse to resume
    where there is nothing to resume."""
    check_dir(run_dir, "run directory", "hydra.run.dir")
    if resume:
        last = run_dir / "checkpoints" / "last.pt"
        if not last.exists():
            raise ConfigError(
                f"trainer.resume=true but {last} does not exist (give the run's directory with hydra.run.dir=<dir>)"
            )
        return
    found = [f for f in RESULT_FILES if (run_dir / f).exists()]
    if found:
        raise ConfigError(
            f"{run_dir} already holds a run ({found[0]}): pass trainer.resume=true to "
            "continue it, or choose another hydra.run.dir"
        )


# -- checkpoints ---------------------------------------------------------------
def save_checkpoint(path: Path, state: Mapping[str, Any]) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(dict(state), tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save_checkpoint`; a :class:`ConfigError` naming the file and
    what is wrong with it (missing, a directory, unreadable, empty, truncated, corrupt)."""
    import torch

    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"checkpoint {path} is a directory, not a checkpoint file")
        with open(path, "rb") as f:  # unreadable files fail here, whatever torch would say
            size = os.fstat(f.fileno()).st_size
            whole = zipfile.is_zipfile(f) if size else False
    except FileNotFoundError:
        raise ConfigError(f"checkpoint {path} does not exist") from None
    except OSError as e:
        raise ConfigError(f"checkpoint {path} cannot be read ({e.strerror or type(e).__name__})") from None
    if size == 0:
        raise ConfigError(f"checkpoint {path} is empty (0 bytes): it is not a checkpoint")
    if not whole:  # torch.save writes a zip archive; a torn or foreign file is not one
        raise ConfigError(f"checkpoint {path} is truncated or corrupt ({size} bytes, not a complete torch checkpoint)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a zip, but not a (safe) checkpoint
        detail = str(e).splitlines()[0] if str(e) else "no detail"
        if isinstance(e, pickle.UnpicklingError):
            detail = "it holds objects other than tensors and plain values"
        raise ConfigError(
            f"checkpoint {path} is corrupt or not a pinnrun checkpoint ({type(e).__name__}: {detail[:160]})"
        ) from None


# -- metrics.csv -----------------------------------------------------------------
TENSORBOARD = "tensorboard"  # the events' folder in a run directory


class MetricsLog:
    """metrics.csv, one row per logged step, flushed as it is written.

    On resume the rows after the checkpoint's step are dropped (they belong to
    the part of the run that was lost), so the file reads as one clean run.
    """

    def __init__(
        self, path: Path, columns: Sequence[str], resume_step: int | None = None, tensorboard: bool = False
    ) -> None:
        self.path, self.columns = path, list(columns)
        # the same scalars as TensorBoard events in <run dir>/tensorboard (logger=tensorboard); a
        # resumed run drops the events after its checkpoint's step, as it does the rows
        self._tb = (
            None
            if not tensorboard
            else tensorboard_writer(
                path.parent / TENSORBOARD, purge_step=None if resume_step is None else resume_step + 1
            )
        )
        if resume_step is not None and path.exists():
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != self.columns:
                    raise ConfigError(f"{path} has other columns than this run writes; cannot resume into it")
                keep = [r for r in reader if int(r["step"]) <= resume_step]
            with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, self.columns)
                w.writeheader()
                w.writerows(keep)
            self._file = open(path, "a", newline="")
        else:
            self._file = open(path, "w", newline="")
            csv.writer(self._file).writerow(self.columns)
        self._writer = csv.DictWriter(self._file, self.columns)
        self._file.flush()

    def write(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow({k: _fmt(row.get(k)) for k in self.columns})
        self._file.flush()
        if self._tb is not None:
            for k, v in row.items():
                if k not in ("step", "phase") and isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(k, v, int(row["step"]))
            self._tb.flush()

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def tensorboard_writer(log_dir: Path, purge_step: int | None = None):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("logger=tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(str(log_dir), purge_step=purge_step)


def tensorboard_plots(run_dir: Path, step: int) -> None:
    """The run's plots (plots/*.png) as TensorBoard images at its last step."""
    import matplotlib.image

    with tensorboard_writer(run_dir / TENSORBOARD) as tb:
        for png in sorted((run_dir / "plots").glob("*.png")):
            tb.add_image(f"plots/{png.stem}", matplotlib.image.imread(png)[..., :3], step, dataformats="HWC")


def _fmt(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return v


def read_metrics(path: Path) -> dict[str, np.ndarray]:
    """metrics.csv as columns; empty cells are NaN."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    out: dict[str, np.ndarray] = {}
    for key in rows[0]:
        if key == "phase":
            out[key] = np.array([r[key] for r in rows])
        else:
            out[key] = np.array([float(r[key]) if r[key] != "" else np.nan for r in rows])
    return out


# -- predictions.h5 --------------------------------------------------------------
def write_predictions(
    path: Path,
    variables: Sequence[str],
    grid: Mapping[str, np.ndarray],
    pred: Mapping[str, np.ndarray],
    ref: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
) -> None:
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["variables"] = ",".join(variables)
        f.attrs["fields"] = ",".join(pred)
        for k, v in attrs.items():
            f.attrs[k] = v
        for v in variables:
            f.create_dataset(f"grid/{v}", data=grid[v])
        for name, values in pred.items():
            f.create_dataset(f"pred/{name}", data=values, compression="gzip")
            if name in ref:
                f.create_dataset(f"ref/{name}", data=ref[name], compression="gzip")
                f.create_dataset(f"error/{name}", data=values - ref[name], compression="gzip")


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def append_spectra(path: Path, step: int, spectra: Mapping[str, np.ndarray]) -> None:
    """ntk.h5: per weight group, ``/<group>/steps`` (k,) and ``/<group>/eigenvalues`` (k, n), one row
    per NTK update, eigenvalues of the group's kernel in descending order."""
    import h5py

    with h5py.File(path, "a") as f:
        for term, eig in spectra.items():
            g = f.require_group(term)
            if "steps" not in g:
                g.create_dataset("steps", shape=(0,), maxshape=(None,), dtype="i8")
                g.create_dataset("eigenvalues", shape=(0, len(eig)), maxshape=(None, len(eig)), dtype="f8")
            k = g["steps"].shape[0]
            g["steps"].resize((k + 1,))
            g["eigenvalues"].resize((k + 1, len(eig)))
            g["steps"][k] = step
            g["eigenvalues"][k] = eig


def truncate_spectra(path: Path, step: int) -> None:
    """Drop the rows of ntk.h5 from ``step`` on (a resumed run writes them again)."""
    if not path.exists():
        return
    import h5py

    with h5py.File(path, "a") as f:
        for term in f:
            g = f[term]
            keep = int((g["steps"][()] < step).sum())
            g["steps"].resize((keep,))
            g["eigenvalues"].resize((keep, g["eigenvalues"].shape[1]))
