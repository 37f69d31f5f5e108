"""logger=mlflow and logger=wandb: real short runs, read back from the stores they leave with the
trackers' own readers (MLflow's client; W&B's offline run file with W&B's record schema), number by
number against metrics.csv; a resumed run continues its tracker run; a missing package is one line."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from helpers import TINY, cli_command, cli_env, explain, read_rows, run_task, run_without

# MLflow's SQL store on SQLAlchemy 2.1, not pinnrun's
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")

#: 20 Adam steps of a 2x16 network on the heat problem; a row every 5 steps, an evaluation every 10
RUN = ["equation=heat_multiscale", "optimizer=adam", *TINY, "trainer.log_every=5", "trainer.eval_every=10"]
PLOTS = {"fields", "loss", "l2"}
#: the runs whose trackers must hold the plots draw them
DRAWN = "trainer.plots=true"


@pytest.fixture
def tracker_env(monkeypatch, tmp_path):
    """No tracking server, no W&B login or mode of the user's, W&B's own files under tmp_path."""
    for key in ("MLFLOW_TRACKING_URI", "WANDB_MODE", "WANDB_API_KEY", "WANDB_PROJECT", "WANDB_SILENT"):
        monkeypatch.delenv(key, raising=False)
    for key in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(key, str(tmp_path / "wandb-home" / key.lower()))


def logged_columns(rows: list[dict]) -> dict[str, dict[int, float]]:
    """Every numeric metrics.csv column with a value somewhere: {step: value}."""
    out: dict[str, dict[int, float]] = {}
    for key in rows[0]:
        if key in ("step", "phase"):
            continue
        values = {int(r["step"]): float(r[key]) for r in rows if r[key] != ""}
        if values:
            out[key] = values
    return out


# -- MLflow ------------------------------------------------------------------------------------
def mlflow_client(run_dir: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{run_dir / 'mlruns' / 'mlflow.db'}")


def mlflow_history(client, run_id: str, columns) -> dict[str, dict[int, float]]:
    out = {}
    for key in columns:
        history = client.get_metric_history(run_id, key)
        out[key] = {m.step: m.value for m in history}
        assert len(out[key]) == len(history), f"{key}: a step logged twice"
    return out


def assert_mlflow_holds_the_run(run: Path, tmp_path: Path) -> None:
    """The MLflow run of the run directory ``run`` (a 20-step run of RUN with the plots drawn) holds
    the metrics, the config and the plots."""
    rows = read_rows(run)
    expected = logged_columns(rows)
    assert {"loss", "loss/residual_u", "weight/boundary_u", "l2/u", "lr", "time_s"} <= expected.keys()
    run_id = json.loads((run / "trackers.json").read_text())["mlflow"]
    client = mlflow_client(run)
    info = client.get_run(run_id)
    assert info.info.run_name == "run" and info.info.status == "FINISHED"
    assert client.get_experiment(info.info.experiment_id).name == "heat_multiscale"
    assert info.data.tags["pinnrun.status"] == "completed"
    # every numeric column, with the same values at the same steps, and nothing else
    assert set(info.data.metrics) == expected.keys()
    assert mlflow_history(client, run_id, expected) == expected
    # the resolved config: flattened params, and config.yaml itself
    config = yaml.safe_load((run / "config.yaml").read_text())
    params = info.data.params
    assert params["model.width"] == "16" and params["equation.name"] == "heat_multiscale"
    assert params["trainer.max_steps"] == "20" and params["seed"] == "0" and params["logger"] == "mlflow"
    assert json.loads(params["equation.domain.x"]) == config["equation"]["domain"]["x"]
    local = Path(client.download_artifacts(run_id, "config.yaml", str(tmp_path / "dl")))
    assert yaml.safe_load(local.read_text()) == config
    # the plots, byte for byte, in the run's artifacts (<run dir>/mlruns/artifacts)
    pngs = {Path(a.path).stem: a.file_size for a in client.list_artifacts(run_id, "plots")}
    assert PLOTS <= pngs.keys()
    assert all(pngs[k] == (run / "plots" / f"{k}.png").stat().st_size for k in PLOTS)
    assert (run / "mlruns" / "artifacts").is_dir() and not (tmp_path / "mlruns").exists()


def test_mlflow_resume_continues_the_run_it_started(tmp_path, tracker_env):
    run = tmp_path / "run"
    run_task([*RUN, "logger=mlflow", "trainer.max_steps=10"], run)
    first = json.loads((run / "trackers.json").read_text())["mlflow"]
    run_task([*RUN, "logger=mlflow", "trainer.resume=true"], run)
    assert json.loads((run / "trackers.json").read_text())["mlflow"] == first
    client = mlflow_client(run)
    (experiment,) = [e for e in client.search_experiments() if e.name == "heat_multiscale"]
    assert [r.info.run_id for r in client.search_runs([experiment.experiment_id])] == [first]
    expected = logged_columns(read_rows(run))
    assert max(expected["loss"]) == 20
    assert mlflow_history(client, first, expected) == expected  # both parts, each step once
    info = client.get_run(first)
    assert info.info.status == "FINISHED"
    # params are the start's (MLflow never changes one); config.yaml is the resumed start's
    assert info.data.params["trainer.max_steps"] == "10"
    local = Path(client.download_artifacts(first, "config.yaml", str(tmp_path / "dl")))
    assert yaml.safe_load(local.read_text())["trainer"]["max_steps"] == 20
    # without its id (trackers.json gone), a resumed run is a new MLflow run
    (run / "trackers.json").unlink()
    run_task([*RUN, "logger=mlflow", "trainer.resume=true", "trainer.max_steps=25"], run)
    second = json.loads((run / "trackers.json").read_text())["mlflow"]
    assert second != first
    assert {r.info.run_id for r in client.search_runs([experiment.experiment_id])} == {first, second}
    assert sorted(m.step for m in client.get_metric_history(second, "loss")) == [25]


# -- Weights & Biases (offline) -----------------------------------------------------------------
def wandb_records(path: Path) -> list:
    """The records of an offline run's .wandb file, as W&B's own protobuf messages. The file is a
    LevelDB-style log (W&B's header ':W&B', 0xBEE1, version 0; 32 KiB blocks of chunks, each with a
    CRC-32, a length and a type: full, first, middle, last); wandb>=0.30 has no public reader."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert struct.unpack("<4sHB", data[:7]) == (b":W&B", 0xBEE1, 0), "not a W&B run file"
    records, pending, pos, block = [], b"", 7, 32768
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        assert zlib.crc32(bytes([kind]) + chunk) == crc, f"corrupt chunk at byte {pos}"
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def wandb_runs(run_dir: Path) -> list[list]:
    """The records of each offline run in ``run_dir`` (oldest first)."""
    files = sorted((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    assert files, f"no offline W&B run in {run_dir}"
    return [wandb_records(f) for f in files]


def wandb_history(records: list) -> dict[str, dict[int, object]]:
    """{key: {step: value}} of the history records (values decoded from their JSON)."""
    out: dict[str, dict[int, object]] = {}
    for r in records:
        if r.WhichOneof("record_type") != "history":
            continue
        for item in r.history.item:
            key = item.key or "/".join(item.nested_key)
            if not key.startswith("_"):
                out.setdefault(key, {})[r.history.step.num] = json.loads(item.value_json)
    return out


def of_kind(records: list, kind: str) -> list:
    return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]


def wandb_config(records: list) -> dict:
    """The run's config: the run record's, updated by the config records."""
    config: dict = {}
    for update in [r.config.update for r in of_kind(records, "run")] + [c.update for c in of_kind(records, "config")]:
        config.update({i.key: json.loads(i.value_json) for i in update})
    return config


def assert_wandb_holds_the_run(run: Path) -> None:
    """The offline W&B run of the run directory ``run`` (as for MLflow above) holds the metrics, the
    config and the plots."""
    expected = logged_columns(read_rows(run))
    run_id = json.loads((run / "trackers.json").read_text())["wandb"]
    (records,) = wandb_runs(run)
    (info,) = of_kind(records, "run")
    assert (info.run_id, info.display_name, info.project) == (run_id, "run", "pinnrun")
    config = wandb_config(records)
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert {k: config[k] for k in resolved} == resolved and config["model"]["width"] == 16
    # every numeric column, with the same values at the same steps (plus the plots, nothing else)
    history = wandb_history(records)
    assert {k: v for k, v in history.items() if not k.startswith("plots/")} == expected
    # the plots as images at the last step, their files in the offline run
    steps = json.loads((run / "summary.json").read_text())["steps"]
    images = {k.split("/")[1]: v for (k, v) in _images(records).items()}
    assert images.keys() >= PLOTS
    for name in PLOTS:
        step, meta = images[name]
        assert step == steps == 20 and meta["_type"] == "image-file" and meta["width"] > 100
        assert (next((run / "wandb").glob("offline-run-*")) / "files" / meta["path"]).stat().st_size > 1000
    (exit_record,) = of_kind(records, "exit")
    assert exit_record.exit_code == 0
    summary = {i.key: json.loads(i.value_json) for s in of_kind(records, "summary") for i in s.update}
    assert summary["status"] == "completed"


def _images(records: list) -> dict[str, tuple[int, dict]]:
    """{plots/<name>: (step, the image's metadata)} of the history records."""
    out: dict[str, tuple[int, dict]] = {}
    for r in records:
        if r.WhichOneof("record_type") == "history":
            for item in r.history.item:
                if len(item.nested_key) == 2 and item.nested_key[0].startswith("plots/"):
                    step, meta = out.setdefault(item.nested_key[0], (r.history.step.num, {}))
                    meta[item.nested_key[1]] = json.loads(item.value_json)
    return out


def test_wandb_resume_continues_the_run_it_started(tmp_path, tracker_env):
    run = tmp_path / "run"
    run_task([*RUN, "logger=wandb", "trainer.max_steps=10"], run)
    run_id = json.loads((run / "trackers.json").read_text())["wandb"]
    run_task([*RUN, "logger=wandb", "trainer.resume=true"], run)
    assert json.loads((run / "trackers.json").read_text())["wandb"] == run_id
    parts = wandb_runs(run)
    assert len(parts) == 2  # offline, each start is a folder of its own, of the one run
    assert [of_kind(p, "run")[0].run_id for p in parts] == [run_id, run_id]
    # each part's config is its start's
    assert [wandb_config(p)["trainer"]["max_steps"] for p in parts] == [10, 20]
    merged: dict[str, dict[int, object]] = {}
    for p in parts:
        for key, values in wandb_history(p).items():
            assert not merged.get(key, {}).keys() & values.keys(), f"{key}: a step logged twice"
            merged.setdefault(key, {}).update(values)
    expected = logged_columns(read_rows(run))
    assert max(expected["loss"]) == 20
    assert {k: v for k, v in merged.items() if not k.startswith("plots/")} == expected


# -- the command line: offline for real, and the one line of a missing package ----------------------
def test_the_command_line_logs_to_mlflow_and_wandb_without_a_network(tmp_path):
    """Both loggers through `pinnrun logger=...` with every proxy pointing at a closed port (what a
    request to anywhere would go through): the runs complete, the trackers print nothing (no
    warning, no log line: pinnrun's own output only), and the stores hold the metrics, the config
    and the plots (the two runs side by side, one process each: the trackers' whole path once)."""
    env = cli_env()
    for key in ("MLFLOW_TRACKING_URI", "WANDB_MODE", "WANDB_API_KEY", "WANDB_PROJECT", "WANDB_SILENT"):
        env.pop(key, None)
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, http_proxy=dead, https_proxy=dead, NO_PROXY="")
    env.update(WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"), WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"))
    dirs = {"mlflow": tmp_path / "m" / "run", "wandb": tmp_path / "w" / "run"}
    procs = {
        logger: subprocess.Popen(
            cli_command([*RUN, DRAWN, f"logger={logger}", f"hydra.run.dir={dirs[logger]}"]),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for logger in ("mlflow", "wandb")
    }
    for logger, p in procs.items():
        out, err = p.communicate(timeout=300)
        done = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        assert p.returncode == 0, explain(done)
        noise = re.compile(r"wandb|mlflow|alembic|sqlalchemy|warn|error|traceback|sync", re.IGNORECASE)
        assert not [line for line in out.splitlines() + err.splitlines() if noise.search(line)], explain(done)
        assert json.loads((dirs[logger] / "summary.json").read_text())["status"] == "completed"
    assert_mlflow_holds_the_run(dirs["mlflow"], tmp_path)
    assert_wandb_holds_the_run(dirs["wandb"])


@pytest.mark.parametrize("logger", ["mlflow", "wandb"])
def test_a_missing_tracker_package_is_one_line_naming_the_extra(tmp_path, logger):
    run = tmp_path / "run"
    p = run_without([logger], [*RUN, f"logger={logger}", f"hydra.run.dir={run}"], cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.splitlines() == [
        f"pinnrun: error: logger={logger} needs the {logger} package: pip install 'pinnrun[{logger}]'"
    ], explain(p)
    assert not run.exists()


def test_mlflow_local_store_needs_sqlalchemy_and_a_file_store_is_refused(tmp_path):
    run = tmp_path / "run"
    p = run_without(["alembic"], [*RUN, "logger=mlflow", f"hydra.run.dir={run}"], cwd=tmp_path)
    assert p.stderr.splitlines() == [
        "pinnrun: error: logger=mlflow needs the mlflow package: pip install 'pinnrun[mlflow]'"
    ], explain(p)
    # MLflow's file store keeps metric `loss` as a file, so `loss/<term>` cannot go next to it
    uri = (tmp_path / "mlruns").as_uri()
    p = run_without([], [*RUN, "logger=mlflow", f"hydra.run.dir={run}"], cwd=tmp_path, env={"MLFLOW_TRACKING_URI": uri})
    assert p.returncode == 2 and p.stderr.splitlines() == [
        f"pinnrun: error: logger=mlflow: MLFLOW_TRACKING_URI={uri} is a file store, which cannot hold the metrics "
        "loss and loss/<term> together; use a database (sqlite:///<path>/mlflow.db) or a tracking server"
    ], explain(p)
    assert not run.exists() and not (tmp_path / "mlruns").exists()


def test_without_a_tracker_no_store_is_written(tmp_path, tracker_env):
    run = tmp_path / "run"
    run_task(RUN, run)
    assert not {"mlruns", "wandb", "tensorboard", "trackers.json"} & {p.name for p in run.iterdir()}
    assert os.listdir(tmp_path) == ["run"]
