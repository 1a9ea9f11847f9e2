"""Training when the data ask for more than rows in memory: streamed, feature-major, sharded.

:func:`logreg_jax.fit.fit` hands a config here when it names a ``.npy`` file or synthetic rows,
sets ``train.batch_size`` or ``distributed.*``, or when its inputs are large enough that the
feature-major layout pays. The training inputs are written once, feature-major, in ``cfg.dtype``
(:mod:`~logreg_jax.scale.pipeline`): no full-size float64 or row-major copy of the data is made.
Full-batch training is the same loop as in memory (:func:`logreg_jax.train.loop`) over the
blocked objective (:mod:`~logreg_jax.scale.block_loss`); minibatches read the source batch by batch.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from logreg_jax.config import Config
from logreg_jax.data.files import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.fit import Fit, check_plot_grid, check_points, initial_params, precision, run_keys, training_args
from logreg_jax.models.registry import Model, get_model
from logreg_jax.report import diagnose
from logreg_jax.scale import distributed, pipeline
from logreg_jax.scale.block_loss import block_accuracy, block_objective
from logreg_jax.scale.blocks import Blocks, sample_rows
from logreg_jax.scale.minibatch import evaluate, train_minibatch
from logreg_jax.scale.sources import ArraySource, open_source
from logreg_jax.train import COMPILER_OPTIONS, loop, run_epochs


@functools.partial(jax.jit, static_argnames=("model", "optimizer", "steps", "mesh"), compiler_options=COMPILER_OPTIONS)
def _run_chunk(params, opt_state, stopped, blocks, l2, tol, *, model, optimizer, steps, mesh):
    return run_epochs(
        lambda p: block_objective(model, p, blocks, l2, mesh), optimizer, params, opt_state, stopped, tol, steps
    )


@functools.partial(jax.jit, static_argnames=("model", "mesh"), compiler_options=COMPILER_OPTIONS)
def _loss_and_norm(params, blocks, l2, *, model, mesh):
    loss, grads = jax.value_and_grad(lambda p: block_objective(model, p, blocks, l2, mesh))(params)
    return loss, optax.tree.norm(grads)


def train_blocks(
    model: Model,
    params,
    blocks: Blocks,
    *,
    optimizer,
    epochs: int,
    l2: float = 0.0,
    tol: float = 0.0,
    chunk: int = 100,
    learning_rate=None,
    callback=None,
    mesh=None,
):
    """:func:`logreg_jax.train.train` on feature-major :class:`Blocks` (sharded over ``mesh``
    when given: each device sums its blocks, XLA all-reduces the loss and gradient)."""
    dtype = blocks.X.dtype
    l2, tol = jnp.asarray(l2, dtype), jnp.asarray(tol, dtype)
    chunk_fn = functools.partial(_run_chunk, blocks=blocks, l2=l2, tol=tol, model=model, optimizer=optimizer, mesh=mesh)
    final_fn = functools.partial(_loss_and_norm, blocks=blocks, l2=l2, model=model, mesh=mesh)
    return loop(
        chunk_fn,
        final_fn,
        params,
        optimizer.init(params),
        epochs=epochs,
        chunk=chunk,
        learning_rate=learning_rate,
        callback=callback,
    )


def fit_at_scale(cfg: Config, data: Dataset | None = None, callback=None) -> Fit:
    """:func:`logreg_jax.fit.fit` for data that need streaming, blocks, minibatches or devices."""
    distributed.initialize(cfg.distributed)  # before any JAX computation
    source = open_source(cfg.data, data, key=run_keys(cfg.seed).data)
    check_points(cfg, source.d, source.name)
    if isinstance(source, ArraySource):
        check_plot_grid(cfg, source.X)
    model = get_model(cfg.model)
    with precision(cfg):
        mesh = pipeline.data_mesh() if cfg.distributed.data_parallel else None
        n = pipeline.n_inputs(source.d, cfg.features.polynomial_degree, model.bias_column)
        lo, hi = pipeline.local_rows(source, n, cfg.dtype, mesh)
        feature_map = pipeline.fit_feature_map(
            source,
            degree=cfg.features.polynomial_degree,
            standardize=cfg.features.standardize,
            bias=model.bias_column,
            lo=lo,
            hi=hi,
            gather=distributed.gather if jax.process_count() > 1 else None,
            dtype=cfg.dtype,
        )
        params = initial_params(model, cfg.seed, n, cfg.model)
        common = training_args(cfg, callback)
        inputs = None
        if cfg.train.batch_size is None:
            inputs = pipeline.build_blocks(source, feature_map, cfg.dtype, mesh)
            params, history = train_blocks(model, params, inputs, mesh=mesh, **common)
        else:
            if mesh is not None:
                raise ConfigError("train.batch_size with distributed.data_parallel is not supported; unset one of them")
            params, history = train_minibatch(
                model,
                params,
                source,
                feature_map,
                cfg.dtype,
                batch_size=cfg.train.batch_size,
                key=run_keys(cfg.seed).shuffle,
                **common,
            )
        params = distributed.to_host(params)
    diagnose.check_divergence(history, cfg)  # finite but ended above its start: an error too
    return Fit(
        cfg,
        source.dataset if isinstance(source, ArraySource) else source,
        model,
        feature_map,
        params,
        history,
        inputs,
        mesh,
    )


def _source(fitted: Fit):
    return ArraySource(fitted.data) if isinstance(fitted.data, Dataset) else fitted.data


def sample_at_scale(fitted: Fit, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to k prepared training rows (model inputs) and labels, from the blocks or the source."""
    if fitted.inputs is not None:
        return sample_rows(fitted.inputs, k)
    source = _source(fitted)
    X, y = source.read(0, min(source.m, k))
    return fitted.feature_map(np.asarray(X, np.float64)).astype(fitted.cfg.dtype), y


def accuracy_at_scale(fitted: Fit) -> float:
    """Training accuracy from the blocks, or streamed from the source after minibatches."""
    with precision(fitted.cfg):
        if fitted.inputs is not None:
            return block_accuracy(fitted.model, fitted.params, fitted.inputs, fitted.mesh)
        return evaluate(fitted.model, fitted.params, _source(fitted), fitted.feature_map, fitted.cfg.dtype)[2]
