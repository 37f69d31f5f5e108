"""Cost of one NTK weight update relative to one training step, side by side in one process.

    python benchmarks/ntk_cost.py                       # wang_wave_ntk: [2,500,500,500,1], 300 points per term
    python benchmarks/ntk_cost.py --steps 20 --rounds 3 -- model.width=100

Alternating rounds of (``--steps`` Adam steps with the weights held, one exact
NTK update, one Hutchinson update) on the experiment's model and points, so
machine noise hits all alike. Prints the median seconds of each, the ratio
update / step, and the share of training time the updates take at
``update_every`` = 100 and at the experiment's own interval:
share = r / (N + r) for r = update / step and interval N.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from speed import build_trainer

from pinnrun.config import TraceMethod
from pinnrun.optim import make_optimizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", default="wang_wave_ntk")
    ap.add_argument("--steps", type=int, default=10, help="training steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("overrides", nargs="*", help="config overrides (after --)")
    args = ap.parse_args()
    t = build_trainer([f"experiment={args.experiment}", "trainer.progress=false", *args.overrides])
    cfg = t.cfg
    opt, sched = make_optimizer(t.phases[0], t.objective.parameters())
    w = t.weighting
    sync = torch.cuda.synchronize if t.device.type == "cuda" else (lambda: None)

    def steps():
        for _ in range(args.steps):
            t.step(t.points.at(0), t.weights(t.phases[0]), opt)
            opt.step()

    def update(method):
        w.cfg.trace = method
        w.update(0)

    times = {"step": [], "ntk_exact": [], "ntk_hutchinson": []}
    steps(), update(TraceMethod.exact)  # warm-up
    for _ in range(args.rounds):
        for key, fn in (
            ("step", steps),
            ("ntk_exact", lambda: update(TraceMethod.exact)),
            ("ntk_hutchinson", lambda: update(TraceMethod.hutchinson)),
        ):
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times[key].append(time.perf_counter() - t0)
    step = statistics.median(times["step"]) / args.steps
    every = cfg.weighting.update_every
    out = {
        "experiment": args.experiment,
        "device": str(t.device),
        "parameters": sum(p.numel() for p in t.model.parameters()),
        "points_per_term": cfg.weighting.points,
        "probes": cfg.weighting.probes,
        "s_per_step": step,
    }
    for key in ("ntk_exact", "ntk_hutchinson"):
        r = statistics.median(times[key]) / step
        out[f"s_{key}"] = statistics.median(times[key])
        out[f"{key}_over_step"] = r
        out[f"{key}_share_every_100"] = r / (100 + r)
        out[f"{key}_share_every_{every}"] = r / (every + r)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
