"""Adam iterations per second: pinnrun against DeepXDE on the same problems, side by side.

    pip install -e ".[bench]"                      # DeepXDE (PyTorch backend)
    python benchmarks/peers.py                     # both setups
    python benchmarks/peers.py burgers --steps 200 --rounds 5
    python benchmarks/peers.py --device cuda       # on a GPU: also the step in CUDA graphs

Both libraries train in this one process, in alternating rounds (warm-up excluded, the compiled
step compiles there), on the same threads, float32, the same network and the same point counts;
the median of the rounds is reported, and the ratios. pinnrun runs with each of its engines:
the eager step, the compiled step (trainer.compile=true) and, on CUDA, the compiled step
captured in CUDA graphs.

* ``burgers``: the Raissi Burgers setup of DeepXDE's own example (examples/pinn_forward/
  Burgers.py): 2-20-20-20-1 tanh, Glorot normal, 2540 residual + 80 boundary + 160 initial
  points, t in [0, 0.99], Adam lr 1e-3.
* ``nls``: the NLS paper setup (Raissi et al. 2019, conf/experiment/raissi_nls.yaml): 4x100
  tanh, N0 = 50, Nb = 50 (periodic u, v, u_x, v_x), Nf = 20000, Adam lr 1e-3.

Not like for like in one respect: DeepXDE samples its points with its own samplers and
pinnrun with Latin hypercube; the counts are equal, the values differ (the cost does not
depend on them).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import torch  # noqa: E402
from speed import build_trainer  # noqa: E402
from speed import pinnrun_steps as task_steps  # noqa: E402

SETUPS = {
    "burgers": [
        "equation=burgers",
        "equation.domain.t=[0.0,0.99]",
        "equation.points.initial=160",
        "equation.points.boundary=80",
        "equation.points.residual=2540",
        "model.width=20",
        "model.depth=3",
        "model.init=xavier_normal",
        "optimizer=adam",
        "optimizer.phases.0.lr=1e-3",
    ],
    "nls": ["experiment=raissi_nls", "optimizer=adam", "optimizer.phases.0.lr=1e-3"],
}
#: pinnrun's engines: the eager step, the compiled step, and (CUDA only) the compiled step in CUDA graphs
ENGINES = {
    "eager": ["trainer.compile=false"],
    "compiled": ["trainer.compile=true", "trainer.cuda_graphs=false"],
    "graphs": ["trainer.compile=true", "trainer.cuda_graphs=true"],
}


def pinnrun_steps(overrides: list[str]):
    return task_steps(build_trainer(overrides))


def deepxde_steps(setup: str):
    import deepxde as dde

    if setup == "burgers":
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))

        def pde(x, y):
            dy_x = dde.grad.jacobian(y, x, i=0, j=0)
            dy_t = dde.grad.jacobian(y, x, i=0, j=1)
            dy_xx = dde.grad.hessian(y, x, i=0, j=0)
            return dy_t + y * dy_x - 0.01 / math.pi * dy_xx

        bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
        ic = dde.icbc.IC(
            geom, lambda x: -torch.sin(math.pi * torch.as_tensor(x[:, 0:1])).numpy(), lambda _, on_initial: on_initial
        )
        data = dde.data.TimePDE(geom, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
        net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    else:
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-5, 5), dde.geometry.TimeDomain(0, math.pi / 2))

        def pde(x, y):
            u, v = y[:, 0:1], y[:, 1:2]
            u_t = dde.grad.jacobian(y, x, i=0, j=1)
            v_t = dde.grad.jacobian(y, x, i=1, j=1)
            u_xx = dde.grad.hessian(y, x, component=0, i=0, j=0)
            v_xx = dde.grad.hessian(y, x, component=1, i=0, j=0)
            sq = u**2 + v**2
            return [-v_t + 0.5 * u_xx + sq * u, u_t + 0.5 * v_xx + sq * v]

        def boundary(_, on_boundary):
            return on_boundary

        bcs = [dde.icbc.PeriodicBC(geom, 0, boundary, derivative_order=k, component=c) for c in (0, 1) for k in (0, 1)]
        ics = [
            dde.icbc.IC(geom, lambda x: 2 / torch.cosh(torch.as_tensor(x[:, 0:1])).numpy(), lambda _, on: on, 0),
            dde.icbc.IC(geom, lambda x: 0, lambda _, on: on, 1),
        ]
        data = dde.data.TimePDE(geom, pde, [*bcs, *ics], num_domain=20000, num_boundary=50, num_initial=50)
        net = dde.nn.FNN([2] + [100] * 4 + [2], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)

    def run(n: int) -> float:
        losshistory, _ = model.train(iterations=n, display_every=10**9, verbose=0)
        return float(sum(losshistory.loss_train[-1]))

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("setups", nargs="*", default=list(SETUPS), choices=list(SETUPS))
    ap.add_argument("--steps", type=int, default=100, help="Adam steps per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    try:
        import deepxde  # noqa: F401
    except ImportError:
        print("DeepXDE is not installed (pip install -e '.[bench]'): pinnrun's engines only")
        peer = False
    else:
        peer = True
    engines = [e for e in ENGINES if args.device == "cuda" or e != "graphs"]
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, {name}")
    for setup in args.setups:
        runners = {e: pinnrun_steps([*SETUPS[setup], *ENGINES[e], f"trainer.device={args.device}"]) for e in engines}
        if peer:
            runners["deepxde"] = deepxde_steps(setup)
        for name, run in runners.items():  # warm-up (the compiled step compiles here)
            t = time.perf_counter()
            run(max(1, args.steps // 10))
            print(f"  warm-up {name}: {time.perf_counter() - t:.1f} s")
        rates = {k: [] for k in runners}
        for _ in range(args.rounds):
            for name, run in runners.items():
                t = time.perf_counter()
                run(args.steps)  # ends with the loss read back: the device is done
                rates[name].append(args.steps / (time.perf_counter() - t))
        med = {k: statistics.median(v) for k, v in rates.items()}
        print(f"{setup}: {args.steps} Adam steps x {args.rounds} rounds, {args.device}")
        for k, v in med.items():
            print(f"  {k:8s} {v:8.1f} it/s   (rounds: {', '.join(f'{r:.1f}' for r in rates[k])})")
        for k in engines:
            if peer:
                print(f"  ratio pinnrun {k} / deepxde: {med[k] / med['deepxde']:.2f}")
            if k != "eager":
                print(f"  ratio {k} / eager: {med[k] / med['eager']:.2f}")


if __name__ == "__main__":
    main()
