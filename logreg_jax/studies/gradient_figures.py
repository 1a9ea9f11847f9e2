"""The gradient comparison's figures: relative errors against m per dtype and method, and the
time per call. The rows of :func:`logreg_jax.studies.gradients.run` in, a matplotlib ``Figure`` out."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from logreg_jax.studies.gradcheck import METHODS


def errors_figure(rows: list[dict], dtypes) -> Figure:
    """Relative error of each method by dtype (log scale), one panel per quantity; ★ = optimum."""
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    axes = fig.subplots(1, len(METHODS), sharey=True)
    floor = 1e-19  # exact agreement (error 0) is drawn here
    for ax, (quantity, methods) in zip(axes, METHODS.items()):
        for k, dtype in enumerate(dtypes):
            offset = (k - (len(dtypes) - 1) / 2) * 0.3
            for optimum, marker in ((False, "o"), (True, "*")):
                sel = [
                    r
                    for r in rows
                    if r["quantity"] == quantity and r["dtype"] == dtype and (r["point"] == "optimum") == optimum
                ]
                x = [methods.index(r["method"]) + offset for r in sel]
                y = [max(r["rel_err"], floor) for r in sel]
                ax.scatter(
                    x,
                    y,
                    marker=marker,
                    s=60 if optimum else 22,
                    color=f"C{k}",
                    alpha=0.6,
                    edgecolors="k" if optimum else "none",
                    linewidths=0.5,
                    label=f"{dtype}{', optimum' if optimum else ', random θ'}",
                )
            ax.axhline(np.finfo(dtype).eps, color=f"C{k}", ls=":", lw=1)
        ax.set_xticks(range(len(methods)), [m.replace("_", " ") for m in methods])
        ax.set_yscale("log")
        ax.set_title({"gradient": "gradient", "hessian": "Hessian", "hvp": "Hessian-vector product"}[quantity])
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("relative error vs float64 reference")
    axes[-1].legend(loc="upper left", fontsize=8, title="dotted: machine eps", title_fontsize=8)
    fig.suptitle(f"errors against the float64 reference (0 drawn at {floor:g})")
    return fig


def timing_figure(timings: list[dict]) -> Figure:
    """Time per gradient call against m, log-log: analytic, autodiff, loop; one colour per dtype."""
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    dtypes = list(dict.fromkeys(t["dtype"] for t in timings))
    for k, dtype in enumerate(dtypes):
        sel = sorted((t for t in timings if t["dtype"] == dtype), key=lambda t: t["m"])
        m = [t["m"] for t in sel]
        for key, style, label in (
            ("analytic_s", "-o", "analytic (jit)"),
            ("autodiff_s", "--s", "jax.grad (jit)"),
            ("loop_s", ":^", "per-parameter loop (NumPy)"),
        ):
            ax.loglog(m, [t[key] * 1e3 for t in sel], style, color=f"C{k}", label=f"{label}, {dtype}")
    ax.set(
        xlabel="m (samples)",
        ylabel="time per gradient call (ms)",
        title=f"gradient time per call, n = {timings[0]['n'] if timings else '?'}",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
