"""What logging, evaluation and checkpoints cost at the default settings.

    python benchmarks/overhead.py                       # the default run's config, 1000 Adam steps
    python benchmarks/overhead.py --steps 500 -- trainer.compile=true

Two copies of the same task (same config, seed, points) train the same steps side by side in
this process, in alternating rounds: one through the runner at its default intervals (a
metrics row every trainer.log_every steps, the relative L2 on the reference grid every
eval_every, a checkpoint every checkpoint_every, the progress bar off), one by bare
``task.advance`` calls in chunks of log_every steps (the loss still read back once a chunk).
The runner's training time is summary.json's wall_time_s (the phase loop with its logging,
evaluations and checkpoints); the final predictions.h5, summary and plots, written once at
the end, are reported apart.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from speed import build_trainer as build

from pinnrun.runner import Runner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("overrides", nargs="*", help="config overrides (after --)")
    args = ap.parse_args()
    run = ["optimizer=adam", "trainer.progress=false", *args.overrides]
    with tempfile.TemporaryDirectory() as tmp:
        times = {"runner": [], "bare": [], "final": []}
        for r in range(args.rounds + 1):  # round 0: warm-up (compiling, first allocations)
            task = build([*run, f"trainer.max_steps={args.steps}"])
            t = time.perf_counter()
            summary = Runner(task, Path(tmp) / str(r), (), Console(quiet=True)).run()
            runner, final = summary["wall_time_s"], time.perf_counter() - t - summary["wall_time_s"]

            task = build([*run, f"trainer.max_steps={args.steps}"])
            phase, every = task.phases[0], task.cfg.trainer.log_every
            task.start_phase(phase, None)
            t = time.perf_counter()
            step = 0
            while step < args.steps:
                step = task.advance(phase, step, min(step + every, args.steps)).step
            bare = time.perf_counter() - t
            if r:
                times["runner"].append(runner)
                times["bare"].append(bare)
                times["final"].append(final)
        tr = task.cfg.trainer
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {task.device}")
        print(
            f"{args.steps} Adam steps, log_every={tr.log_every} eval_every={tr.eval_every} "
            f"checkpoint_every={tr.checkpoint_every}, {args.rounds} rounds"
        )
        for k in ("runner", "bare"):
            v = med[k]
            print(f"  {k:7s} {v:7.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in times[k])})")
        print(f"  logging, evaluation, checkpoints: {100 * (med['runner'] / med['bare'] - 1):.1f} % of training time")
        print(f"  final predictions.h5, summary, plots (once a run): {med['final']:.2f} s")


if __name__ == "__main__":
    main()
