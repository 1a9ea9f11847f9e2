"""The optax optimizers a config can name: sgd, momentum, adam, lbfgs, newton; and their state.

:func:`init_state` builds an optimizer's state for :func:`logreg_jax.train.train` (one program for
parameters on one device); :func:`stored_loss_and_norm` reads the loss a line search stored in it.

Newton's method is written here as an optax transformation: a damped Newton direction and a line
search. The direction solves (H + μ I) d = −g, with H the Hessian of the loss from ``jax.hessian`` of
the ``value_fn`` that training passes to every update (autodiff, not the logistic model's analytic
Hessian, so the same code serves any :class:`~logreg_jax.models.registry.Model` and any parameter pytree,
flattened with ``ravel_pytree``). The damping μ = c‖g‖ vanishes at the optimum, which keeps
Newton's quadratic convergence there (Li, Fukushima, Qi & Yamashita, 2004, "A regularized Newton
method for monotone nonlinear equations"), and shortens steps far from it. If the solve is not a
descent direction (an indefinite Hessian, e.g. of an MLP) or not finite, the direction falls back
to −g. optax's backtracking (Armijo) line search then scales it, trying the full step first, so
the loss cannot increase and Newton cannot diverge.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from logreg_jax.proximal import prox_newton


@functools.lru_cache(maxsize=64)
def make_optimizer(cfg) -> optax.GradientTransformation:
    """The optax optimizer named by an ``OptimizerConfig`` (one object per config, cached).

    The same (frozen, hashable) config gives the same optimizer object, so the compiled training
    chunk, which is keyed on it, is reused across fits: a λ sweep or k folds compile once per shape.
    See :func:`optimizer_from` for the choices.
    """
    return optimizer_from(
        cfg.name,
        learning_rate=cfg.learning_rate,
        momentum=cfg.momentum,
        nesterov=cfg.nesterov,
        damping=cfg.damping,
        memory_size=cfg.memory_size,
    )


def optimizer_from(
    name: str, *, learning_rate=1.0, momentum=0.9, nesterov: bool = False, damping=0.1, memory_size: int = 10
) -> optax.GradientTransformation:
    """An optax optimizer from its hyperparameters, which may be traced arrays (as in a sweep).

    ``sgd`` is the tutorial's θ := θ − η ∇C; ``momentum`` is heavy-ball (or Nesterov) SGD;
    ``adam`` is Adam with optax's defaults for everything but the learning rate; ``lbfgs`` is
    optax's L-BFGS with its zoom line search, keeping ``memory_size`` past steps (optax's default
    10 stalls on ill-conditioned problems such as the unpenalized degree-6 microchips fit; a memory
    above the parameter count converges), and ``newton`` is damped Newton with a backtracking line
    search (:func:`newton`): both choose their own steps (the learning rate is unused).
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
    if name == "prox_newton":  # the L1 penalty arrives as update's extra argument sparse= (train.py)
        return prox_newton()
    raise ValueError(f"unknown optimizer {name!r}")


def init_state(optimizer, params):
    """The optimizer's state at ``params``, typed as its update returns it.

    optax builds a state op by op, and in a new process each op is a program to compile (six for
    L-BFGS); for parameters on one device this is one program. The state's scalars are strongly
    typed, as the update returns them: optax's init writes weak ones, which would give the second
    chunk inputs of other types than the first's, and so a second program to compile.

    Args:
        optimizer: an optax transformation. params: the parameter pytree.

    Returns:
        The optimizer's state pytree.
    """
    leaves = [leaf for leaf in jax.tree.leaves(params) if isinstance(leaf, jax.Array)]
    one_device = all(len(leaf.sharding.device_set) == 1 for leaf in leaves)
    # jit of parameters sharded over several devices needs the user's mesh context (jax.set_mesh).
    return (_init_program if one_device else _typed_init)(optimizer, params)


def _typed_init(optimizer, params):
    return jax.tree.map(lambda leaf: jax.lax.convert_element_type(leaf, jnp.result_type(leaf)), optimizer.init(params))


_init_program = jax.jit(_typed_init, static_argnames="optimizer")


def stores_value(opt_state) -> bool:
    """Whether the state holds the loss and gradient at the current parameters, as L-BFGS's zoom
    line search stores them at the step it accepted (``optax.value_and_grad_from_state`` reads them)."""
    try:
        return all(optax.tree.get(opt_state, key) is not None for key in ("value", "grad"))
    except KeyError:  # several line searches in one chain: which one's value is ambiguous
        return False


def stored_loss_and_norm(opt_state) -> tuple[float, float] | None:
    """(loss, global gradient norm in float64) that the state stores (:func:`stores_value`), or
    None when it stores none or a non-finite loss: a final evaluation the training need not compile."""
    if not stores_value(opt_state):
        return None
    value, grad = (optax.tree.get(opt_state, key) for key in ("value", "grad"))
    if not np.isfinite(float(value)):
        return None
    leaves = jax.tree_util.tree_leaves(grad)
    return float(value), float(np.sqrt(sum(np.sum(np.square(np.asarray(g, np.float64))) for g in leaves)))


class NewtonDirectionState(NamedTuple):
    """Whether the last direction fell back to −g (for inspection; the update does not use it)."""

    fell_back: jax.Array


def scale_by_newton(damping=0.1) -> optax.GradientTransformationExtraArgs:
    """Turns the gradient into the damped Newton direction −(H + damping·‖g‖·I)⁻¹ g.

    Args:
        damping: c ≥ 0 of μ = c‖g‖ (may be a traced array, e.g. under ``vmap``).

    Returns:
        A transformation whose ``update`` needs the keyword argument ``value_fn`` (params → loss),
        as optax's line searches do.
    """

    def init(params):
        del params
        return NewtonDirectionState(fell_back=jnp.asarray(False))

    def update(updates, state, params=None, *, value_fn, **extra_args):
        del state, extra_args
        flat_g, unravel = ravel_pytree(updates)
        flat_p, unravel_p = ravel_pytree(params)
        # (n, n) Hessian of the loss in the flattened parameters.
        hessian = jax.hessian(lambda flat: value_fn(unravel_p(flat)))(flat_p)
        mu = damping * jnp.linalg.norm(flat_g)
        step = -jnp.linalg.solve(hessian + mu * jnp.eye(flat_g.size, dtype=hessian.dtype), flat_g)
        descent = jnp.all(jnp.isfinite(step)) & (jnp.vdot(step, flat_g) < 0)
        direction = jnp.where(descent, step, -flat_g)
        return unravel(direction.astype(flat_g.dtype)), NewtonDirectionState(fell_back=~descent)

    return optax.GradientTransformationExtraArgs(init, update)


def newton(damping=0.1, max_backtracking_steps: int = 40) -> optax.GradientTransformationExtraArgs:
    """Damped Newton with an Armijo backtracking line search that tries the full step first.

    Args:
        damping: see :func:`scale_by_newton`.
        max_backtracking_steps: halvings of the step before the line search gives up (2⁻⁴⁰ ≈ 1e-12).

    Returns:
        An optax transformation; ``update`` takes ``value``, ``grad`` and ``value_fn``.
    """
    return optax.chain(
        scale_by_newton(damping),
        # increase_factor resets the guess to the full Newton step (max_learning_rate) each
        # iteration; a finite factor (not inf) keeps a step of 0 from becoming inf·0 = NaN.
        optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=max_backtracking_steps,
            decrease_factor=0.5,
            increase_factor=1e30,
            rtol=1e-14,
            max_learning_rate=1.0,
        ),
    )
