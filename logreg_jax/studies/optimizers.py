"""Optimizers raced to the optimum: loss gap per iteration and per second, compile time apart.

The optimum is computed once per problem in float64 by undamped Newton to machine precision.
Every optimizer starts from the same θ (the config's seed). Its run is timed as one compiled call
of exactly the iterations it used (after a first call that compiles), so the time axis excludes
compilation; the time at iteration i is that run's time × i / iterations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from logreg_jax.config import OPTIMIZERS, RUN_ONLY, Config, config_from_dict, config_to_dict, replace_key, require
from logreg_jax.data.files import Dataset
from logreg_jax.errors import TrainingDiverged
from logreg_jax.fit import fit, initial_params, precision, prepare
from logreg_jax.loss import bound_objective
from logreg_jax.optimizers import make_optimizer
from logreg_jax.report.diagnose import rose
from logreg_jax.route import load_data
from logreg_jax.studies.timing import time_calls
from logreg_jax.train import train

GAP_LEVELS = (1e-6, 1e-10)


@dataclass(frozen=True)
class RaceSettings:
    optimizers: tuple[str, ...] = ("sgd", "momentum", "adam", "lbfgs", "newton")
    learning_rates: tuple[float, ...] = (5.0, 1.0, 0.1, 1.0, 1.0)  # one per optimizer
    problems: tuple[str, ...] = ("exam_scores",)  # names for the table and the figure
    problem_settings: tuple[tuple[str, ...], ...] = ((),)  # per problem: "key=value" overrides
    repeats: int = 5  # timed runs per optimizer; the median is reported

    def __post_init__(self):
        require(
            len(self.optimizers) >= 1 and set(self.optimizers) <= set(OPTIMIZERS),
            "optimizers",
            f"a non-empty list of {', '.join(OPTIMIZERS)}",
        )
        require(len(self.learning_rates) == len(self.optimizers), "learning_rates", "one per optimizer")
        require(
            all(math.isfinite(lr) and lr > 0 for lr in self.learning_rates),
            "learning_rates",
            "finite numbers > 0 (lbfgs and newton ignore theirs)",
        )
        require(len(self.problems) >= 1, "problems", "a non-empty list of names")
        require(len(self.problem_settings) == len(self.problems), "problem_settings", "one list per problem")
        require(self.repeats >= 1, "repeats", "an integer >= 1")


@dataclass(frozen=True)
class OptimizersConfig:
    """The base config (each problem's shared sections) and the ``[compare]`` table."""

    # Each optimizer brings its own name and learning rate; nothing is predicted or drawn.
    IGNORES: ClassVar[tuple[str, ...]] = (
        "optimizer.name",
        "optimizer.learning_rate",
        "loss.l1",  # the race is of smooth optimizers (an L1 term needs prox_newton)
        "predict",
        "plot",
        *RUN_ONLY,
    )
    base: Config = field(default_factory=Config)
    compare: RaceSettings = field(default_factory=RaceSettings)


COLUMNS = [
    "problem",
    "optimizer",
    "learning_rate",
    "iterations",
    "converged",
    "diverged",
    "final_gap",
    "compile_s",
    "run_s",
] + [f"{what}_to_{level:g}" for level in GAP_LEVELS for what in ("iterations", "ms")]


class Race(NamedTuple):
    """One optimizer on one problem.

    Attributes:
        gap: (iterations + 1,) loss − optimal loss after 0, 1, … updates.
        seconds: (iterations + 1,) wall time at each of those points, compile excluded.
        iterations: updates run (fewer than ``train.epochs`` if ``train.tol`` stopped it).
        converged: whether ``train.tol`` stopped it.
        compile_s: compile (and first-call) time of the timed run; run_s: its median run time.
        diverged: the loss became non-finite or ended above its start (the rule of every fit,
            :mod:`logreg_jax.report.diagnose`); a non-finite run has no curve (``gap`` is [nan]).
    """

    gap: np.ndarray
    seconds: np.ndarray
    iterations: int
    converged: bool
    compile_s: float
    run_s: float
    diverged: bool = False


def optimum(cfg: Config, data: Dataset, iterations: int = 60) -> tuple[float, float]:
    """The minimal loss of ``cfg``'s problem, by undamped Newton in float64: (loss, gradient norm)."""
    exact = dataclasses.replace(
        cfg,
        dtype="float64",
        optimizer=dataclasses.replace(cfg.optimizer, name="newton", damping=0.0),
        train=dataclasses.replace(cfg.train, epochs=iterations, log_every=iterations, tol=0.0),
    )
    fitted = fit(exact, data)
    return fitted.history.final_loss, fitted.history.final_grad_norm


def race(cfg: Config, data: Dataset, best_loss: float, repeats: int = 5) -> Race:
    """Runs ``cfg``'s optimizer from the seed's θ; times it; returns its gap curve."""
    model, _, X = prepare(cfg, data)
    with precision(cfg):
        X, y = jnp.asarray(X), jnp.asarray(data.y, X.dtype)
        theta0 = initial_params(model, cfg.seed, X.shape[1], cfg.model)
        # One optimizer object: compiled training is keyed on it, so repeats reuse the compilation.
        optimizer = make_optimizer(cfg.optimizer)

        def run(epochs, tol):
            return train(
                bound_objective(model, X, y, cfg.loss.l2),
                theta0,
                optimizer=optimizer,
                epochs=epochs,
                tol=tol,
                chunk=epochs,
            )

        try:
            _, history = run(cfg.train.epochs, cfg.train.tol)
        except TrainingDiverged:
            return Race(np.array([np.nan]), np.array([0.0]), 0, False, 0.0, 0.0, diverged=True)
        k = int(history.loss.size)
        # The timed run does exactly the k iterations used, without tol, so no frozen iterations
        # after convergence are counted; the first call compiles it.
        first, run_s = time_calls(run, (max(k, 1), 0.0), repeats)
    gap = np.r_[history.loss, history.final_loss] - best_loss
    seconds = run_s * np.arange(k + 1) / max(k, 1)
    diverged = bool(rose(history.loss[0], history.final_loss))
    return Race(gap, seconds, k, history.converged, max(first - run_s, 0.0), run_s, diverged)


def first_below(r: Race, level: float) -> tuple[int | None, float | None]:
    """(iterations, seconds) at which the gap first falls to ``level``, or (None, None)."""
    hits = np.flatnonzero(r.gap <= level)
    if hits.size == 0:
        return None, None
    return int(hits[0]), float(r.seconds[hits[0]])


def race_all(cfg: OptimizersConfig, callback=None) -> tuple[list[dict], dict, dict]:
    """Races every configured optimizer on every configured problem, from the same θ.

    Args:
        cfg: the config; each problem is its shared sections with that problem's overrides.
        callback: called with (problem, optimal loss, its gradient norm) once each optimum is known.

    Returns:
        (rows with :data:`COLUMNS`, problem → optimizer → :class:`Race`,
        problem → {"loss", "grad_norm"} of the float64 optimum).
    """
    rows, races, optima = [], {}, {}
    # Every problem's config is built before anything trains, so a bad setting stops the study at once.
    bases = [
        config_from_dict(config_to_dict(cfg.base), f"compare.problems {problem}", settings)
        for problem, settings in zip(cfg.compare.problems, cfg.compare.problem_settings)
    ]
    for problem, base in zip(cfg.compare.problems, bases):
        data = load_data(base)
        best, best_grad = optimum(base, data)
        optima[problem] = {"loss": best, "grad_norm": best_grad}
        if callback is not None:
            callback(problem, best, best_grad)
        races[problem] = {}
        for name, lr in zip(cfg.compare.optimizers, cfg.compare.learning_rates):
            run_cfg = replace_key(replace_key(base, "optimizer.name", name), "optimizer.learning_rate", lr)
            r = races[problem][name] = race(run_cfg, data, best, cfg.compare.repeats)
            row = {
                "problem": problem,
                "optimizer": name,
                "learning_rate": lr,
                "iterations": r.iterations,
                "converged": r.converged,
                "diverged": r.diverged,
                "final_gap": float(r.gap[-1]),
                "compile_s": r.compile_s,
                "run_s": r.run_s,
            }
            for level in GAP_LEVELS:
                its, secs = first_below(r, level)
                row[f"iterations_to_{level:g}"] = its
                row[f"ms_to_{level:g}"] = None if secs is None else secs * 1e3
            rows.append(row)
    return rows, races, optima


def gap_rows(races: dict) -> list[dict]:
    """One row per (problem, optimizer, iteration): the seconds (compile excluded) and the gap."""
    return [
        {"problem": problem, "optimizer": name, "iteration": i, "seconds": float(secs), "gap": float(gap)}
        for problem, runs in races.items()
        for name, r in runs.items()
        for i, (gap, secs) in enumerate(zip(r.gap, r.seconds))
    ]


def race_table(rows: list[dict]) -> str:
    """The :func:`race_all` rows as a Markdown table (iterations, and ms compile excluded, to each gap)."""
    levels = " | ".join(f"to {level:g}: iterations, ms" for level in GAP_LEVELS)
    lines = [
        f"| problem | optimizer | lr | iterations | final gap | compile s | run ms | {levels} |",
        "|" + " --- |" * (7 + len(GAP_LEVELS)),
    ]
    for r in rows:
        reach = " | ".join(
            "not reached"
            if r[f"iterations_to_{lv:g}"] is None
            else f"{r[f'iterations_to_{lv:g}']}, {r[f'ms_to_{lv:g}']:.2f}"
            for lv in GAP_LEVELS
        )
        lines.append(
            f"| {r['problem']} | {r['optimizer']} | {r['learning_rate']:g} | {r['iterations']} | "
            f"{'diverged' if r['diverged'] else format(r['final_gap'], '.1e')} | {r['compile_s']:.2f} | {r['run_s'] * 1e3:.2f} | {reach} |"
        )
    return "\n".join(lines)


def convergence_figure(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], floor: float = 1e-16) -> Figure:
    """Loss gap to the optimum on a log scale, against iteration (left) and wall time (right).

    Args:
        curves: problem → optimizer → (gap per iteration (t,), seconds at each iteration (t,)).
        floor: gaps below it (float64 rounding of a loss ~0.5, or exactly 0) are drawn at it.
    """
    fig = Figure(figsize=(11, 4.2 * len(curves)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(curves), 2, squeeze=False))
    for (problem, runs), (ax_it, ax_t) in zip(curves.items(), axes):
        for j, (name, (gap, seconds)) in enumerate(runs.items()):
            gap = np.maximum(gap, floor)
            ax_it.plot(np.arange(gap.size), gap, color=f"C{j}", label=name)
            ax_t.plot(seconds * 1e3, gap, color=f"C{j}", label=name)
        ax_it.set(xscale="symlog", xlabel="iteration", title=f"{problem}: gap vs iteration")
        ax_t.set(xscale="log", xlabel="wall time (ms, compile excluded)", title=f"{problem}: gap vs time")
        for ax in (ax_it, ax_t):
            ax.set_yscale("log")
            ax.set_ylabel("loss − optimal loss")
            for level in GAP_LEVELS:
                ax.axhline(level, color="gray", lw=0.8, ls="--")
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(loc="best", fontsize="small")
    return fig
