"""Optimizers raced to the optimum: loss gap per iteration and per second, compile time apart.

The optimum is computed once per problem in float64 by undamped Newton to machine precision.
Every optimizer starts from the same θ (the config's seed). Its run is timed as one compiled call
of exactly the iterations it used (after a first call that compiles), so the time axis excludes
compilation; the time at iteration i is that run's time × i / iterations.
"""

from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config
from logreg_jax.data import Dataset
from logreg_jax.experiment import fit, initial_params, precision, prepare
from logreg_jax.train import make_optimizer, train

GAP_LEVELS = (1e-6, 1e-10)


class Race(NamedTuple):
    """One optimizer on one problem.

    Attributes:
        gap: (iterations + 1,) loss − optimal loss after 0, 1, … updates.
        seconds: (iterations + 1,) wall time at each of those points, compile excluded.
        iterations: updates run (fewer than ``train.epochs`` if ``train.tol`` stopped it).
        converged: whether ``train.tol`` stopped it.
        compile_s: compile (and first-call) time of the timed run; run_s: its median run time.
    """

    gap: np.ndarray
    seconds: np.ndarray
    iterations: int
    converged: bool
    compile_s: float
    run_s: float


def optimum(cfg: Config, data: Dataset, iterations: int = 60) -> tuple[float, float]:
    """The minimal loss of ``cfg``'s problem, by undamped Newton in float64: (loss, gradient norm)."""
    exact = dataclasses.replace(
        cfg, dtype="float64",
        optimizer=dataclasses.replace(cfg.optimizer, name="newton", damping=0.0),
        train=dataclasses.replace(cfg.train, epochs=iterations, log_every=iterations, tol=0.0))
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
            return train(model, theta0, X, y, optimizer=optimizer, epochs=epochs,
                         l2=cfg.loss.l2, tol=tol, chunk=epochs)

        _, history = run(cfg.train.epochs, cfg.train.tol)
        k = int(history.loss.size)
        # The timed run does exactly the k iterations used, without tol, so no frozen iterations
        # after convergence are counted; the first call compiles it.
        start = time.perf_counter()
        jax.block_until_ready(run(max(k, 1), 0.0))
        first = time.perf_counter() - start
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(run(max(k, 1), 0.0))
            times.append(time.perf_counter() - start)
    run_s = float(np.median(times))
    gap = np.r_[history.loss, history.final_loss] - best_loss
    seconds = run_s * np.arange(k + 1) / max(k, 1)
    return Race(gap, seconds, k, history.converged, max(first - run_s, 0.0), run_s)


def first_below(r: Race, level: float) -> tuple[int | None, float | None]:
    """(iterations, seconds) at which the gap first falls to ``level``, or (None, None)."""
    hits = np.flatnonzero(r.gap <= level)
    if hits.size == 0:
        return None, None
    return int(hits[0]), float(r.seconds[hits[0]])
