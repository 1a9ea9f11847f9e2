"""The gradient-comparison experiment: its config, its datasets and θ points, its report.

experiments/compare_gradients.py calls :func:`build_problems`, :func:`run`, then writes
:func:`report_markdown` and the figures of :mod:`logreg_jax.studies.gradient_figures`. The comparison itself
(every method against a float64 reference) is :mod:`logreg_jax.studies.gradcheck`.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import jax
import numpy as np

from logreg_jax.config import DTYPES, RUN_ONLY, Config, DataConfig, PredictConfig, require
from logreg_jax.data.files import Dataset, load_dataset
from logreg_jax.fit import fit, prepare
from logreg_jax.scale.sources import SyntheticSource
from logreg_jax.studies.gradcheck import METHODS, Point, Problem, compare_methods, reference, time_gradients, worst


@dataclass(frozen=True)
class GradientSettings:
    """The ``[compare]`` table."""

    data_files: tuple[str, ...] = ("data/exam_scores.txt", "data/microchips.txt")
    polynomial_degrees: tuple[int, ...] = (1, 6)  # features.polynomial_degree of each data file
    synthetic_sizes: tuple[int, ...] = (
        100,
        10_000,
        1_000_000,
    )  # m of each synthetic dataset (logreg_jax.scale.sources.SyntheticSource)
    synthetic_features: int = 32  # d of the synthetic data (n = d + 1 with the bias)
    dtypes: tuple[str, ...] = ("float32", "float64")
    draws: int = 3  # random θ ~ N(0, draw_scale² I) per dataset
    draw_scale: float = 1.0
    include_optimum: bool = True  # also compare at θ* fitted in float64 with [optimizer], [train]
    timing_sizes: tuple[int, ...] = (100, 10_000, 1_000_000)  # synthetic m to time gradients at
    timing_repeats: int = 7  # timed calls per method after a warm-up (the median is reported)

    def __post_init__(self):
        require(
            len(self.polynomial_degrees) == len(self.data_files) and all(d >= 1 for d in self.polynomial_degrees),
            "polynomial_degrees",
            "one integer >= 1 per data file",
        )
        require(all(m >= 2 for m in self.synthetic_sizes), "synthetic_sizes", "integers >= 2")
        require(self.synthetic_features >= 1, "synthetic_features", "an integer >= 1")
        require(
            len(self.dtypes) > 0 and len(set(self.dtypes)) == len(self.dtypes) and set(self.dtypes) <= set(DTYPES),
            "dtypes",
            f"a non-empty list of distinct values from {', '.join(DTYPES)}",
        )
        require(self.draws >= 0, "draws", "an integer >= 0")
        require(self.draws > 0 or self.include_optimum, "draws", "an integer >= 1 when include_optimum = false")
        require(
            len(self.data_files) + len(self.synthetic_sizes) > 0,
            "synthetic_sizes",
            "at least one size when data_files is empty",
        )
        require(np.isfinite(self.draw_scale) and self.draw_scale > 0, "draw_scale", "a finite number > 0")
        require(all(m >= 2 for m in self.timing_sizes), "timing_sizes", "integers >= 2")
        require(self.timing_repeats >= 1, "timing_repeats", "an integer >= 1")


@dataclass(frozen=True)
class GradientsConfig:
    """The base config (features, loss, optimizer and train of the fitted optimum) and ``[compare]``."""

    # Datasets, dtypes and the model (logistic regression) are the comparison's own choices.
    IGNORES: ClassVar[tuple[str, ...]] = ("model", "data", "dtype", "predict", "plot", *RUN_ONLY)
    base: Config = field(default_factory=Config)
    compare: GradientSettings = field(default_factory=GradientSettings)


class ComparisonKeys:
    """The config's seed split once into named keys, each folded further per dataset or size."""

    def __init__(self, seed: int):
        self.data, self.theta, self.direction = jax.random.split(jax.random.key(seed), 3)


def _synthetic(cfg: GradientsConfig, keys: ComparisonKeys, m: int):
    # Folding in m (not a position in the list) gives each size the same data in any config.
    source = SyntheticSource(m, cfg.compare.synthetic_features, key=jax.random.fold_in(keys.data, m), dtype=np.float64)
    return Dataset(*source.read(0, m), feature_names=source.feature_names)


def build_problems(cfg: GradientsConfig, callback=None) -> tuple[list[Problem], dict]:
    """The datasets as float64 inputs with bias, each with its random θ draws and the optimum.

    Args:
        cfg: the experiment config; ``features.standardize``, ``loss.l2``, ``optimizer`` and
            ``train`` apply to every dataset (the optimum is fitted in float64).
        callback: called with the name of each dataset before it is prepared (progress).

    Returns:
        The problems, and {dataset name: gradient norm at the fitted optimum}.
    """
    c, keys = cfg.compare, ComparisonKeys(cfg.base.seed)
    sources = [
        (Path(path).stem + (f" (degree {degree})" if degree > 1 else ""), path, degree)
        for path, degree in zip(c.data_files, c.polynomial_degrees)
    ]
    sources += [(f"synthetic m={m}", None, 1) for m in c.synthetic_sizes]
    problems, optimum_norms = [], {}
    for name, path, degree in sources:
        if callback is not None:
            callback(name)
        data = load_dataset(path) if path else _synthetic(cfg, keys, int(name.removeprefix("synthetic m=")))
        fit_cfg = dataclasses.replace(
            cfg.base,
            dtype="float64",
            data=DataConfig(path or "<synthetic>"),
            predict=PredictConfig(points=()),
            features=dataclasses.replace(cfg.base.features, polynomial_degree=degree),
        )
        _, _, X = prepare(fit_cfg, data)
        y, n = np.asarray(data.y, np.float64), X.shape[1]
        # Keyed by the dataset's name, so a dataset gets the same θ and v in any config.
        tag = zlib.crc32(name.encode())
        theta_keys = jax.random.split(jax.random.fold_in(keys.theta, tag), c.draws)
        direction_keys = jax.random.split(jax.random.fold_in(keys.direction, tag), c.draws + 1)
        thetas = [
            (f"draw {k}", c.draw_scale * np.asarray(jax.random.normal(theta_keys[k], (n,)), np.float64))
            for k in range(c.draws)
        ]
        if c.include_optimum:
            theta_star = np.asarray(fit(fit_cfg, data).params, np.float64)
            thetas.append(("optimum", theta_star))
            optimum_norms[name] = float(
                np.linalg.norm(reference(theta_star, X, y, theta_star, cfg.base.loss.l2).gradient)
            )
        points = tuple(
            Point(label, theta, np.asarray(jax.random.normal(k, (n,)), np.float64))
            for (label, theta), k in zip(thetas, direction_keys)
        )
        problems.append(Problem(name, X, y, cfg.base.loss.l2, points))
    return problems, optimum_norms


def run(cfg: GradientsConfig, problems: list[Problem], callback=None) -> tuple[list[dict], list[dict]]:
    """The error rows of every problem and the timing rows of every ``timing_sizes`` m."""
    rows = []
    for problem in problems:
        if callback is not None:
            callback(f"comparing on {problem.name}")
        rows += compare_methods(problem, cfg.compare.dtypes)
    timings = []
    keys = ComparisonKeys(cfg.base.seed)
    for m in cfg.compare.timing_sizes:
        if callback is not None:
            callback(f"timing at m={m}")
        data = _synthetic(cfg, keys, m)
        X = np.concatenate([np.ones((m, 1)), data.X], axis=1)
        theta = np.asarray(jax.random.normal(jax.random.fold_in(keys.theta, m), (X.shape[1],)), np.float64)
        timings += time_gradients(theta, X, data.y, cfg.base.loss.l2, cfg.compare.dtypes, cfg.compare.timing_repeats)
    return rows, timings


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.1e}"


def report_markdown(cfg: GradientsConfig, rows: list[dict], timings: list[dict], optimum_norms: dict) -> str:
    """``report.md``: the worst relative error of each method and dtype, and the timing table."""
    c = cfg.compare
    datasets = ", ".join(dict.fromkeys(r["dataset"] for r in rows))
    lines = [
        f"# Analytic vs autodiff derivatives ({cfg.base.name})",
        "",
        f"Datasets: {datasets}. At each: {c.draws} random θ ~ N(0, {c.draw_scale:g}² I)"
        + (", and the optimum θ* fitted in float64 with " + cfg.base.optimizer.name if c.include_optimum else "")
        + f"; L2 penalty λ = {cfg.base.loss.l2:g}; HVP direction v ~ N(0, I).",
        "",
        "Every method runs in the dtype shown and is compared with a float64 NumPy evaluation of the",
        "closed forms. Relative error = max |a − b| / max Σ|terms|: the largest error over the",
        "largest sum of the magnitudes of the terms summed into one entry (for the Hessian that is",
        "max |H|; for the gradient it stays finite at the optimum, where ∇C ≈ 0). gradients.csv also",
        "has max |a − b| and max |a − b| / max |b|. Finite differences are central, step",
        "eps^(1/3) · max(1, |θ|∞) (of the loss for the gradient, of the analytic gradient for the rest).",
        "",
        "## Worst relative error over all datasets and points",
        "",
        "| quantity | method | " + " | ".join(c.dtypes) + " |",
        "| --- | --- | " + " | ".join("---" for _ in c.dtypes) + " |",
    ]
    worst_rel = worst(rows)
    for quantity, methods in METHODS.items():
        for method in methods:
            lines.append(
                f"| {quantity} | {method} | "
                + " | ".join(_fmt(worst_rel[quantity, method, d]) for d in c.dtypes)
                + " |"
            )
    if optimum_norms:
        lines += [
            "",
            "‖∇C‖ at the fitted optimum (float64): "
            + ", ".join(f"{name} {norm:.1e}" for name, norm in optimum_norms.items())
            + ".",
        ]
    if timings:
        lines += [
            "",
            f"## Gradient time per call (median of {c.timing_repeats} after a warm-up; "
            f"loop: median of {min(c.timing_repeats, 3)})",
            "",
            "| m | n | dtype | analytic (ms) | autodiff (ms) | autodiff / analytic | loop (ms) |",
            "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {t['m']:,} | {t['n']} | {t['dtype']} | {t['analytic_s'] * 1e3:.3g} | {t['autodiff_s'] * 1e3:.3g} "
            f"| {t['ratio']:.2f} | {t['loop_s'] * 1e3:.3g} |"
            for t in timings
        ]
    return "\n".join(lines) + "\n"
