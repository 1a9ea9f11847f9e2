"""From a :class:`~logreg_jax.config.Config` to trained parameters and their metrics.

This is the whole experiment minus file output: load the data, fit the feature map on it, split
the seed into named keys, initialise, train, and summarise. Scripts call :func:`fit` and
:func:`summarize`, then write what they return.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax import blocks, diagnose, distributed, pipeline
from logreg_jax.config import Config
from logreg_jax.data import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.features import FeatureMap
from logreg_jax.loss import accuracy
from logreg_jax.minibatch import train_minibatch
from logreg_jax.model import Model, get_model
from logreg_jax.sources import ArraySource, open_source
from logreg_jax.optimizers import make_optimizer
from logreg_jax.train import History, train

def precision(cfg: Config):
    """Context manager under which arrays default to ``cfg.dtype`` (float64 turns on x64)."""
    return jax.enable_x64(cfg.dtype == "float64")


class Fit(NamedTuple):
    """A trained model with everything needed to use and describe it.

    Attributes:
        cfg: the resolved config.
        data: the training :class:`Dataset` (raw features), or for a ``.npy`` file or synthetic
            data the row source (:mod:`logreg_jax.sources`: ``X``, ``y`` read lazily, ``m`` rows).
        model: the :class:`Model`.
        feature_map: raw features → model inputs, fitted on ``data``.
        params: trained parameter pytree (NumPy leaves, in ``cfg.dtype``).
        history: the training :class:`History`.
        inputs: the prepared training :class:`~logreg_jax.blocks.Blocks` (None for minibatch
            training, which reads the source batch by batch); metrics are computed from them.
        mesh: the data-parallel mesh the inputs are sharded over, or None.
    """

    cfg: Config
    data: Any
    model: Model
    feature_map: FeatureMap
    params: Any
    history: History
    inputs: blocks.Blocks | None = None
    mesh: Any = None


class Keys(NamedTuple):
    """The named PRNG keys of a run, each owned by one consumer."""

    init: jax.Array
    shuffle: jax.Array
    data: jax.Array  # built-in synthetic datasets (data.path = "xor")


def run_keys(seed) -> Keys:
    """The one split of ``jax.random.key(seed)`` into named keys (seed an int, or traced in a sweep).

    A key split into n takes the same first keys for any n, so adding a consumer at the end
    leaves every earlier key, and every earlier result, unchanged.
    """
    return Keys(*jax.random.split(jax.random.key(seed), len(Keys._fields)))


def load_data(cfg: Config) -> Dataset:
    """The whole dataset ``cfg.data`` names, in memory: a file, synthetic rows, or ``"xor"``."""
    source = open_source(cfg.data, key=run_keys(cfg.seed).data)
    if isinstance(source, ArraySource):
        return source.dataset
    return Dataset(*source.read(0, source.m), feature_names=source.feature_names)


def prepare(cfg: Config, data: Dataset) -> tuple[Model, FeatureMap, np.ndarray]:
    """The model, the feature map fitted on ``data`` (the same streamed statistics :func:`fit`
    uses), and the (m, n_inputs) training inputs, row-major."""
    model = get_model(cfg.model)
    feature_map = pipeline.fit_feature_map(ArraySource(data), degree=cfg.features.polynomial_degree,
                                           standardize=cfg.features.standardize, bias=model.bias_column,
                                           dtype=cfg.dtype)
    return model, feature_map, feature_map(data.X).astype(cfg.dtype)


def initial_params(model: Model, seed, n_inputs: int, model_cfg):
    """The initial parameters for ``seed`` (an int, or a traced one inside ``vmap``)."""
    return model.init(run_keys(seed).init, n_inputs, model_cfg)


def fit(cfg: Config, data: Dataset | None = None, callback=None) -> Fit:
    """Trains the configured model.

    The training inputs are written once, feature-major, in ``cfg.dtype`` (see
    :mod:`logreg_jax.pipeline`): no full-size float64 or row-major copy of the data is made.

    Args:
        cfg: the experiment config.
        data: the training data; when None, what ``cfg.data`` names (a text or ``.npy`` file,
            synthetic rows, or a built-in dataset such as ``"xor"``).
        callback: ``(epochs done, loss, grad norm)`` progress hook, see :func:`train`.

    Raises:
        DataError, ConfigError, TrainingDiverged: bad data, prediction points that do not fit
            the data, a non-finite loss (naming the epoch), or a full-batch loss that ended
            above its start.
    """
    distributed.initialize(cfg.distributed)  # before any JAX computation
    keys = run_keys(cfg.seed)
    source = open_source(cfg.data, data, key=keys.data)
    for point in cfg.predict.points:
        if len(point) != source.d:
            raise ConfigError(f"predict.points: {list(point)} has {len(point)} values, but "
                              f"{source.name} has {source.d} features")
    if isinstance(source, ArraySource) and source.d == 2 and cfg.plot.grid_problem(source.X) is not None:
        raise ConfigError(f"plot.step = {cfg.plot.step:g}: expected {cfg.plot.grid_problem(source.X)}")
    model = get_model(cfg.model)
    with precision(cfg):
        mesh = pipeline.data_mesh() if cfg.distributed.data_parallel else None
        n = pipeline.n_inputs(source.d, cfg.features.polynomial_degree, model.bias_column)
        lo, hi = pipeline.local_rows(source, n, cfg.dtype, mesh)
        feature_map = pipeline.fit_feature_map(
            source, degree=cfg.features.polynomial_degree, standardize=cfg.features.standardize,
            bias=model.bias_column, lo=lo, hi=hi,
            gather=distributed.gather if jax.process_count() > 1 else None, dtype=cfg.dtype)
        params = initial_params(model, cfg.seed, n, cfg.model)
        common = dict(optimizer=make_optimizer(cfg.optimizer), epochs=cfg.train.epochs, l2=cfg.loss.l2,
                      tol=cfg.train.tol, chunk=cfg.train.log_every,
                      learning_rate=cfg.optimizer.learning_rate, callback=callback)
        inputs = None
        if cfg.train.batch_size is None:
            inputs = pipeline.build_blocks(source, feature_map, cfg.dtype, mesh)
            params, history = train(model, params, inputs, None, mesh=mesh, **common)
        else:
            if mesh is not None:
                raise ConfigError("train.batch_size with distributed.data_parallel is not supported; "
                                  "unset one of them")
            params, history = train_minibatch(model, params, source, feature_map, cfg.dtype,
                                              batch_size=cfg.train.batch_size, key=keys.shuffle,
                                              **common)
        params = distributed.to_host(params)
    diagnose.check_divergence(history, cfg)  # finite but ended above its start: an error too
    return Fit(cfg, source.dataset if isinstance(source, ArraySource) else source, model, feature_map,
               params, history, inputs, mesh)


def predict(fitted: Fit, X_raw) -> np.ndarray:
    """P(y = 1) for (k, n_raw) raw feature rows, through the stored feature map: → (k,)."""
    X_raw = np.asarray(X_raw, dtype=np.float64)
    with precision(fitted.cfg):
        z = fitted.model.logits(fitted.params, jnp.asarray(fitted.feature_map(X_raw), fitted.cfg.dtype))
        return np.asarray(jax.nn.sigmoid(z), dtype=np.float64)


def accuracy_on(fitted: Fit, X_raw, y) -> float:
    """Accuracy of the fitted model on (k, n_raw) raw rows with (k,) 0/1 labels, through its
    stored feature map (the rule of :func:`logreg_jax.loss.accuracy`)."""
    with precision(fitted.cfg):
        X = jnp.asarray(fitted.feature_map(np.asarray(X_raw, np.float64)), fitted.cfg.dtype)
        return float(accuracy(fitted.model, fitted.params, X, jnp.asarray(y)))
