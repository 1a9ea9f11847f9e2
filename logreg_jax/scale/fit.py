"""Training when the data ask for more than rows in memory: streamed, feature-major, sharded.

:func:`logreg_jax.route.fit_config` hands a config here when it names a ``.npy`` file or synthetic
rows, sets ``train.batch_size`` or ``distributed.*``, or when its inputs are large enough that the
feature-major layout pays. The training inputs are written once, feature-major, in ``cfg.dtype``
(:mod:`~logreg_jax.scale.pipeline`): no full-size float64 or row-major copy of the data is made.
Full-batch training is the same loop as in memory (:func:`logreg_jax.train.train`) over the
blocked objective (:mod:`~logreg_jax.scale.block_loss`); minibatches read the source batch by batch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from logreg_jax import preflight
from logreg_jax.config import Config
from logreg_jax.data.features import FeatureMap
from logreg_jax.data.files import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.fit import Fit, initial_params, precision, run_keys, training_args
from logreg_jax.models.base import Model
from logreg_jax.models.registry import get_model
from logreg_jax.report import diagnose
from logreg_jax.scale import distributed, pipeline
from logreg_jax.scale.block_loss import block_accuracy, bound_block_objective
from logreg_jax.scale.blocks import Blocks, sample_rows
from logreg_jax.scale.minibatch import evaluate, train_minibatch
from logreg_jax.scale.sources import ArraySource, open_source
from logreg_jax.train import train


class OnBlocks(NamedTuple):
    """:class:`~logreg_jax.fit.TrainingInputs` stored feature-major (sharded over ``mesh`` when given)."""

    blocks: Blocks
    mesh: Any = None

    @property
    def m(self) -> int:
        return self.blocks.m

    def accuracy(self, model: Model, params) -> float:
        return block_accuracy(model, params, self.blocks, self.mesh)

    def sample(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return sample_rows(self.blocks, k)


class FromSource(NamedTuple):
    """:class:`~logreg_jax.fit.TrainingInputs` re-read from the row source (after minibatches)."""

    source: Any
    feature_map: FeatureMap
    dtype: str

    @property
    def m(self) -> int:
        return self.source.m

    def accuracy(self, model: Model, params) -> float:
        return evaluate(model, params, self.source, self.feature_map, self.dtype)[2]

    def sample(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        X, y = self.source.read(0, min(self.source.m, k))
        return self.feature_map(np.asarray(X, np.float64)).astype(self.dtype), y


def train_blocks(model: Model, params, blocks: Blocks, *, l2=0.0, mesh=None, **train_args):
    """:func:`logreg_jax.train.train` on feature-major :class:`Blocks` (sharded over ``mesh``
    when given: each device sums its blocks, XLA all-reduces the loss and gradient)."""
    return train(bound_block_objective(model, blocks, l2, mesh), params, **train_args)


def fit_at_scale(cfg: Config, data: Dataset | None = None, *, model: Model | None = None, callback=None) -> Fit:
    """:func:`logreg_jax.fit.fit` for data that need streaming, blocks, minibatches or devices."""
    distributed.initialize(cfg.distributed)  # before any JAX computation
    source = open_source(cfg.data, data, key=run_keys(cfg.seed).data)
    model = model or get_model(cfg.model)
    preflight.check(
        cfg, model, source.m, source.d, 2, source.name, source.X if isinstance(source, ArraySource) else None
    )
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
        if cfg.train.batch_size is None:
            inputs = OnBlocks(pipeline.build_blocks(source, feature_map, cfg.dtype, mesh), mesh)
            params, history = train_blocks(model, params, inputs.blocks, l2=cfg.loss.l2, mesh=mesh, **common)
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
                l2=cfg.loss.l2,
                **common,
            )
            inputs = FromSource(source, feature_map, cfg.dtype)
        params = distributed.to_host(params)
    diagnose.check_divergence(history, cfg)  # finite but ended above its start: an error too
    return Fit(
        cfg, source.dataset if isinstance(source, ArraySource) else source, model, feature_map, params, history, inputs
    )
