# %% [markdown]
# # pinnrun from Python: train, load back, predict on a probe line
#
# Cells in the percent format: open this file as a notebook (Jupyter with jupytext, VS Code,
# PyCharm) or run it as a script: `python examples/notebook.py [OUTPUT_DIR]`.

# %%
import sys
from pathlib import Path

import h5py
import matplotlib.pyplot as plt
import numpy as np

import pinnrun

args = [a for a in sys.argv[1:] if not a.startswith("-")]  # a notebook kernel passes its own flags
out = Path(args[0] if args else "outputs/notebook")

# %% [markdown]
# Train Burgers' equation briefly, composed exactly as `pinnrun equation=burgers ...` would be.
# A longer run (drop `trainer.max_steps`) gives the default recipe's accuracy.

# %%
run = pinnrun.run(
    ["equation=burgers", "optimizer=adam", "trainer.max_steps=300", "trainer.compile=false"],
    run_dir=out / "run",
    quiet=True,
)
print(run, f"relative L2 of u: {run.summary['final']['l2/u']:.3e}")

# %% [markdown]
# Load it back (as from another session) and evaluate it where the reference grid has no
# points: a probe line at t = 0.75, with the slope u_x and the PDE residual there.

# %%
run = pinnrun.load(out / "run")
x = np.linspace(-1, 1, 801)
line = run.predict({"t": 0.75, "x": x}, derivatives=["u_x"])
residual = run.residual({"t": 0.75, "x": x})["u"]
print(f"max |u_x| on the line: {np.abs(line['u_x']).max():.3f} at x = {x[np.abs(line['u_x']).argmax()]:+.3f}")
print(f"rms PDE residual on the line: {np.sqrt(np.mean(residual**2)):.3e}")

# %% [markdown]
# The reference solution at the nearest grid time, from the run's predictions.h5.

# %%
with h5py.File(run.run_dir / "predictions.h5") as f:
    t_grid, x_grid = f["grid/t"][()], f["grid/x"][()]
    i = int(np.abs(t_grid - 0.75).argmin())
    reference = f["ref/u"][i]

fig, (ax, bx) = plt.subplots(1, 2, figsize=(9, 3.4))
ax.plot(x_grid, reference, "k", lw=3, alpha=0.3, label=f"reference, t = {t_grid[i]:.3f}")
ax.plot(x, line["u"], "C0", label="PINN, t = 0.75")
ax.set(xlabel="x", ylabel="u", title="probe line")
ax.legend(fontsize=8)
bx.plot(x, line["u_x"], "C1")
bx.set(xlabel="x", ylabel="u_x", title="its slope (input derivative)")
fig.tight_layout()
fig.savefig(out / "probe_line.png", dpi=110)
print(f"wrote {out / 'probe_line.png'}")
