"""The optax optimizers a config can name: sgd, momentum, adam, lbfgs, newton."""

from __future__ import annotations

import functools

import optax

from logreg_jax.newton import newton


@functools.lru_cache(maxsize=64)
def make_optimizer(cfg) -> optax.GradientTransformation:
    """The optax optimizer named by an ``OptimizerConfig`` (one object per config, cached).

    The same (frozen, hashable) config gives the same optimizer object, so the compiled training
    chunk, which is keyed on it, is reused across fits: a λ sweep or k folds compile once per shape.
    See :func:`optimizer_from` for the choices.
    """
    return optimizer_from(cfg.name, learning_rate=cfg.learning_rate, momentum=cfg.momentum,
                          nesterov=cfg.nesterov, damping=cfg.damping, memory_size=cfg.memory_size)


def optimizer_from(name: str, *, learning_rate=1.0, momentum=0.9, nesterov: bool = False,
                   damping=0.1, memory_size: int = 10) -> optax.GradientTransformation:
    """An optax optimizer from its hyperparameters, which may be traced arrays (as in a sweep).

    ``sgd`` is the tutorial's θ := θ − η ∇C; ``momentum`` is heavy-ball (or Nesterov) SGD;
    ``adam`` is Adam with optax's defaults for everything but the learning rate; ``lbfgs`` is
    optax's L-BFGS with its zoom line search, keeping ``memory_size`` past steps (optax's default
    10 stalls on ill-conditioned problems such as the unpenalized degree-6 microchips fit; a memory
    above the parameter count converges), and ``newton`` is damped Newton with a backtracking line
    search (:mod:`logreg_jax.newton`): both choose their own steps (the learning rate is unused).
    """
    if name == "sgd":
        return optax.sgd(learning_rate)
    if name == "momentum":
        return optax.sgd(learning_rate, momentum=momentum, nesterov=nesterov)
    if name == "adam":
        return optax.adam(learning_rate)
    if name == "lbfgs":
        return optax.lbfgs(memory_size=memory_size)
    if name == "newton":
        return newton(damping)
    raise ValueError(f"unknown optimizer {name!r}")
