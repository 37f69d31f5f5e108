"""pinnrun's version, as installed (``0+unknown`` from a source tree that was not installed).
Its own module, so that what records the version (checkpoints, summary.json, predictions.h5)
need not import the package root."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pinnrun")
except PackageNotFoundError:
    __version__ = "0+unknown"

__all__ = ["__version__"]
