"""The optimizer phases on their own: the phase plan under trainer.max_steps, the first-order
optimizers and their learning-rate schedule, and the L-BFGS chunk driver on a quadratic."""

from __future__ import annotations

import pytest
import torch

from pinnrun.config import PhaseConfig, PhaseKind
from pinnrun.optim import clear_history, lbfgs_chunk, make_optimizer, plan_phases

PHASES = [PhaseConfig(kind=PhaseKind.adam, steps=500), PhaseConfig(kind=PhaseKind.lbfgs, steps=2500)]


@pytest.mark.parametrize("max_steps, steps", [(None, [500, 2500]), (300, [300, 0]), (800, [500, 300]), (0, [0, 0])])
def test_phase_plan_caps_the_total(max_steps, steps):
    plan = plan_phases(PHASES, max_steps)
    assert [p.steps for p in plan] == steps and [p.index for p in plan] == [0, 1]
    assert [p.first_order for p in plan] == [True, False] and plan[1].name == "lbfgs"


def test_first_order_optimizers_and_their_schedule():
    w = torch.nn.Parameter(torch.ones(3))
    for kind, cls in (
        (PhaseKind.adam, torch.optim.Adam),
        (PhaseKind.gd, torch.optim.SGD),
        (PhaseKind.sip, torch.optim.Adam),
    ):
        phase = plan_phases([PhaseConfig(kind=kind, lr=0.1, decay_rate=0.5, decay_steps=10)], None)[0]
        opt, sched = make_optimizer(phase, [w])
        assert isinstance(opt, cls)
        for _ in range(10):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-12)  # lr * 0.5 ** (10 / 10)
    opt, sched = make_optimizer(plan_phases(PHASES, None)[1], [w])
    assert isinstance(opt, torch.optim.LBFGS) and sched is None


def test_a_linear_warmup_then_the_decay_counted_from_its_end_as_optax_joins_them():
    """jaxpi's schedule, optax.join_schedules([linear_schedule(0, lr, W), exponential_decay(lr,
    decay_steps, decay_rate)], [W]), at lr = 1e-3, W = 4, decay_steps = 2, decay_rate = 0.9: the
    values by hand, and the parameters Adam moves (none at step 0: the rate is 0 there)."""
    w = torch.nn.Parameter(torch.ones(3))
    phase = plan_phases([PhaseConfig(lr=1e-3, decay_rate=0.9, decay_steps=2, warmup_steps=4)], None)[0]
    opt, sched = make_optimizer(phase, [w])
    want = [0.0, 0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3 * 0.9**0.5, 1e-3 * 0.9, 1e-3 * 0.9**1.5]
    got = []
    for s in range(len(want)):
        got.append(opt.param_groups[0]["lr"])
        before = w.detach().clone()
        w.grad = torch.ones(3)
        opt.step()
        sched.step()
        assert torch.equal(w.detach(), before) == (s == 0), s
    assert got == pytest.approx(want, rel=1e-12, abs=0)
    with pytest.raises(Exception, match="warmup_steps must be >= 0"):
        from helpers import compose_config

        compose_config(["optimizer.phases.0.warmup_steps=-1"])


def test_lbfgs_chunk_counts_iterations_and_converges_on_a_quadratic():
    target = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    scale = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    phase = plan_phases(
        [PhaseConfig(kind=PhaseKind.lbfgs, steps=100, tolerance_grad=1e-9, tolerance_change=1e-30)], None
    )[0]
    opt, _ = make_optimizer(phase, [w])

    def closure():
        opt.zero_grad()
        loss = (scale * (w - target) ** 2).sum()
        loss.backward()
        return loss

    done, converged = lbfgs_chunk(opt, closure, 2)
    assert (done, converged) == (2, False)
    done, converged = lbfgs_chunk(opt, closure, 100)
    assert converged and 0 < done < 100
    torch.testing.assert_close(w.detach(), target, rtol=0, atol=1e-8)
    clear_history(opt)
    assert opt.state[w] == {}
