"""One run on several processes: data-parallel training on torch.distributed.

Started by ``torchrun --nproc_per_node=N -m pinnrun ...`` (its RANK, WORLD_SIZE, MASTER_ADDR
environment) or as one task of a multi-task submitit job (``hydra/launcher=slurm_ddp``,
submitit's job environment), every process runs the same config: NCCL between GPUs (one per
process: the local rank's), gloo between CPU processes. Without that environment
:data:`SINGLE` stands in and nothing below communicates.

What is split, and how the numbers stay those of one process (:class:`Ranks`):

* every rank draws the whole point set of every condition (the draws are pure functions of
  the seed, the condition and the round) and keeps its part (:meth:`Ranks.part`): a contiguous
  slice of each face's points, of each causal chunk's, of the observed points;
* each loss term is formed as sum_local r^2 / N with N the term's global count, so the terms'
  sum over ranks is the one-process term; causal training's chunk losses are summed over ranks
  (:meth:`Ranks.all_sum`) before its weights are formed from them;
* after the backward pass one all-reduce sums the parameters' gradients, the loss and the
  terms (:meth:`Ranks.reduce_step`): every rank then holds the one-process gradient and loss,
  and Adam and L-BFGS take the same step everywhere;
* NTK traces are sums over points (each rank takes its part of the subsample) and grad-norm's
  statistics are taken of the summed gradients; RAD's candidates and the evaluation grid are
  split and gathered (:meth:`Ranks.gather`).

Rank 0 alone writes the run directory. A rank that fails leaves its error line in the process
group's store (:meth:`Ranks.report_failure`), where rank 0 reads it to end the run as failed.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where it is used: the command line's --help stays fast
    import torch

#: the store key of the first failing rank's error line
FAILED_KEY = "pinnrun/failed"


@dataclass(frozen=True)
class Ranks:
    """This process's place among the run's processes (``world`` = 1: a plain run)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    #: no more communication: a peer has failed or the ranks were stopped, and this rank finishes
    #: the run on its own (:meth:`without_peers`)
    alone: bool = field(default=False, compare=False)

    def without_peers(self) -> Ranks:
        """The same place in the run, with no more communication: every split is whole, every sum
        and gather this rank's own."""
        return replace(self, alone=True)

    @property
    def writer(self) -> bool:
        """Whether this process writes the run directory (rank 0)."""
        return self.rank == 0

    @property
    def split(self) -> bool:
        return self.world > 1 and not self.alone

    def part(self, n: int) -> slice:
        """This rank's contiguous part of ``n`` items: sizes differ by at most one, the lower
        ranks taking the larger parts (numpy's array_split)."""
        if not self.split:
            return slice(0, n)
        size, extra = divmod(n, self.world)
        start = self.rank * size + min(self.rank, extra)
        return slice(start, start + size + (self.rank < extra))

    def indices(self, n: int, blocks: int = 1) -> torch.Tensor:
        """This rank's part of each of ``blocks`` consecutive equal blocks of ``n`` items (the faces
        of a per-face condition, the chunks of a causal one), as indices into the n * blocks."""
        import torch

        p = self.part(n)
        return (torch.arange(blocks)[:, None] * n + torch.arange(p.start, p.stop)[None, :]).reshape(-1)

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        """The sum of ``t`` over the ranks (a new tensor; ``t`` itself without peers)."""
        if not self.split:
            return t
        import torch.distributed

        out = t.detach().clone()
        torch.distributed.all_reduce(out)
        return out

    def gather(self, local: torch.Tensor, n: int) -> torch.Tensor:
        """The ``n`` rows every rank computed its :meth:`part` of, on every rank."""
        if not self.split:
            return local
        full = local.new_zeros((n, *local.shape[1:]))
        full[self.part(n)] = local
        return self.all_sum(full)

    def reduce_step(
        self, params: list[torch.Tensor], loss: torch.Tensor, terms: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sums the gradients of ``params`` (in place), the loss and the terms over the ranks, in one
        all-reduce; returns the summed loss and terms."""
        if not self.split:
            return loss, terms
        import torch

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1), terms.detach().reshape(-1)])
        torch.distributed.all_reduce(flat)
        i = 0
        for p in params:
            p.grad = flat[i : i + p.numel()].view_as(p)
            i += p.numel()
        return flat[i], flat[i + 1 :]

    def agree(self, error: str | None) -> str | None:
        """Every rank's check (None: passed) made common: the first rank's error, on every rank."""
        if not self.split:
            return error
        import torch.distributed

        seen: list[str | None] = [None] * self.world
        torch.distributed.all_gather_object(seen, error)
        return next((e for e in seen if e is not None), None)

    def report_failure(self, line: str) -> None:
        """Leaves this rank's error line for rank 0 (the first one reported is kept)."""
        store = _store()
        if store is not None and self.world > 1:
            try:
                store.compare_set(FAILED_KEY, "", f"rank {self.rank}: {line}")
            except Exception:  # noqa: BLE001 - the store's server (rank 0's process) may be gone
                pass

    def failure_after(self, e: Exception) -> str:
        """The line that ends a distributed run after ``e``: a peer's own line if it left one,
        else this rank's (left for the others), or a peer gone without one (a broken collective)."""
        import torch.distributed

        line = (f"{type(e).__name__}: {e}".strip().splitlines() or [""])[0][:300]
        peer = self.failure()
        if peer is not None:
            return peer
        if isinstance(e, torch.distributed.DistBackendError) or any(
            w in str(e) for w in ("gloo", "Gloo", "NCCL", "Connection closed by peer", "Connection reset")
        ):
            # gloo's "[.../pair.cc:537] Read error [...]: Connection reset by peer. This is typically ..."
            reason = re.sub(r"\[[^\]]*\.(cc|cpp|h):\d+\] ", "", line).split(". This is typically")[0]
            return f"another rank stopped without reporting an error (killed?): {reason}"
        self.report_failure(line)
        return f"rank {self.rank}: {line}"

    def failure(self) -> str | None:
        """The line a failing peer left (None: none did)."""
        store = _store()
        if store is None or self.world == 1:
            return None
        try:
            if store.check([FAILED_KEY]):
                return store.get(FAILED_KEY).decode()
        except Exception:  # noqa: BLE001
            return None
        return None


SINGLE = Ranks()


def launched() -> bool:
    """Whether this process is one of several of a run: torchrun's (WORLD_SIZE > 1), or a task of a
    submitit job of several tasks (submitit's SLURM or local executor; a plain SLURM allocation
    without submitit is not taken for one: start torchrun under srun there)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return True
    executor = os.environ.get("SUBMITIT_EXECUTOR")
    tasks = {"slurm": "SLURM_NTASKS", "local": "SUBMITIT_LOCAL_NTASKS"}.get(executor or "")
    return tasks is not None and int(os.environ.get(tasks, "1")) > 1


def start() -> Ranks:
    """Joins the run's process group (once per process) and returns this process's ranks;
    :data:`SINGLE` outside torchrun and multi-task submitit jobs. With CUDA, each process takes
    its local rank's GPU and CUDA tensors go through NCCL; CPU tensors go through gloo."""
    if not launched():
        return SINGLE
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:  # a submitit task: its environment to torch's
            import submitit

            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local % torch.cuda.device_count())
        dist.init_process_group("cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def stop() -> None:
    """Leaves the process group at the end of a run: once every rank is there (rank 0 may still be
    writing the run directory), so that no rank's connections close under another's."""
    import torch.distributed

    if torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def shared_clock(ranks: Ranks) -> datetime.datetime:
    """Rank 0's clock, on every rank (the run directory's name is made of it)."""
    import torch.distributed

    now = [datetime.datetime.now()]
    if ranks.split:
        torch.distributed.broadcast_object_list(now, src=0)
    return now[0]


def _store():
    import torch.distributed

    if not torch.distributed.is_initialized():
        return None
    from torch.distributed import distributed_c10d

    return distributed_c10d._get_default_store()


__all__ = ["FAILED_KEY", "SINGLE", "Ranks", "launched", "shared_clock", "start", "stop"]
