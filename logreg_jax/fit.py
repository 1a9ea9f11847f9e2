"""From a :class:`~logreg_jax.config.Config` to a trained model: the experiment minus file output.

:func:`fit` loads the data, fits the feature map on them, splits the seed into named keys,
initialises the model and trains it (:func:`logreg_jax.train.train`) on (m, n) rows in memory.
Data that ask for more (a ``.npy`` file, ``data.synthetic``, ``train.batch_size``,
``distributed.*``, or inputs of at least :data:`FEATURE_MAJOR_BYTES`) are handed to
:mod:`logreg_jax.scale`, which is imported only then.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.config import Config
from logreg_jax.data import splits as holdout
from logreg_jax.data.features import FeatureMap, n_inputs
from logreg_jax.data.files import (
    Dataset,
    check_classes,
    check_rows,
    check_test_labels,
    count_classes,
    load_dataset,
    xor_dataset,
)
from logreg_jax.errors import ConfigError
from logreg_jax.models.registry import Model, get_model
from logreg_jax.optimizers import make_optimizer
from logreg_jax.report import diagnose
from logreg_jax.train import History, train

# Inputs of at least this many bytes train feature-major (logreg_jax/scale/blocks.py), where a
# linear model's two passes over X stream contiguous memory; below it the (m, n) rows are as
# fast or faster. Measured by benchmarks/layout.py (results in benchmarks/RESULTS.md).
FEATURE_MAJOR_BYTES = 4 << 20


def precision(cfg: Config):
    """Context manager under which arrays default to ``cfg.dtype`` (float64 turns on x64)."""
    return jax.enable_x64(cfg.dtype == "float64")


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
        inputs: the training inputs the metrics read: ((m, n) X, (m,) y) rows, or the
            feature-major :class:`~logreg_jax.scale.blocks.Blocks`, or None after minibatches.
        mesh: the data-parallel mesh the inputs are sharded over, or None.
        test: the held-out :class:`Dataset` (raw features), or None without ``data.test_*``.
    """

    cfg: Config
    data: Any
    model: Model
    feature_map: FeatureMap
    params: Any
    history: History
    inputs: Any = None
    mesh: Any = None
    test: Dataset | None = None


class Keys(NamedTuple):
    """The named PRNG keys of a run, each owned by one consumer."""

    init: jax.Array
    shuffle: jax.Array
    data: jax.Array  # built-in synthetic datasets (data.path = "xor")
    split: jax.Array  # the held-out rows of data.test_fraction
    bootstrap: jax.Array  # inference.bootstrap resamples


def run_keys(seed) -> Keys:
    """The one split of ``jax.random.key(seed)`` into named keys (seed an int, or traced in a sweep).

    A key split into n takes the same first keys for any n, so adding a consumer at the end
    leaves every earlier key, and every earlier result, unchanged.
    """
    return Keys(*jax.random.split(jax.random.key(seed), len(Keys._fields)))


def scale_reason(cfg: Config) -> str | None:
    """Which config key asks for :mod:`logreg_jax.scale`, or None for the in-memory path."""
    if cfg.data.synthetic.m > 0:
        return "data.synthetic"
    if str(cfg.data.path).endswith(".npy"):
        return "a .npy data file"
    if cfg.train.batch_size is not None:
        return "train.batch_size"
    if cfg.distributed.data_parallel or cfg.distributed.num_processes > 1:
        return "distributed"
    return None


def reads_a_source(cfg: Config) -> bool:
    """Whether ``cfg.data`` names rows that :mod:`logreg_jax.scale` reads (a ``.npy`` file or
    generated rows) rather than a text file or ``"xor"``."""
    return cfg.data.synthetic.m > 0 or str(cfg.data.path).endswith(".npy")


def data_name(data_cfg) -> str:
    """What a ``DataConfig`` reads, for progress lines (the name a row source gets)."""
    syn = data_cfg.synthetic
    return f"synthetic(m={syn.m}, d={syn.d}, seed={syn.seed})" if syn.m > 0 else str(data_cfg.path)


def load_data(cfg: Config) -> Dataset:
    """The whole dataset ``cfg.data`` names, in memory: a text file, ``"xor"``, or (read in full
    through :mod:`logreg_jax.scale`) a ``.npy`` file or synthetic rows."""
    if reads_a_source(cfg):
        from logreg_jax.scale import open_source

        source = open_source(cfg.data)
        return Dataset(*source.read(0, source.m), feature_names=source.feature_names)
    if cfg.data.path == "xor":
        return xor_dataset(run_keys(cfg.seed).data, cfg.data.xor.m, cfg.data.xor.noise)
    return load_dataset(cfg.data.path, multiclass=cfg.model.name != "logistic")


def split_data(cfg: Config, data: Dataset) -> tuple[Dataset, Dataset | None]:
    """(training rows, held-out rows or None), as ``data.test_fraction`` / ``data.test_path`` ask."""
    return holdout.split(data, cfg.data, run_keys(cfg.seed).split, multiclass=cfg.model.name != "logistic")


def n_classes(cfg: Config, y: np.ndarray) -> int:
    """K: 2 for logistic regression (whose 0/1 labels :func:`check_rows` checks), else the number of
    classes 0 … K−1 in the training labels (all present, see :func:`count_classes`)."""
    return 2 if cfg.model.name == "logistic" else count_classes(np.asarray(y), cfg.data.path)


def needs_memory(cfg: Config, k: int = 2) -> str | None:
    """What keeps a config off :mod:`logreg_jax.scale`, which trains binary models on every row:
    softmax, K > 2 classes or a held-out set (named as a key), else None."""
    for key, asked in (
        ('model.name = "softmax"', cfg.model.name == "softmax"),
        (f"{k} classes", k > 2),
        ("data.test_fraction", cfg.data.test_fraction > 0),
        ("data.test_path", bool(cfg.data.test_path)),
    ):
        if asked:
            return key
    return None


def check_plot_grid(cfg: Config, X_raw: np.ndarray) -> None:
    """``plot.step`` must give a grid that fits the data's two features (checked before training)."""
    problem = cfg.plot.grid_problem(X_raw) if X_raw.shape[1] == 2 else None
    if problem is not None:
        raise ConfigError(f"plot.step = {cfg.plot.step:g}: expected {problem}")


def check_points(cfg: Config, d: int, name: str) -> None:
    """``predict.points`` must have one value per raw feature of the data."""
    for point in cfg.predict.points:
        if len(point) != d:
            raise ConfigError(f"predict.points: {list(point)} has {len(point)} values, but {name} has {d} features")


def prepare(cfg: Config, data: Dataset) -> tuple[Model, FeatureMap, np.ndarray]:
    """The model, the feature map fitted on ``data``, and the (m, n_inputs) training inputs."""
    k = n_classes(cfg, data.y)
    check_rows(data.X, data.y, cfg.data.path, 0, binary=k == 2)
    check_classes(int(np.sum(data.y == 1)), data.y.size, cfg.data.path)
    model = get_model(cfg.model, k)
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
        l2=cfg.loss.l2,
        tol=cfg.train.tol,
        **({"l1": cfg.loss.l1} if cfg.loss.l1 else {}),  # issue 21 hook
        chunk=cfg.train.log_every,
        learning_rate=cfg.optimizer.learning_rate,
        callback=callback,
    )


def initial_params(model: Model, seed, n: int, model_cfg):
    """The initial parameters for ``seed`` (an int, or a traced one inside ``vmap``)."""
    return model.init(run_keys(seed).init, n, model_cfg)


def fit(cfg: Config, data: Dataset | None = None, callback=None) -> Fit:
    """Trains the configured model.

    Args:
        cfg: the experiment config.
        data: the training data; when None, what ``cfg.data`` names (a text or ``.npy`` file,
            synthetic rows, or the built-in ``"xor"``).
        callback: ``(epochs done, loss, grad norm)`` progress hook, see :func:`train`.

    Raises:
        DataError, ConfigError, TrainingDiverged: bad data, prediction points that do not fit
            the data, a non-finite loss (naming the epoch), or a full-batch loss that ended
            above its start.
    """
    if cfg.loss.l1 and data is None and scale_reason(cfg) is not None:  # issue 21 hook
        raise ConfigError(f"loss.l1 = {cfg.loss.l1:g} needs the data in memory, but {scale_reason(cfg)} asks for scale")
    if data is None and scale_reason(cfg) is not None:
        if needs_memory(cfg) is not None:
            raise ConfigError(
                f"{needs_memory(cfg)} needs the data in memory, but {scale_reason(cfg)} asks for the "
                "large-data path (logreg_jax.scale: binary models on every row)"
            )
        from logreg_jax import scale

        return scale.fit_at_scale(cfg, callback=callback)
    data, test = split_data(cfg, load_data(cfg) if data is None else data)
    check_points(cfg, data.X.shape[1], cfg.data.path)
    check_plot_grid(cfg, data.X)
    k = n_classes(cfg, data.y)
    n = n_inputs(data.X.shape[1], cfg.features.polynomial_degree, get_model(cfg.model, k).bias_column)
    if (
        data.X.shape[0] * n * np.dtype(cfg.dtype).itemsize >= FEATURE_MAJOR_BYTES
        and needs_memory(cfg, k) is None
        and not cfg.loss.l1
    ):
        from logreg_jax import scale

        return scale.fit_at_scale(cfg, data, callback=callback)
    model, feature_map, X = prepare(cfg, data)
    if test is not None:
        check_test_labels(test.y, model.n_classes, cfg.data.test_path or cfg.data.path)
    with precision(cfg):
        params = initial_params(model, cfg.seed, n, cfg.model)
        params, history = train(model, params, X, data.y, **training_args(cfg, callback))
    params = jax.tree_util.tree_map(np.asarray, params)
    diagnose.check_divergence(history, cfg)  # finite but ended above its start: an error too
    return Fit(cfg, data, model, feature_map, params, history, (X, np.asarray(data.y, cfg.dtype)), test=test)


def model_inputs(fitted: Fit, X_raw) -> jax.Array:
    """(k, d) raw feature rows → (k, n) model inputs in ``cfg.dtype``, through the stored feature map
    (call it under :func:`precision`)."""
    return jnp.asarray(fitted.feature_map(np.asarray(X_raw, dtype=np.float64)), fitted.cfg.dtype)


def predict_proba(fitted: Fit, X_raw) -> np.ndarray:
    """P(y = 1) for (k, d) raw feature rows, through the stored feature map: → (k,); for a K-class
    model the probabilities of every class, (k, K)."""
    with precision(fitted.cfg):
        z = fitted.model.logits(fitted.params, model_inputs(fitted, X_raw))
        p = jax.nn.softmax(z, axis=1) if z.ndim == 2 else jax.nn.sigmoid(z)
        return np.asarray(p, dtype=np.float64)
