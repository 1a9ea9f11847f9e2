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

from logreg_jax.config import Config
from logreg_jax.data import Dataset, load_dataset
from logreg_jax.errors import ConfigError
from logreg_jax.features import FeatureMap, theta_in_raw_units
from logreg_jax.loss import objective
from logreg_jax.model import Model, get_model
from logreg_jax.synthetic import xor_dataset
from logreg_jax.train import History, make_optimizer, train


def precision(cfg: Config):
    """Context manager under which arrays default to ``cfg.dtype`` (float64 turns on x64)."""
    return jax.enable_x64(cfg.dtype == "float64")


class Fit(NamedTuple):
    """A trained model with everything needed to use and describe it.

    Attributes:
        cfg: the resolved config.
        data: the training :class:`Dataset` (raw features).
        model: the :class:`Model`.
        feature_map: raw features → model inputs, fitted on ``data``.
        params: trained parameter pytree (NumPy leaves, in ``cfg.dtype``).
        history: the training :class:`History`.
    """

    cfg: Config
    data: Dataset
    model: Model
    feature_map: FeatureMap
    params: Any
    history: History


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
    """The dataset ``cfg.data.path`` names: a built-in one (``"xor"``), else a file."""
    if cfg.data.path == "xor":
        return xor_dataset(run_keys(cfg.seed).data, cfg.data.xor.m, cfg.data.xor.noise)
    return load_dataset(cfg.data.path)


def prepare(cfg: Config, data: Dataset) -> tuple[Model, FeatureMap, np.ndarray]:
    """The model, the feature map fitted on ``data``, and the (m, n_inputs) training inputs."""
    model = get_model(cfg.model)
    feature_map = FeatureMap.fit(data.X, degree=cfg.features.polynomial_degree,
                                 standardize=cfg.features.standardize, bias=model.bias_column,
                                 names=data.feature_names)
    return model, feature_map, feature_map(data.X).astype(cfg.dtype)


def initial_params(model: Model, seed, n_inputs: int, model_cfg):
    """The initial parameters for ``seed`` (an int, or a traced one inside ``vmap``)."""
    return model.init(run_keys(seed).init, n_inputs, model_cfg)


def fit(cfg: Config, data: Dataset | None = None, callback=None) -> Fit:
    """Trains the configured model.

    Args:
        cfg: the experiment config.
        data: the training data; :func:`load_data` of ``cfg`` when None.
        callback: ``(epochs done, loss, grad norm)`` progress hook, see :func:`train`.

    Raises:
        DataError, ConfigError, TrainingDiverged: bad data, prediction points that do not fit
            the data, or a non-finite loss (naming the epoch).
    """
    data = load_data(cfg) if data is None else data
    for point in cfg.predict.points:
        if len(point) != data.X.shape[1]:
            raise ConfigError(f"predict.points: {list(point)} has {len(point)} values, but "
                              f"{cfg.data.path} has {data.X.shape[1]} features")
    model, feature_map, X = prepare(cfg, data)
    with precision(cfg):
        params = initial_params(model, cfg.seed, X.shape[1], cfg.model)
        params, history = train(model, params, jnp.asarray(X), jnp.asarray(data.y, X.dtype),
                                optimizer=make_optimizer(cfg.optimizer), epochs=cfg.train.epochs,
                                l2=cfg.loss.l2, tol=cfg.train.tol, chunk=cfg.train.log_every,
                                learning_rate=cfg.optimizer.learning_rate, callback=callback)
        params = jax.tree_util.tree_map(np.asarray, params)
    return Fit(cfg, data, model, feature_map, params, history)


def predict(fitted: Fit, X_raw) -> np.ndarray:
    """P(y = 1) for (k, n_raw) raw feature rows, through the stored feature map: → (k,)."""
    X_raw = np.asarray(X_raw, dtype=np.float64)
    with precision(fitted.cfg):
        z = fitted.model.logits(fitted.params, jnp.asarray(fitted.feature_map(X_raw), fitted.cfg.dtype))
        return np.asarray(jax.nn.sigmoid(z), dtype=np.float64)


def gradient_check(fitted: Fit) -> float | None:
    """max |hand-derived − autodiff| gradient at the trained params (None if no hand gradient)."""
    if fitted.model.gradient is None:
        return None
    _, _, X = prepare(fitted.cfg, fitted.data)
    with precision(fitted.cfg):
        args = (fitted.params, jnp.asarray(X), jnp.asarray(fitted.data.y, X.dtype), fitted.cfg.loss.l2)
        auto = jax.grad(objective, argnums=1)(fitted.model, *args)
        hand = fitted.model.gradient(*args)
        diffs = jax.tree_util.tree_map(lambda a, b: jnp.max(jnp.abs(a - b)), hand, auto)
        return float(max(jax.tree_util.tree_leaves(diffs)))


def summarize(fitted: Fit) -> dict:
    """The run's ``metrics.json``: loss, accuracy, parameters, predictions, gradient check."""
    probs = predict(fitted, fitted.data.X)
    points = [list(p) for p in fitted.cfg.predict.points]
    metrics = {
        "final_loss": fitted.history.final_loss,
        "final_grad_norm": fitted.history.final_grad_norm,
        "train_accuracy": float(np.mean((probs >= 0.5) == (fitted.data.y == 1))),
        "epochs": int(fitted.history.loss.size),  # iterations actually run (fewer if converged)
        "converged": fitted.history.converged,  # stopped by train.tol
        "n_samples": int(fitted.data.y.size),
    }
    if fitted.model.name == "logistic":
        metrics["theta"] = np.asarray(fitted.params, np.float64).tolist()
        metrics["theta_original_units"] = theta_in_raw_units(
            fitted.params, fitted.feature_map.standardizer).tolist()
    else:
        metrics["params"] = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64).tolist(), fitted.params)
    if points:
        metrics["predictions"] = [{"x": p, "probability": float(q)} for p, q in zip(points, predict(fitted, points))]
    metrics["gradient_check"] = gradient_check(fitted)
    return metrics
