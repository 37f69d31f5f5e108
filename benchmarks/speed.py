"""Training speed of pinnrun on the current device, side by side with a peer.

    python benchmarks/speed.py                 # Raissi NLS setup: 4x100 tanh, Nf = 20000
    python benchmarks/speed.py --steps 50 --default-run

The peer is the same training step written by hand in plain PyTorch (the
network, the four autograd.grad calls for u_t, v_t, u_xx, v_xx, the same
eight MSE terms, Adam), measured in alternating rounds in one process so that
machine noise hits both alike. pinnrun runs its default, compiled step (it
compiles in the warm-up); with ``-- experiment=raissi_nls trainer.compile=false``
the ratio pinnrun / hand-written is the eager step's own overhead. ``--default-run`` also times ``pinnrun`` with its
default config end to end (subprocess, imports included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from pinnrun.config import register
from pinnrun.tasks import build_task
from pinnrun.training import PinnTask


def build_trainer(overrides: list[str]) -> PinnTask:
    register()
    with initialize_config_module("pinnrun.conf", version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    return build_task(OmegaConf.to_object(cfg))


def hand_written_step(trainer: PinnTask):
    """The same NLS training step in plain PyTorch, sharing model and points."""
    model = trainer.model
    pts = trainer.points.at(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_hi = trainer.problem.domain["x"][1]

    def step():
        x0 = pts["initial"]
        h0 = 2 / torch.cosh(x0[:, 1])
        out0 = model(x0)
        lo = pts["boundary"].clone().requires_grad_(True)
        hi = pts["boundary"].clone()
        hi[:, 1] = x_hi
        hi.requires_grad_(True)
        terms = [(out0[:, 0] - h0).pow(2).mean(), out0[:, 1].pow(2).mean()]
        grads = []
        for p in (lo, hi):
            o = model(p)
            gu = torch.autograd.grad(o[:, 0].sum(), p, create_graph=True)[0][:, 1]
            gv = torch.autograd.grad(o[:, 1].sum(), p, create_graph=True)[0][:, 1]
            grads.append((o[:, 0], o[:, 1], gu, gv))
        terms += [(a - b).pow(2).mean() for a, b in zip(*grads)]
        xf = pts["residual"].clone().requires_grad_(True)
        o = model(xf)
        u, v = o[:, 0], o[:, 1]
        du = torch.autograd.grad(u.sum(), xf, create_graph=True)[0]
        dv = torch.autograd.grad(v.sum(), xf, create_graph=True)[0]
        uxx = torch.autograd.grad(du[:, 1].sum(), xf, create_graph=True)[0][:, 1]
        vxx = torch.autograd.grad(dv[:, 1].sum(), xf, create_graph=True)[0][:, 1]
        sq = u**2 + v**2
        terms += [(-dv[:, 0] + 0.5 * uxx + sq * u).pow(2).mean(), (du[:, 0] + 0.5 * vxx + sq * v).pow(2).mean()]
        loss = sum(terms)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def pinnrun_steps(task: PinnTask):
    """The task's own Adam steps (the runner's chunks, without logging)."""
    phase = task.phases[0]
    task.start_phase(phase, None)
    state = {"step": 0}

    def run(n: int) -> float:
        chunk = task.advance(phase, state["step"], state["step"] + n)
        state["step"] = chunk.step
        return chunk.loss

    return run


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20, help="steps per timing round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--default-run", action="store_true", help="also time the default `pinnrun` run")
    ap.add_argument("overrides", nargs="*", default=["experiment=raissi_nls"])
    args = ap.parse_args()

    trainer = build_trainer(args.overrides)
    ours, peer = pinnrun_steps(trainer), hand_written_step(trainer)
    dev = trainer.device
    ours(2)
    peer()  # warm-up
    rates = {"pinnrun": [], "hand-written": []}
    for _ in range(args.rounds):
        for name, fn in (
            ("pinnrun", lambda: ours(args.steps)),
            ("hand-written", lambda: [peer() for _ in range(args.steps)]),
        ):
            sync(dev)
            t = time.perf_counter()
            fn()
            sync(dev)
            rates[name].append(args.steps / (time.perf_counter() - t))
    med = {k: statistics.median(v) for k, v in rates.items()}
    n = sum(p.numel() for p in trainer.model.parameters())
    pts = {k: len(v) for k, v in trainer.points.at(0).items()}
    print(
        f"device {dev} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else torch.get_num_threads()} "
        f"{'' if dev.type == 'cuda' else 'threads'}), {n} parameters, points {pts}, overrides {args.overrides}"
    )
    for k, v in med.items():
        print(f"  {k:13s} {v:8.2f} it/s   (rounds: {', '.join(f'{r:.2f}' for r in rates[k])})")
    print(f"  ratio pinnrun / hand-written: {med['pinnrun'] / med['hand-written']:.3f}")

    if args.default_run:
        run_dir = Path(tempfile.mkdtemp()) / "default"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pinnrun", f"hydra.run.dir={run_dir}", "trainer.progress=false"],
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - t
        s = json.loads((run_dir / "summary.json").read_text())
        print(
            f"default run: {wall:.1f} s end to end ({s['wall_time_s']:.1f} s training), "
            f"{s['steps']} steps, l2/h_abs {s['final']['l2/h_abs']:.3e}"
        )


if __name__ == "__main__":
    main()
