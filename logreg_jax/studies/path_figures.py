"""Figures of the regularization path: glmnet's coefficient paths and its CV curve."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def coefficient_figure(lams: np.ndarray, weights: np.ndarray, names, title: str = "", label_top: int = 10) -> Figure:
    """Each weight against log λ (glmnet's ``plot``), the ``label_top`` largest at the smallest λ named.

    Args:
        lams: (points,) λ. weights: (points, n) standardized weights. names: n feature names.
    """
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    x = np.log10(lams)
    ever = np.flatnonzero(np.any(weights != 0, axis=0))
    for j in ever:
        ax.plot(x, weights[:, j], lw=1.2)
    order = ever[np.argsort(-np.abs(weights[-1, ever]))][:label_top]
    for j in order:
        ax.annotate(str(names[j]), (x[-1], weights[-1, j]), xytext=(4, 0), textcoords="offset points", fontsize=7)
    ax.invert_xaxis()  # λ decreasing to the right, as weights enter
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("log10 λ")
    ax.set_ylabel("weight (standardized features)")
    ax.set_title(title or "coefficient paths")
    top = ax.secondary_xaxis("top")
    top.set_xticks(x[:: max(1, len(x) // 8)])
    top.set_xticklabels([str(k) for k in np.sum(weights != 0, axis=1)[:: max(1, len(x) // 8)]])
    top.set_xlabel("nonzero weights")
    return fig


def cv_figure(lams: np.ndarray, mean, se, chosen: dict, title: str = "") -> Figure:
    """Mean held-out deviance ± one standard error against log λ, ``lambda_min`` and ``lambda_1se`` marked."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    x = np.log10(lams)
    ax.errorbar(x, mean, yerr=se, fmt="o", ms=3, color="tab:red", ecolor="0.6", elinewidth=0.8, capsize=2)
    for key, style in (("lambda_min", "--"), ("lambda_1se", ":")):
        ax.axvline(np.log10(chosen[key]), color="k", ls=style, lw=1, label=f"{key} = {chosen[key]:.4g}")
    ax.invert_xaxis()
    ax.set_xlabel("log10 λ")
    ax.set_ylabel("held-out mean cross-entropy")
    ax.set_title(title or "cross-validation")
    ax.legend()
    return fig
