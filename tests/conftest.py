"""Fixtures; the helpers themselves are in helpers.py (``from helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# TorchInductor compiles a step's C++ kernels in this process (and in the runs the tests start), not
# in a pool of its own worker processes: the suite's two workers already keep both cores busy, and
# each worker's pool imported torch again for nothing (the suite with an empty compile cache, its
# datasets built: 294 s with the pools, 269 s without, measured on the 2-core CPU)
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")

from helpers import run_cli  # noqa: E402

# PINNacle's reference files come from the shared copy beside the checkout (its README: the files,
# the licence, the checksums), fetched into the data directory the first time a test needs one;
# without the copy, from nowhere: a test never reaches the network
_SHARED_PINNACLE = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
os.environ["PINNRUN_PINNACLE_URL"] = (
    _SHARED_PINNACLE.as_uri() if _SHARED_PINNACLE.is_dir() else (Path(__file__).parent / "no-pinnacle-copy").as_uri()
)


@pytest.fixture(scope="session")
def shared():
    """``shared(name)``: the path of the shared copy of a PINNacle reference file, its SHA-256 checked
    against the copy's SHA256SUMS first (the tests skip where the copy is absent)."""
    from pinnrun.reference.points import sha256

    if not (_SHARED_PINNACLE / "SHA256SUMS").is_file():
        pytest.skip(f"the PINNacle reference copies are not at {_SHARED_PINNACLE}")
    sums = {}
    for line in (_SHARED_PINNACLE / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest

    def file(name: str) -> Path:
        path = _SHARED_PINNACLE / name
        assert sha256(path) == sums[name], f"{path} differs from the copy SHA256SUMS describes"
        return path

    return file


@pytest.fixture
def cli():
    """The :func:`helpers.run_cli` helper as a fixture."""
    return run_cli


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Runs in this process use one torch thread, like the subprocess runs (cli_env): these
    networks are tiny, and the numbers then match a subprocess run's to the last bit."""
    import torch

    torch.set_num_threads(1)
