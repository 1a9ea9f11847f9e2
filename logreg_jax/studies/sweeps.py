"""Hyperparameter sweeps: every member of a grid trained at once, ``jax.vmap`` inside one ``jit``.

A member is the config with some keys replaced. The swept keys are those that change numbers but
not shapes, so they can be traced values: the seed (its θ init), ``loss.l2``, the optimizer's
learning rate, momentum and damping, and ``train.tol``. Each member builds its own optax optimizer
from traced hyperparameters and runs the same :func:`~logreg_jax.train.run_epochs` scan as a single
fit, so a member's numbers equal those of ``lj.fit`` on its config (to float rounding). A member
whose loss becomes non-finite or ends above its start is marked diverged
(:func:`~logreg_jax.report.diagnose.diverged`); members share nothing, so it disturbs no other.
Works for any :class:`~logreg_jax.models.registry.Model`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import RUN_ONLY, Config, replace_key, require
from logreg_jax.data.files import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.fit import initial_params, precision, prepare
from logreg_jax.loss import objective
from logreg_jax.optimizers import optimizer_from
from logreg_jax.report import diagnose
from logreg_jax.route import load_data
from logreg_jax.train import run_epochs

# Config keys a sweep can vary inside one compiled call, and how each member reads them.
SWEEPABLE = {
    "seed": lambda c: c.seed,
    "loss.l2": lambda c: c.loss.l2,
    "optimizer.learning_rate": lambda c: c.optimizer.learning_rate,
    "optimizer.momentum": lambda c: c.optimizer.momentum,
    "optimizer.damping": lambda c: c.optimizer.damping,
    "train.tol": lambda c: c.train.tol,
}


@dataclass(frozen=True)
class SweepGrid:
    values: dict[str, tuple[float, ...]] = field(default_factory=dict)  # key = [v1, v2, ...]
    linspace: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # key = [lo, hi, n]
    logspace: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # key = [lo, hi, n]: 10^lo … 10^hi
    x: str = "optimizer.learning_rate"  # the x-axis of sweep.png and the key curves.png varies
    curves: int = 6  # loss curves drawn in curves.png

    def __post_init__(self):
        keys = [*self.values, *self.linspace, *self.logspace]
        for key in keys:
            require(
                key in SWEEPABLE,
                "values" if key in self.values else "linspace" if key in self.linspace else "logspace",
                f"keys among {', '.join(SWEEPABLE)} (not {key!r})",
            )
        require(len(keys) >= 1, "values", "at least one swept key in values, linspace or logspace")
        require(len(set(keys)) == len(keys), "values", "each key in only one of values, linspace, logspace")
        for name in ("linspace", "logspace"):
            require(all(n >= 1 for _, _, n in getattr(self, name).values()), name, "[low, high, count >= 1]")
        require(all(len(v) >= 1 for v in self.values.values()), "values", "non-empty lists")
        require(self.curves >= 1, "curves", "an integer >= 1")


@dataclass(frozen=True)
class SweepConfig:
    """The base config every member starts from, and the ``[sweep]`` grid."""

    # Every member trains full batch on one device, in one vmapped call, on the smooth objective.
    IGNORES: ClassVar[tuple[str, ...]] = ("loss.l1", *RUN_ONLY)
    base: Config = field(default_factory=Config)
    sweep: SweepGrid = field(default_factory=SweepGrid)


def grid(cfg: SweepConfig) -> dict[str, np.ndarray]:
    """The members: for each swept key (sorted by name), its (k,) values over the Cartesian product."""
    axes = {key: np.asarray(v, np.float64) for key, v in cfg.sweep.values.items()}
    axes |= {key: np.linspace(lo, hi, int(n)) for key, (lo, hi, n) in cfg.sweep.linspace.items()}
    axes |= {key: np.logspace(lo, hi, int(n)) for key, (lo, hi, n) in cfg.sweep.logspace.items()}
    keys = sorted(axes)
    product = list(itertools.product(*(axes[k] for k in keys)))
    return {k: np.asarray([p[i] for p in product]) for i, k in enumerate(keys)}


def member_config(cfg: SweepConfig, values: dict[str, np.ndarray], i: int) -> Config:
    """Member ``i``: the base config with its swept values in their typed fields, validated like
    any config (an impossible value raises ConfigError naming the member, key and value)."""
    member = cfg.base
    for key, v in values.items():
        value = float(v[i])
        if key == "seed":
            if value != int(value):
                raise ConfigError(f"sweep member {i}: seed = {value!r}: expected an integer")
            value = int(value)
        try:
            member = replace_key(member, key, value)
        except ConfigError as err:
            raise ConfigError(f"sweep member {i}: {err}") from None
    return member


class SweepResult(NamedTuple):
    """Every member's training record; arrays have the members along axis 0.

    Attributes:
        values: swept key → (k,) values.
        loss: (k, epochs) loss at the start of each iteration; NaN after a member stopped (tol).
        grad_norm: (k, epochs) gradient norm there, NaN likewise.
        iterations: (k,) iterations each member ran.
        final_loss: (k,) loss at each member's final parameters.
        diverged: (k,) whether the loss became non-finite or ended above its start.
        compile_s: seconds to compile the vmapped call; run_s: seconds to run it.
    """

    values: dict[str, np.ndarray]
    loss: np.ndarray
    grad_norm: np.ndarray
    iterations: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    compile_s: float
    run_s: float


def member_fn(model, model_cfg, optimizer: str, nesterov: bool, epochs: int, n_inputs: int, memory_size: int = 10):
    """One member's whole training as a pure function ``(hyper, X, y) -> records`` to vmap or jit.

    ``memory_size`` (L-BFGS) sets array shapes, so it is static: the config's, the same for all.

    ``hyper`` maps every :data:`SWEEPABLE` key to a scalar array; records are (loss, grad_norm,
    active) of shape (epochs,) and the final loss.
    """

    def train_member(hyper, X, y):
        params = initial_params(model, hyper["seed"], n_inputs, model_cfg)
        opt = optimizer_from(
            optimizer,
            learning_rate=hyper["optimizer.learning_rate"],
            momentum=hyper["optimizer.momentum"],
            nesterov=nesterov,
            damping=hyper["optimizer.damping"],
            memory_size=memory_size,
        )
        params, _, _, losses, norms, active = run_epochs(
            lambda p: objective(model, p, X, y, hyper["loss.l2"]),
            opt,
            params,
            opt.init(params),
            jnp.asarray(False),
            hyper["train.tol"],
            epochs,
        )
        return losses, norms, active, objective(model, params, X, y, hyper["loss.l2"])

    return train_member


def hyperparameters(cfg: Config, values: dict[str, np.ndarray], dtype) -> dict[str, jax.Array]:
    """(k,) arrays for every sweepable key: the swept values, else the config's value repeated."""
    k = len(next(iter(values.values()))) if values else 1
    out = {}
    for key, read in SWEEPABLE.items():
        v = values[key] if key in values else np.full(k, read(cfg))
        out[key] = jnp.asarray(v, jnp.int32 if key == "seed" else dtype)
    return out


def run_sweep(cfg: SweepConfig, data: Dataset | None = None, callback=None) -> SweepResult:
    """Trains every member of ``cfg``'s grid in one compiled, vmapped call.

    The data are read once, as :func:`~logreg_jax.route.load_data` reads them for ``cfg``,
    and shared by every member. For generated data (``"xor"``, ``data.synthetic``) that draw uses
    ``cfg.base.seed``: a swept seed then changes only a member's θ init, while ``lj.fit`` on that
    member's config would also draw other data.

    Args:
        cfg: the sweep's config. data: the training data (default: what ``cfg.base.data`` names).
        callback: called with the name of each stage (compiling, training) as it begins.

    Raises:
        ConfigError: a member's config is impossible (e.g. a learning rate ≤ 0), naming it.
    """
    data = load_data(cfg.base) if data is None else data
    values = grid(cfg)
    for i in range(len(next(iter(values.values()))) if values else 0):
        member_config(cfg, values, i)  # validates every member before anything compiles
    model, _, X = prepare(cfg.base, data)
    with precision(cfg.base):
        X, y = jnp.asarray(X), jnp.asarray(data.y, X.dtype)
        hyper = hyperparameters(cfg.base, values, X.dtype)
        one = member_fn(
            model,
            cfg.base.model,
            cfg.base.optimizer.name,
            cfg.base.optimizer.nesterov,
            cfg.base.train.epochs,
            X.shape[1],
            cfg.base.optimizer.memory_size,
        )
        call = jax.jit(jax.vmap(one, in_axes=(0, None, None)))
        if callback is not None:
            callback(f"compiling the {hyper['seed'].shape[0]} members as one program")
        start = time.perf_counter()
        compiled = call.lower(hyper, X, y).compile()
        compile_s = time.perf_counter() - start
        if callback is not None:
            callback("training every member")
        start = time.perf_counter()
        losses, norms, active, final = jax.block_until_ready(compiled(hyper, X, y))
        run_s = time.perf_counter() - start
    active = np.asarray(active)
    losses = np.where(active, np.asarray(losses, np.float64), np.nan)
    norms = np.where(active, np.asarray(norms, np.float64), np.nan)
    final = np.asarray(final, np.float64)
    diverged = diagnose.diverged(losses, active, final)  # non-finite, or ended above its start
    return SweepResult(values, losses, norms, active.sum(axis=1), final, diverged, compile_s, run_s)


def best_setting(result: SweepResult) -> dict:
    """The swept setting (seed aside) with the lowest median final loss over seeds, diverged excluded.

    Returns:
        {"setting": {key: value}, "median_final_loss": float, "members": int} or {} if all diverged.
    """
    keys = [k for k in result.values if k != "seed"]
    groups: dict[tuple, list[int]] = {}
    for i in range(result.final_loss.size):
        groups.setdefault(tuple(float(result.values[k][i]) for k in keys), []).append(i)
    best = None
    for setting, members in groups.items():
        ok = [i for i in members if not result.diverged[i]]
        if len(ok) < len(members):
            continue  # a setting that diverged for any seed is not a safe choice
        median = float(np.median(result.final_loss[ok]))
        if best is None or median < best[1]:
            best = (setting, median, len(ok))
    if best is None:
        return {}
    return {"setting": dict(zip(keys, best[0])), "median_final_loss": best[1], "members": best[2]}


def member_rows(result: SweepResult) -> list[dict]:
    """One row per member: the swept values (the seed as an int), final_loss, iterations, diverged."""
    return [
        {
            **{k: int(v[i]) if k == "seed" else float(v[i]) for k, v in result.values.items()},
            "final_loss": float(result.final_loss[i]),
            "iterations": int(result.iterations[i]),
            "diverged": bool(result.diverged[i]),
        }
        for i in range(result.final_loss.size)
    ]


def curve_rows(result: SweepResult, x_key: str, count: int) -> np.ndarray:
    """Members for curves.png: ``count`` values of ``x_key`` spread over its range, every other
    swept key at its first value."""
    first = np.ones(result.final_loss.size, bool)
    for k, v in result.values.items():
        if k != x_key:
            first &= v == v[0]
    idx = np.flatnonzero(first)
    if x_key in result.values and idx.size > count:
        idx = idx[np.unique(np.linspace(0, idx.size - 1, count).round().astype(int))]
    return idx[:count]
