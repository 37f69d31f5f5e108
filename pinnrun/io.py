"""The run directory (docs/ARCHITECTURE.md, "The run directory"): every file a run leaves behind.

    config.yaml            resolved config;  overrides.yaml: the command-line overrides
    metrics.csv            step, phase, lr, loss, loss/<term>, weight/<group>, l2/<field>, time_s
    predictions.h5         /grid/<var> (or, scattered, /points/<var>), /pred/<field>, /ref/<field>,
                           /error/<field>, /collocation/<condition>; attrs
    checkpoints/last.pt    (and best.pt) resumable state, loaded with weights_only=True
    summary.json           status, final metrics, wall time, device
    plots/                 PNG figures (pinnrun.plots)
    ntk.h5                 weighting=ntk with spectrum=true: kernel eigenvalues per update
    tensorboard/ mlruns/ wandb/  logger=tensorboard | mlflow | wandb: the experiment tracker's store
    trackers.json          logger=mlflow | wandb: the tracker's run id, so a resumed run continues it

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pinnrun.config import ConfigError, Logger, check_logger

# h5py and torch are imported where they are used: the command line checks its paths (and
# reports a bad one) before a run, without paying for them

RESULT_FILES = ("metrics.csv", "summary.json", "predictions.h5", "checkpoints/last.pt")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as open() would make it (mkstemp's are private to the owner)
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
class MetricsLog:
    """metrics.csv, one row per logged step, flushed as it is written, and the same numbers to
    ``tracker`` (logger=...; its owner opens and closes it).

    On resume the rows after the checkpoint's step are dropped (they belong to
    the part of the run that was lost), so the file reads as one clean run.
    """

    def __init__(
        self, path: Path, columns: Sequence[str], resume_step: int | None = None, tracker: Tracker | None = None
    ) -> None:
        self.path, self.columns, self.tracker = path, list(columns), tracker
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
        if self.tracker is not None:
            numbers = {
                k: v
                for k, v in row.items()
                if k not in ("step", "phase") and isinstance(v, (int, float)) and math.isfinite(v)
            }
            self.tracker.add_scalars(numbers, int(row["step"]))

    def close(self) -> None:
        self._file.close()


# -- experiment trackers (logger=tensorboard | mlflow | wandb) ---------------------------------
TENSORBOARD = "tensorboard"  # the events' folder in a run directory
MLFLOW = "mlruns"  # logger=mlflow: pinnrun's local store, mlflow.db and artifacts/
TRACKER_IDS = "trackers.json"  # {"mlflow": run id, "wandb": run id}: a resumed run continues that run
#: pinnrun's end of a run -> MLflow's run status
MLFLOW_STATUS = {"completed": "FINISHED", "interrupted": "KILLED"}


class Tracker:
    """An experiment tracker: the numbers of each metrics.csv row as it is written (the same
    names, at the row's step), the plots at the end, then closed with the run's status."""

    def add_scalars(self, values: Mapping[str, float], step: int) -> None:
        raise NotImplementedError

    def log_figures(self, run_dir: Path, step: int) -> None:
        """plots/*.png of ``run_dir``, drawn at the end of the run (``step``: its last)."""
        raise NotImplementedError

    def close(self, status: str) -> None:
        """``status``: summary.json's (completed, diverged, interrupted), or failed (an error)."""


def open_tracker(logger: Logger, run_dir: Path, resume_step: int | None = None) -> Tracker | None:
    """The tracker that ``logger=`` names for the run in ``run_dir`` (after its config.yaml is
    written), or None (csv: metrics.csv alone). ``resume_step``: the run resumes after this step;
    TensorBoard drops its later events, MLflow and W&B continue the run of trackers.json."""
    kinds: dict[Logger, type[Tracker]] = {
        Logger.tensorboard: TensorBoardTracker,
        Logger.mlflow: MLflowTracker,
        Logger.wandb: WandbTracker,
    }
    if logger not in kinds:
        return None
    check_logger(logger)  # validate() said so already; a caller of the run layer may not have asked
    return kinds[logger](Path(run_dir).resolve(), resume_step)


def tensorboard_writer(log_dir: Path, purge_step: int | None = None):
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(log_dir), purge_step=purge_step)


class TensorBoardTracker(Tracker):
    """TensorBoard events in <run dir>/tensorboard; a resumed run drops the events after its
    checkpoint's step, as metrics.csv drops the rows."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        purge = None if resume_step is None else resume_step + 1
        self.writer = tensorboard_writer(run_dir / TENSORBOARD, purge_step=purge)

    def add_scalars(self, values: Mapping[str, float], step: int) -> None:
        for k, v in values.items():
            self.writer.add_scalar(k, v, step)
        self.writer.flush()

    def log_figures(self, run_dir: Path, step: int) -> None:
        import matplotlib.image

        for png in _plots(run_dir):
            image = matplotlib.image.imread(png)[..., :3]
            self.writer.add_image(f"plots/{png.stem}", image, step, dataformats="HWC")

    def close(self, status: str) -> None:
        self.writer.close()


class MLflowTracker(Tracker):
    """An MLflow run: experiment = the equation's name, run name = the run directory's name; the
    resolved config as params (flattened keys, e.g. model.width) and config.yaml, overrides.yaml
    and, at the end, plots/*.png as artifacts.

    The store is $MLFLOW_TRACKING_URI's, or else pinnrun's own in <run dir>/mlruns: an SQLite
    database (mlflow.db; MLflow's file store cannot hold a metric ``loss`` next to ``loss/<term>``)
    and artifacts/, written offline (MLflow's usage telemetry is off unless
    $MLFLOW_DISABLE_TELEMETRY says otherwise). A resumed run continues the run of trackers.json if
    the store has it. MLflow only appends: what a killed run logged after its last checkpoint stays
    in the history next to the resumed run's numbers of those steps."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        import logging

        uri, artifacts = os.environ.get("MLFLOW_TRACKING_URI"), None
        if not uri:
            store = run_dir / MLFLOW
            store.mkdir(parents=True, exist_ok=True)
            uri, artifacts = f"sqlite:///{store / 'mlflow.db'}", (store / "artifacts").as_uri()
            os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # read when mlflow is imported
        from mlflow.entities import Param
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        log = logging.getLogger("mlflow")  # quiet: "Creating initial MLflow database tables..." of a new store
        level = log.level
        log.setLevel(logging.WARNING)
        try:
            self.client = MlflowClient(tracking_uri=uri)
        finally:
            log.setLevel(level)
        config = _run_config(run_dir)
        name = str((config.get("equation") or {}).get("name") or "pinnrun")
        ids = _tracker_ids(run_dir)
        run = None
        if resume_step is not None and ids.get("mlflow"):
            try:
                run = self.client.get_run(ids["mlflow"])
                self.client.update_run(run.info.run_id, status="RUNNING")
            except MlflowException:  # another store, or the run was deleted: a new run
                run = None
        if run is None:
            experiment = self.client.get_experiment_by_name(name)
            if experiment is not None:
                experiment_id = experiment.experiment_id
            else:
                try:
                    experiment_id = self.client.create_experiment(name, artifact_location=artifacts)
                except MlflowException:  # made by another job of the sweep in the meantime
                    experiment_id = self.client.get_experiment_by_name(name).experiment_id
            run = self.client.create_run(experiment_id, run_name=run_dir.name, tags={"pinnrun.run_dir": str(run_dir)})
            _save_tracker_id(run_dir, "mlflow", run.info.run_id)
        self.run_id = run.info.run_id
        # params cannot change once logged: a resumed run adds the keys it lacks (config.yaml, logged
        # again, is the resumed start's)
        known = run.data.params
        params = [Param(k, v) for k, v in _flatten(config) if k not in known]
        for i in range(0, len(params), 100):  # MLflow's limit per call
            self.client.log_batch(self.run_id, params=params[i : i + 100])
        for f in ("config.yaml", "overrides.yaml"):
            if (run_dir / f).exists():
                self.client.log_artifact(self.run_id, str(run_dir / f))

    def add_scalars(self, values: Mapping[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), now, step) for k, v in values.items()])

    def log_figures(self, run_dir: Path, step: int) -> None:
        for png in _plots(run_dir):
            self.client.log_artifact(self.run_id, str(png), "plots")

    def close(self, status: str) -> None:
        self.client.set_tag(self.run_id, "pinnrun.status", status)
        self.client.set_terminated(self.run_id, MLFLOW_STATUS.get(status, "FAILED"))


class WandbTracker(Tracker):
    """A Weights & Biases run: project pinnrun (or $WANDB_PROJECT), name = the run directory's
    name, config = the resolved config; the plots as images at the last step.

    Offline unless $WANDB_MODE is set: no network, no login; the run is written to
    <run dir>/wandb/offline-run-*/ (``wandb sync`` uploads it later), and wandb prints nothing
    (unless $WANDB_SILENT is set). A resumed run continues the run of trackers.json (the same id;
    offline, in a new offline-run-* folder). W&B keeps a run's steps increasing: after a resume
    online, steps that the killed run had logged past its last checkpoint are not logged again."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        import wandb

        offline = not os.environ.get("WANDB_MODE")
        ids = _tracker_ids(run_dir)
        run_id = ids.get("wandb") if resume_step is not None else None
        self.run = wandb.init(
            project=None if os.environ.get("WANDB_PROJECT") else "pinnrun",
            name=run_dir.name,
            dir=str(run_dir),
            config=_run_config(run_dir),
            mode="offline" if offline else None,
            id=run_id,
            resume="allow" if run_id else None,
            settings=wandb.Settings(silent=True) if offline and "WANDB_SILENT" not in os.environ else None,
        )
        if run_id != self.run.id:
            _save_tracker_id(run_dir, "wandb", self.run.id)

    def add_scalars(self, values: Mapping[str, float], step: int) -> None:
        self.run.log(dict(values), step=step)

    def log_figures(self, run_dir: Path, step: int) -> None:
        import wandb

        images = {f"plots/{png.stem}": wandb.Image(str(png)) for png in _plots(run_dir)}
        if images:
            self.run.log(images, step=step)

    def close(self, status: str) -> None:
        self.run.summary["status"] = status
        self.run.finish(exit_code=0 if status == "completed" else 1)


def _plots(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "plots").glob("*.png"))


def _run_config(run_dir: Path) -> dict[str, Any]:
    """config.yaml of ``run_dir`` as a dict (the runner writes it before it opens a tracker)."""
    import yaml

    path = run_dir / "config.yaml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _flatten(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, value as text) of every leaf of a nested config; lists and None as JSON."""
    for k, v in config.items():
        if isinstance(v, Mapping) and v:
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", (v if isinstance(v, str) else json.dumps(v, default=str))[:500]


def _tracker_ids(run_dir: Path) -> dict[str, str]:
    try:
        ids = json.loads((run_dir / TRACKER_IDS).read_text())
    except (OSError, ValueError):
        return {}
    return ids if isinstance(ids, dict) else {}


def _save_tracker_id(run_dir: Path, logger: str, run_id: str) -> None:
    write_json(run_dir / TRACKER_IDS, {**_tracker_ids(run_dir), logger: run_id})


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
@dataclass
class Predictions:
    """What predictions.h5 holds: each field predicted (and its reference) at the evaluation points.

    ``layout`` "grid": ``coordinates`` are 1-D axes per variable and the fields are shaped on their
    grid; "points": ``coordinates`` are one column per variable of scattered points and the fields
    (N,) arrays. ``space``: the variables a geometry spans (none on a box). ``collocation``: the
    training points of each condition, (n, d), with its kind (interior, boundary, initial)."""

    variables: Sequence[str]
    coordinates: Mapping[str, np.ndarray]
    pred: Mapping[str, np.ndarray]
    ref: Mapping[str, np.ndarray]
    layout: str = "grid"
    space: Sequence[str] = ()
    collocation: Mapping[str, tuple[np.ndarray, str]] = field(default_factory=dict)


def write_predictions(path: Path, p: Predictions, attrs: Mapping[str, Any]) -> None:
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["variables"] = ",".join(p.variables)
        f.attrs["fields"] = ",".join(p.pred)
        f.attrs["layout"] = p.layout
        f.attrs["space"] = ",".join(p.space)
        for k, v in attrs.items():
            f.attrs[k] = v
        group = "grid" if p.layout == "grid" else "points"
        for v in p.variables:
            f.create_dataset(f"{group}/{v}", data=p.coordinates[v])
        for name, values in p.pred.items():
            f.create_dataset(f"pred/{name}", data=values, compression="gzip")
            if name in p.ref:
                f.create_dataset(f"ref/{name}", data=p.ref[name], compression="gzip")
                f.create_dataset(f"error/{name}", data=values - p.ref[name], compression="gzip")
        for name, (points, kind) in p.collocation.items():
            f.create_dataset(f"collocation/{name}", data=points, compression="gzip").attrs["kind"] = kind


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
