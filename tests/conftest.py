"""Fixtures; the helpers themselves are in helpers.py (``from helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import run_cli

# PINNacle's reference files come from the shared copy beside the checkout (its README: the files,
# the licence, the checksums), fetched into the data directory the first time a test needs one;
# without the copy, from nowhere: a test never reaches the network
_SHARED_PINNACLE = Path(__file__).resolve().parents[2] / "shared" / "pinnacle"
os.environ["PINNRUN_PINNACLE_URL"] = (
    _SHARED_PINNACLE.as_uri() if _SHARED_PINNACLE.is_dir() else (Path(__file__).parent / "no-pinnacle-copy").as_uri()
)


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
