"""pinnrun: config-driven command-line runner for physics-informed neural networks.

From Python (:mod:`pinnrun.api`; nothing heavy is imported until first use)::

    run = pinnrun.run(["equation=burgers"])     # train as `pinnrun equation=burgers` does
    run = pinnrun.load("outputs/...")            # a run directory, loaded back
    run.predict({"t": 0.5, "x": xs}, derivatives=["u_x"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pinnrun.version import __version__

if TYPE_CHECKING:
    from pinnrun.api import Run, load, run

_API = ("Run", "load", "run")


def __getattr__(name: str) -> Any:
    if name in _API:
        from pinnrun import api

        return getattr(api, name)
    raise AttributeError(f"module 'pinnrun' has no attribute '{name}'")


__all__ = ["Run", "__version__", "load", "run"]
