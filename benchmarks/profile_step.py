"""Where a training step's time goes: torch.profiler's top operators and cProfile's top Python
functions, for pinnrun's eager and compiled steps on one setup.

    python benchmarks/profile_step.py                  # Burgers setup of benchmarks/peers.py
    python benchmarks/profile_step.py nls --steps 5

The steps profiled follow a warm-up (the compiled step compiles there).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats

import torch
from peers import ENGINES, SETUPS, pinnrun_steps
from torch.profiler import ProfilerActivity, profile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setup", nargs="?", default="burgers", choices=list(SETUPS))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--rows", type=int, default=12)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, {args.setup}, {args.steps} Adam steps")
    for engine in ("eager", "compiled"):
        run = pinnrun_steps([*SETUPS[args.setup], *ENGINES[engine], "trainer.device=cpu"])
        run(max(5, args.steps // 5))  # warm-up
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run(args.steps)
        print(f"\n== {engine}: operators (torch.profiler, self CPU time)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows, max_name_column_width=50))
        pr = cProfile.Profile()
        pr.enable()
        run(args.steps)
        pr.disable()
        text = io.StringIO()
        pstats.Stats(pr, stream=text).sort_stats("tottime").print_stats(args.rows)
        print(f"== {engine}: Python functions (cProfile, own time)")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:4000])


if __name__ == "__main__":
    main()
