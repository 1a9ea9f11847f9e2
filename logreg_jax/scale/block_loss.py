"""The loss over :class:`~logreg_jax.scale.blocks.Blocks`: value, gradient and Hessian in few passes.

:func:`block_objective` equals :func:`logreg_jax.objective` on the same rows. Its derivatives are
defined block by block (``jax.custom_jvp``): the gradient is each block's ``jax.value_and_grad``
accumulated in the same pass that computes the loss (plain reverse mode through the loop over
blocks would read X again backwards and keep residuals), and second derivatives (``jax.hessian``,
as Newton uses) are Hessian-vector products over chunks of ``HVP_CHUNK`` samples, so their
intermediates are (n, HVP_CHUNK) rather than (n, m). The data are never differentiated.

With a mesh, the blocks are split over its ``"data"`` axis (rows sharded, parameters replicated):
each device sums its own blocks and one ``psum`` (an XLA all-reduce) combines them.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from logreg_jax.loss import cross_entropy_terms, l2_penalty
from logreg_jax.models.base import Model
from logreg_jax.scale.blocks import HVP_CHUNK, Blocks, block_logits


def _per_block(blocks: Blocks, fn, first_block):
    """Scans ``fn(Xb, yb, valid) -> pytree`` over the blocks; ``valid`` masks the padding."""
    block = blocks.block
    ids = jnp.arange(blocks.X.shape[0]) + first_block

    def body(_, xs):
        Xb, yb, b = xs
        valid = b * block + jnp.arange(block) < blocks.m
        return None, fn(Xb, yb, valid)

    return jax.lax.scan(body, None, (blocks.X, blocks.y, ids))[1]


def _sharded(mesh, fn, blocks: Blocks, *args):
    """``fn(blocks, first_block, *args)`` summed over the devices of ``mesh`` (or run as is)."""
    if mesh is None:
        return fn(blocks, 0, *args)

    def local(X, y, *args):
        first = jax.lax.axis_index("data") * X.shape[0]
        # Each device differentiates its own copy of the replicated arguments, so gradients stay
        # local partial sums until the one psum below (else every block would all-reduce).
        args = jax.lax.pcast(args, "data", to="varying")
        return jax.lax.psum(fn(Blocks(X, y, blocks.m), first, *args), "data")

    spec = P("data")
    return jax.shard_map(local, mesh=mesh, in_specs=(spec, spec) + (P(),) * len(args), out_specs=P())(
        blocks.X, blocks.y, *args
    )


def _block_loss(model: Model, params, Xb, yb, valid):
    """Summed cross-entropy of one block's real samples (the mean is taken once, over all m)."""
    return jnp.sum(cross_entropy_terms(block_logits(model, params, Xb), yb, valid))


def _loss_sum(blocks: Blocks, first_block, params, *, model):
    return jnp.sum(_per_block(blocks, functools.partial(_block_loss, model, params), first_block))


def _loss_and_grad_sum(blocks: Blocks, first_block, params, *, model):
    """(Σ loss, Σ its gradient) over the blocks, each block's ``jax.value_and_grad`` taken while
    the block is in cache and accumulated in one scan: X is read once."""
    block = blocks.block

    def body(carry, xs):
        Xb, yb, b = xs
        valid = b * block + jnp.arange(block) < blocks.m
        loss, grad = jax.value_and_grad(_block_loss, argnums=1)(model, params, Xb, yb, valid)
        return jax.tree_util.tree_map(jnp.add, carry, (loss, grad)), None

    # zeros_like keeps the arguments' per-device variation inside shard_map.
    zero = (jnp.zeros_like(jnp.sum(blocks.y[:0])), jax.tree_util.tree_map(jnp.zeros_like, params))
    ids = jnp.arange(blocks.X.shape[0]) + first_block
    return jax.lax.scan(body, zero, (blocks.X, blocks.y, ids))[0]


def _hvp_sum(blocks: Blocks, first_block, params, dparams, *, model):
    """Σ over chunks of ``HVP_CHUNK`` samples of the Hessian-vector product H·dparams (the JVP of
    each chunk's gradient). Chunks bound the intermediates: under ``jax.hessian`` the tangents
    are a batch of n basis vectors, so each chunk holds (n, HVP_CHUNK) values, not (n, m)."""
    nb, n, block = blocks.X.shape
    chunk = HVP_CHUNK if block % HVP_CHUNK == 0 else block
    per = block // chunk

    def body(carry, k):
        b, c = k // per, k % per
        Xc = jax.lax.dynamic_slice(blocks.X, (b, 0, c * chunk), (1, n, chunk))[0]
        yc = jax.lax.dynamic_slice(blocks.y, (b, c * chunk), (1, chunk))[0]
        valid = (first_block + b) * block + c * chunk + jnp.arange(chunk) < blocks.m

        def grad(p):
            return jax.grad(_block_loss, argnums=1)(model, p, Xc, yc, valid)

        return jax.tree_util.tree_map(jnp.add, carry, jax.jvp(grad, (params,), (dparams,))[1]), None

    return jax.lax.scan(body, jax.tree_util.tree_map(jnp.zeros_like, dparams), jnp.arange(nb * per))[0]


def _vdot(a, b):
    return sum(jnp.vdot(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _summed_value_and_grad(model: Model, mesh, params, blocks: Blocks):
    return _sharded(mesh, functools.partial(_loss_and_grad_sum, model=model), blocks, params)


@_summed_value_and_grad.defjvp
def _summed_value_and_grad_jvp(model: Model, mesh, primals, tangents):
    """Second derivatives (``jax.hessian``, Newton) as chunked Hessian-vector products."""
    params, blocks = primals
    loss, grad = _summed_value_and_grad(model, mesh, params, blocks)
    hvp = _sharded(mesh, functools.partial(_hvp_sum, model=model), blocks, params, tangents[0])
    return (loss, grad), (_vdot(grad, tangents[0]), hvp)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _summed_loss(model: Model, mesh, params, blocks: Blocks):
    return _sharded(mesh, functools.partial(_loss_sum, model=model), blocks, params)


@_summed_loss.defjvp
def _summed_loss_jvp(model: Model, mesh, primals, tangents):
    """The derivative of a sum is the sum of the blocks' derivatives (autodiff per block, see
    :func:`_loss_and_grad_sum`), loss and gradient in one pass over X: plain reverse mode reads X
    twice (forward, then backward) and stores residuals. The data are not differentiated."""
    params, blocks = primals
    loss, grad = _summed_value_and_grad(model, mesh, params, blocks)
    return loss, _vdot(grad, tangents[0])


def block_objective(model: Model, params, blocks: Blocks, l2=0.0, mesh=None):
    """The mean cross-entropy plus L2 penalty of :func:`logreg_jax.objective`, over blocks.

    Args:
        model: the :class:`Model`. params: its parameter pytree.
        blocks: the training :class:`Blocks` (sharded over ``mesh`` when given).
        l2: penalty strength λ ≥ 0.
        mesh: a ``jax.sharding.Mesh`` with a ``"data"`` axis, or None for one device.

    Returns:
        Scalar loss, differentiable in ``params`` (the gradient is all-reduced over the mesh).
    """
    return _summed_loss(model, mesh, params, blocks) / blocks.m + l2_penalty(model.weights(params), l2, blocks.m)


def _correct_sum(blocks: Blocks, first_block, params, *, model):
    def one(Xb, yb, valid):
        hit = (block_logits(model, params, Xb) >= 0) == (yb == 1)
        return jnp.sum(valid & hit)

    return jnp.sum(_per_block(blocks, one, first_block))


@functools.partial(jax.jit, static_argnames=("model", "mesh"))
def _correct_predictions(model: Model, params, blocks: Blocks, mesh=None):
    return _sharded(mesh, functools.partial(_correct_sum, model=model), blocks, params)


def block_accuracy(model: Model, params, blocks: Blocks, mesh=None) -> float:
    """The fraction of samples classified right (logit ≥ 0 ⇔ P(y = 1) ≥ 0.5, the rule of
    :func:`logreg_jax.loss.correct_predictions`), counted exactly."""
    return int(_correct_predictions(model, params, blocks, mesh)) / blocks.m


@functools.cache
def _block_objective_of(model: Model, mesh):
    def objective_on(blocks, l2, params):
        return block_objective(model, params, blocks, l2, mesh)

    return objective_on


def bound_block_objective(model: Model, blocks: Blocks, l2=0.0, mesh=None) -> jax.tree_util.Partial:
    """:func:`block_objective` as a function of the parameters alone, for :func:`logreg_jax.train.train`
    (the blocks and l2 are its traced leaves, as :func:`logreg_jax.loss.bound_objective`'s rows are)."""
    return jax.tree_util.Partial(_block_objective_of(model, mesh), blocks, jnp.asarray(l2, blocks.X.dtype))
