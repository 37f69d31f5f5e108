"""Where a run computes: the device, the dtype and the CPU threads of ``trainer``.

    place(cfg.trainer) -> Placement(device, dtype, threads)

CUDA when present (``trainer.device=auto``), else the CPU; TensorFloat-32 matrix products on
CUDA only with ``trainer.tf32``; ``trainer.threads`` torch threads (None: the process's own, all
cores or a sweep job's share, :func:`pinnrun.cli.placement`). On the CPU the thread count
decides the numbers, so it is part of the config hash.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pinnrun.config import ConfigError, Device, TrainerConfig


@dataclass(frozen=True)
class Placement:
    device: torch.device
    dtype: torch.dtype
    #: the CPU threads in use where they decide the numbers (a run on the CPU), else None
    threads: int | None


def place(trainer: TrainerConfig) -> Placement:
    """The device, dtype and threads ``trainer`` asks for, set up for this process."""
    device = pick_device(trainer.device, trainer.tf32)
    return Placement(device, getattr(torch, trainer.dtype.value), set_threads(trainer.threads, device))


def pick_device(choice: Device, tf32: bool = False) -> torch.device:
    """The device ``trainer.device`` asks for: CUDA when present (auto), else the CPU. On CUDA,
    float32 matrix products use TensorFloat-32 only if ``tf32`` (trainer.tf32) says so."""
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    if choice is Device.cuda and not torch.cuda.is_available():
        raise ConfigError("trainer.device=cuda but no CUDA device is available (use trainer.device=auto or cpu)")
    if choice is Device.cpu or (choice is Device.auto and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda")


def set_threads(threads: int | None, device: torch.device) -> int | None:
    """Sets the CPU threads of tensor operations (``trainer.threads``; None keeps the process's).
    Returns the count in use where it decides the numbers (a run on the CPU), else None."""
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads() if device.type == "cpu" else None


__all__ = ["Placement", "place"]
