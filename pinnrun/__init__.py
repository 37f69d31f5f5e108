"""pinnrun: config-driven command-line runner for physics-informed neural networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pinnrun")
except PackageNotFoundError:  # imported from a source tree that was not installed
    __version__ = "0+unknown"
