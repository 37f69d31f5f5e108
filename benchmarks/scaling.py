"""Strong scaling of one run over processes (pinnrun.distributed): the same run, the same total
collocation points, on 1 process and on N processes (torchrun, gloo on the CPU, NCCL on GPUs).

    python benchmarks/scaling.py                                   # 1 vs 2 CPU processes
    python benchmarks/scaling.py --processes 1 2 4 --device cuda   # one GPU per process
    python benchmarks/scaling.py --steps 400 -- equation.points.residual=100000

Each configuration is a real ``torchrun --standalone --nproc_per_node=N -m pinnrun`` run (the
1-process one too), in alternating rounds. Its speed is taken from metrics.csv's time_s between
the first logged step (compiling and start-up are over by then) and the last, so neither
start-up nor the final predictions count. On the CPU every process has one thread: the
1-process run is then one core's speed and N processes use N cores; a 1-process run with N
threads (what a user would otherwise run) is printed too. Strong-scaling efficiency:
speed / (cores or GPUs in use * speed of 1 process on one).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

#: Burgers on a large collocation set: 4 x 64 tanh network, 50000 residual points, Adam
DEFAULT = [
    "equation=burgers",
    "model.width=64",
    "model.depth=4",
    "equation.points.residual=50000",
    "optimizer=adam",
    "trainer.progress=false",
]


def run(processes: int, threads: int, steps: int, every: int, overrides: list[str], folder: Path) -> float:
    """Steps per second of one run on ``processes`` processes of ``threads`` threads."""
    run_dir = folder / f"p{processes}t{threads}-{len(list(folder.iterdir()))}"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "-m",
        "pinnrun",
        *overrides,
        f"trainer.max_steps={steps}",
        f"trainer.log_every={every}",
        f"trainer.eval_every={steps}",
        f"trainer.checkpoint_every={steps}",
        f"trainer.threads={threads}",
        f"hydra.run.dir={run_dir}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"scaling: the run failed:\n{proc.stderr[-2000:]}")
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["time_s"]]
    first, last = rows[0], rows[-1]
    return (int(last["step"]) - int(first["step"])) / (float(last["time_s"]) - float(first["time_s"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--every", type=int, default=50, help="steps between the timed rows")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("overrides", nargs="*", help="config overrides (after --)")
    args = ap.parse_args()
    overrides = [*DEFAULT, f"trainer.device={args.device}", *args.overrides]
    cpu = args.device == "cpu"
    configs = [(n, 1 if cpu else 0) for n in args.processes]
    if cpu and max(args.processes) > 1:
        configs.append((1, max(args.processes)))  # one process with all the cores
    speeds: dict[tuple[int, int], list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for n, threads in configs:
                speeds[(n, threads)].append(run(n, threads or 1, args.steps, args.every, overrides, Path(tmp)))
    import torch

    base = statistics.median(speeds[(1, configs[0][1])])
    print(f"torch {torch.__version__}, {os.cpu_count()} cores, device {args.device}; {' '.join(overrides)}")
    print(f"steps {args.steps}, timed from step {args.every}; medians of {args.rounds} alternating rounds")
    print("| processes | threads each | steps/s | speed-up | efficiency |")
    print("| --- | --- | --- | --- | --- |")
    for (n, threads), v in speeds.items():
        s = statistics.median(v)
        units = n * (threads or 1)  # cores (CPU) or GPUs in use
        print(f"| {n} | {threads or '-'} | {s:.2f} | {s / base:.2f}x | {s / base / units:.0%} |")


if __name__ == "__main__":
    main()
