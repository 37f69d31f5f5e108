"""Figures of a run, made from its run directory alone (predictions.h5, metrics.csv).

    plots/fields.png   prediction, reference and error of every evaluated field
    plots/loss.png     total and per-term loss (and test_loss) against step
    plots/l2.png       relative L2 error of every field against step
    plots/params.png   inverse problems: each unknown constant against step, and its true value
    plots/weights.png  adaptive weighting: each term's weight against step
    plots/ntk_spectrum.png  weighting.spectrum=true: eigenvalues of each term's NTK, first and last update

``python -m pinnrun.plots <run dir>`` redraws them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pinnrun.io import read_metrics  # noqa: E402


def plot_run(run_dir: Path) -> list[Path]:
    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    made = []
    if (run_dir / "predictions.h5").exists():
        made.append(plot_fields(run_dir / "predictions.h5", out / "fields.png"))
    m = read_metrics(run_dir / "metrics.csv") if (run_dir / "metrics.csv").exists() else {}
    if m:
        made.append(plot_curves(m, "loss", out / "loss.png", "loss"))
        if any(k.startswith("l2/") for k in m):
            made.append(plot_curves(m, "l2/", out / "l2.png", "relative L2 error"))
        weights = {k: v for k, v in m.items() if k.startswith("weight/")}
        if any(np.nanmax(v) != np.nanmin(v) for v in weights.values() if np.isfinite(v).any()):
            made.append(plot_curves(m, "weight/", out / "weights.png", "loss weight"))
        names = [k.split("/", 1)[1] for k in m if k.startswith("param/")]
        if names:
            summary = run_dir / "summary.json"
            unknowns = json.loads(summary.read_text()).get("unknowns", {}) if summary.exists() else {}
            made.append(plot_params(m, names, unknowns, out / "params.png"))
    if (run_dir / "ntk.h5").exists():
        made.append(plot_spectra(run_dir / "ntk.h5", out / "ntk_spectrum.png"))
    return made


def plot_spectra(h5: Path, png: Path) -> Path:
    with h5py.File(h5, "r") as f:
        data = {t: (f[t]["steps"][()], f[t]["eigenvalues"][()]) for t in f}
    fig, axes = plt.subplots(1, len(data), figsize=(4.2 * len(data), 3.6), squeeze=False)
    for ax, (term, (steps, eig)) in zip(axes[0], data.items()):
        for row in sorted({0, len(steps) - 1}):
            if len(steps):
                e = eig[row]
                ax.loglog(np.arange(1, len(e) + 1), np.where(e > 0, e, np.nan), label=f"step {steps[row]}")
        ax.set_title(f"NTK of {term}")
        _axes(ax, "index", "eigenvalue")
    return _save(fig, png)


def plot_params(m: dict, names: list[str], unknowns: dict, png: Path) -> Path:
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(m["step"], m[f"param/{name}"], label="trained")
        if name in unknowns:
            ax.axhline(unknowns[name]["true"], color="k", ls="--", lw=1, label="true")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, png)


def plot_fields(h5: Path, png: Path) -> Path:
    with h5py.File(h5, "r") as f:
        variables = f.attrs["variables"].split(",")
        grid = [f[f"grid/{v}"][()] for v in variables]
        fields = f.attrs["fields"].split(",") if "fields" in f.attrs else list(f["pred"])
        data = {k: (f[f"pred/{k}"][()], f[f"ref/{k}"][()] if f"ref/{k}" in f else None) for k in fields}
    fig, axes = plt.subplots(len(fields), 3, figsize=(13, 3.2 * len(fields)), squeeze=False)
    for row, name in zip(axes, fields):
        pred, ref = data[name]
        panels = [("prediction", pred), ("reference", ref), ("error", None if ref is None else pred - ref)]
        for ax, (title, values) in zip(row, panels):
            ax.set_title(f"{name}: {title}")
            if values is None:
                ax.axis("off")
                continue
            if len(variables) == 1:
                ax.plot(grid[0], values)
                ax.set_xlabel(variables[0])
            else:
                # first variable on the horizontal axis (t for time-dependent problems)
                v2 = values.reshape(len(grid[0]), len(grid[1]), -1)[..., 0]
                style = {"cmap": "viridis"}
                if title == "error":  # white at zero
                    lim = float(np.abs(v2).max()) or 1.0
                    style = {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}
                im = ax.imshow(
                    v2.T,
                    origin="lower",
                    aspect="auto",
                    extent=[grid[0][0], grid[0][-1], grid[1][0], grid[1][-1]],
                    **style,
                )
                ax.set_xlabel(variables[0])
                ax.set_ylabel(variables[1])
                fig.colorbar(im, ax=ax)
    return _save(fig, png)


def plot_curves(m: dict, prefix: str, png: Path, ylabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, values in m.items():
        if key == prefix or (key.startswith(prefix) and "/" in key) or (prefix == "loss" and key == "test_loss"):
            ok = np.isfinite(values) & (values > 0)
            if ok.any():
                ax.semilogy(m["step"][ok], values[ok], label=key, lw=2.0 if key == prefix else 1.0)
    _axes(ax, "step", ylabel)
    return _save(fig, png)


def _axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _save(fig, png: Path) -> Path:
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


if __name__ == "__main__":
    for made in plot_run(Path(sys.argv[1])):
        print(made)
