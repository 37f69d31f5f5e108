"""Fixtures; the helpers themselves are in helpers.py (``from helpers import ...``)."""

from __future__ import annotations

import pytest

from helpers import run_cli


@pytest.fixture
def cli():
    """The :func:`helpers.run_cli` helper as a fixture."""
    return run_cli
