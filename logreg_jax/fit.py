"""From a :class:`~logreg_jax.config.Config` to a trained model, with the data in memory.

:func:`fit` is the whole story: load the data, split off the held-out rows, fit the feature map,
initialise the model from the run's named PRNG key, and :func:`~logreg_jax.train.train` it on the
objective bound to the (m, n) rows. Checks of what a config asks beyond training (plot grids,
prediction points) are :mod:`logreg_jax.preflight`'s; the choice of the large-data path is
:mod:`logreg_jax.route`'s, made above this module, which never imports :mod:`logreg_jax.scale`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config, scale_reason
from logreg_jax.data import splits
from logreg_jax.data.features import FeatureMap
from logreg_jax.data.files import Dataset, check_classes, check_rows, count_classes, load_dataset
from logreg_jax.data.generators import xor_dataset
from logreg_jax.errors import ConfigError
from logreg_jax.loss import accuracy, bound_objective
from logreg_jax.models.base import Model
from logreg_jax.models.registry import get_model, with_classes
from logreg_jax.optimizers import make_optimizer
from logreg_jax.proximal import l1_term
from logreg_jax.report import diagnose
from logreg_jax.train import History, train


def precision(cfg: Config):
    """Context manager under which arrays default to ``cfg.dtype`` (float64 turns on x64)."""
    return jax.enable_x64(cfg.dtype == "float64")


class TrainingInputs(Protocol):
    """The training inputs a fit kept, however they are stored: what metrics and checks ask of them.

    :class:`InMemory` rows here; feature-major blocks and row sources in :mod:`logreg_jax.scale.fit`.
    """

    m: int  # the number of training rows

    def accuracy(self, model: Model, params) -> float:
        """The fraction of training rows classified right."""

    def sample(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to k rows of model inputs (k', n) and their labels (k',)."""


class InMemory(NamedTuple):
    """(m, n) model inputs and (m,) labels, in the training dtype."""

    X: np.ndarray
    y: np.ndarray

    @property
    def m(self) -> int:
        return self.X.shape[0]

    def accuracy(self, model: Model, params) -> float:
        return accuracy(model, params, *jax.device_put((self.X, self.y)))

    def sample(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.X[:k], self.y[:k]


class Fit(NamedTuple):
    """A trained model with everything needed to use and describe it.

    Attributes:
        cfg: the resolved config.
        data: the training :class:`Dataset` (raw features), or for a ``.npy`` file or synthetic
            data the row source (:mod:`logreg_jax.scale.sources`: ``X``, ``y`` read lazily).
        model: the :class:`Model`.
        feature_map: raw features → model inputs, fitted on ``data``.
        params: trained parameter pytree (NumPy leaves, in ``cfg.dtype``).
        history: the training :class:`History`.
        inputs: the :class:`TrainingInputs` the metrics read.
        test: the held-out :class:`Dataset` (raw features), or None without ``data.test_*``.
    """

    cfg: Config
    data: Any
    model: Model
    feature_map: FeatureMap
    params: Any
    history: History
    inputs: TrainingInputs | None = None
    test: Dataset | None = None

    @property
    def rows(self) -> Dataset | None:
        """The raw training rows when they are in memory (figures, inference), else None."""
        return self.data if isinstance(self.data, Dataset) else None


class Keys(NamedTuple):
    """The named PRNG keys of a run, each owned by one consumer."""

    init: jax.Array
    shuffle: jax.Array
    data: jax.Array  # built-in synthetic datasets (data.path = "xor")
    split: jax.Array  # the held-out rows of data.test_fraction
    bootstrap: jax.Array  # inference.bootstrap resamples


@jax.jit
def run_keys(seed) -> Keys:
    """The one split of ``jax.random.key(seed)`` into named keys (seed an int, or traced in a sweep).

    A key split into n takes the same first keys for any n, so adding a consumer at the end
    leaves every earlier key, and every earlier result, unchanged. Compiled as one program (op by
    op, the seed, the split and the unstacking would each lower one).
    """
    return Keys(*jax.random.split(jax.random.key(seed), len(Keys._fields)))


def read_dataset(cfg: Config, model: Model | None = None) -> Dataset:
    """The whole text file or ``"xor"`` dataset ``cfg.data`` names, labels as the model takes them
    (:func:`logreg_jax.route.load_data` reads a ``.npy`` file or generated rows as well)."""
    if cfg.data.path == "xor":
        return xor_dataset(run_keys(cfg.seed).data, cfg.data.xor.m, cfg.data.xor.noise)
    return load_dataset(cfg.data.path, multiclass=(model or get_model(cfg.model)).multiclass)


def split_data(cfg: Config, data: Dataset, model: Model | None = None) -> tuple[Dataset, Dataset | None]:
    """(training rows, held-out rows or None), as ``data.test_fraction`` / ``data.test_path`` ask."""
    multiclass = (model or get_model(cfg.model)).multiclass
    train_rows, test = splits.split(data, cfg.data, run_keys(cfg.seed).split, multiclass=multiclass)
    if test is not None:  # held-out rows must be held out, with labels the model saw in training
        splits.check_held_out(cfg.data, train_rows, test)
        splits.check_test_labels(
            cfg.data, count_classes(np.asarray(train_rows.y), cfg.data.path) if multiclass else 2, test
        )
    return train_rows, test


def n_classes(cfg: Config, y: np.ndarray, model: Model | None = None) -> int:
    """K: 2 for a binary model (whose 0/1 labels :func:`check_rows` checks), else the number of
    classes 0 … K−1 in the training labels (all present, see :func:`count_classes`)."""
    multiclass = (model or get_model(cfg.model)).multiclass
    return count_classes(np.asarray(y), cfg.data.path) if multiclass else 2


def prepare(cfg: Config, data: Dataset, model: Model | None = None) -> tuple[Model, FeatureMap, np.ndarray]:
    """The model for the data's K classes, the feature map fitted on ``data``, and the (m, n) inputs."""
    model = model or get_model(cfg.model)
    k = n_classes(cfg, data.y, model)
    check_rows(data.X, data.y, cfg.data.path, 0, binary=k == 2)
    check_classes(int(np.sum(data.y == 1)), data.y.size, cfg.data.path)
    model = with_classes(model, k)
    feature_map = FeatureMap.fit(
        data.X,
        degree=cfg.features.polynomial_degree,
        standardize=cfg.features.standardize,
        bias=model.bias_column,
        names=data.feature_names,
        dtype=cfg.dtype,
        where=cfg.data.path,
    )
    return model, feature_map, feature_map(np.asarray(data.X, np.float64)).astype(cfg.dtype)


def training_args(cfg: Config, callback=None) -> dict:
    """The keyword arguments of :func:`~logreg_jax.train.train` that ``cfg`` sets (any layout)."""
    return dict(
        optimizer=make_optimizer(cfg.optimizer),
        epochs=cfg.train.epochs,
        tol=cfg.train.tol,
        chunk=cfg.train.log_every,
        learning_rate=cfg.optimizer.learning_rate,
        callback=callback,
    )


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def initial_params(model: Model, seed, n: int, model_cfg):
    """The initial parameters for ``seed`` (an int, or a traced one inside ``vmap``): one compiled
    program for the key split and the draw, which op by op would lower several."""
    return model.init(run_keys(seed).init, n, model_cfg)


def fit(cfg: Config, data: Dataset | None = None, *, model: Model | None = None, callback=None) -> Fit:
    """Trains the configured model on rows in memory.

    Args:
        cfg: the experiment config.
        data: the data to split and train on; when None, what ``cfg.data`` names (a text file or ``"xor"``).
        model: a :class:`Model` to train instead of the one ``cfg.model.name`` selects.
        callback: ``(epochs done, loss, grad norm)`` progress hook, see :func:`train`.

    Raises:
        ConfigError: the config asks for :mod:`logreg_jax.scale` (see :func:`logreg_jax.route.fit_config`).
        DataError, TrainingDiverged: bad data, a non-finite loss (naming the epoch), or a loss
            that ended above its start.
    """
    if data is None and scale_reason(cfg) is not None:
        raise ConfigError(f"{scale_reason(cfg)} asks for the large-data path: train it with lj.fit_config")
    model = model or get_model(cfg.model)
    data, test = split_data(cfg, read_dataset(cfg, model) if data is None else data, model)
    model, feature_map, X = prepare(cfg, data, model)
    y = np.asarray(data.y, cfg.dtype)
    with precision(cfg):
        params = initial_params(model, cfg.seed, X.shape[1], cfg.model)
        sparse = l1_term(model, cfg.loss.l1, X.shape[0], X.dtype)  # loss.l1: the proximal part of the objective
        params, history = train(
            bound_objective(model, X, y, cfg.loss.l2), params, sparse=sparse, **training_args(cfg, callback)
        )
    diagnose.check_divergence(history, cfg)  # finite but ended above its start: an error too
    params = jax.tree_util.tree_map(np.asarray, params)
    return Fit(cfg, data, model, feature_map, params, history, InMemory(X, y), test=test)


def model_inputs(fitted: Fit, X_raw) -> jax.Array:
    """(k, d) raw feature rows → (k, n) model inputs in ``cfg.dtype``, through the stored feature map
    (call it under :func:`precision`)."""
    return jnp.asarray(fitted.feature_map(np.asarray(X_raw, dtype=np.float64)), fitted.cfg.dtype)


@functools.partial(jax.jit, static_argnums=0)
def class_probabilities(model: Model, params, X) -> jax.Array:
    """(k, K) class probabilities of (k, n) model inputs (see :func:`predict_proba`), one compiled
    program per model and shape rather than one per operation."""
    z = model.logits(params, X)
    # σ(−z) for class 0 keeps a tiny 1 − p exact instead of rounding it to 0.
    return jax.nn.softmax(z, axis=1) if z.ndim == 2 else jax.nn.sigmoid(jnp.stack([-z, z], axis=1))


def predict_proba(fitted: Fit, X_raw) -> np.ndarray:
    """The class probabilities of (k, d) raw feature rows, through the stored feature map: (k, K)
    columns P(y = 0), …, P(y = K−1), for binary models too (K = 2: [1 − p, p])."""
    with precision(fitted.cfg):
        X = fitted.feature_map(np.asarray(X_raw, dtype=np.float64)).astype(fitted.cfg.dtype)
        return np.asarray(class_probabilities(fitted.model, fitted.params, X), dtype=np.float64)
