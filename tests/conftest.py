"""Fixtures; the helpers themselves are in helpers.py (``from helpers import ...``)."""

from __future__ import annotations

import pytest

from helpers import run_cli


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
