"""The sweep's figures: final loss against a swept key (median and band over seeds), and the
loss curves of chosen members. Plain NumPy arrays in, a matplotlib ``Figure`` out."""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.figure import Figure


def _short(key: str) -> str:
    return key.split(".")[-1].replace("_", " ")


def sweep_figure(
    values: dict[str, np.ndarray], final_loss: np.ndarray, diverged: np.ndarray, x_key: str, title: str = ""
) -> Figure:
    """Final loss against ``x_key``: median and min–max band over seeds, one line per setting of
    the other swept keys; diverged members are marked with a red × along the top edge.

    Args:
        values: swept key → (k,) values per member.
        final_loss: (k,) final losses. diverged: (k,) bools.
        x_key: the swept key on the x-axis.
    """
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    x_all = values[x_key]
    others = [k for k in values if k not in (x_key, "seed")]
    settings = sorted({tuple(values[k][i] for k in others) for i in range(x_all.size)})
    for color, setting in zip(itertools.cycle([f"C{j}" for j in range(10)]), settings):
        mine = (
            np.all([values[k] == v for k, v in zip(others, setting)], axis=0) if others else np.ones(x_all.size, bool)
        )
        xs = np.unique(x_all[mine])
        rows = [final_loss[mine & (x_all == x) & ~diverged] for x in xs]
        keep = np.asarray([r.size > 0 for r in rows])
        if keep.any():
            stats = np.asarray([[np.median(r), r.min(), r.max()] for r in rows if r.size])
            label = ", ".join(f"{_short(k)} {v:g}" for k, v in zip(others, setting)) or "median over seeds"
            ax.plot(xs[keep], stats[:, 0], color=color, marker=".", label=label)
            ax.fill_between(xs[keep], stats[:, 1], stats[:, 2], color=color, alpha=0.25, lw=0)
    if diverged.any():
        # Blended transform: x in data units, y in axes units (the loss there is not finite).
        ax.scatter(
            x_all[diverged],
            np.full(diverged.sum(), 0.97),
            marker="x",
            color="red",
            s=30,
            transform=ax.get_xaxis_transform(),
            label=f"diverged ({int(diverged.sum())} members)",
            zorder=3,
        )
    if np.all(x_all > 0) and x_all.max() / x_all.min() > 50:
        ax.set_xscale("log")
    finite = final_loss[~diverged]
    if finite.size and np.all(finite > 0) and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    n_seeds = np.unique(values["seed"]).size if "seed" in values else 1
    ax.set(
        xlabel=x_key,
        ylabel="final training loss",
        title=title or f"final loss: median and min–max over {n_seeds} seed(s)",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def member_curves_figure(loss: np.ndarray, labels: list[str], title: str = "") -> Figure:
    """Loss against iteration, one line per row of ``loss`` (k, epochs); NaNs (stopped) are gaps."""
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    epochs = np.arange(1, loss.shape[1] + 1)
    for row, label in zip(loss, labels):
        ax.plot(epochs, np.where(np.isfinite(row), row, np.nan), label=label)
    ax.set_yscale("log")
    ax.set(xlabel="iteration", ylabel="training loss", title=title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig
