"""Which trainer a config asks for: :func:`logreg_jax.fit.fit` in memory, or :mod:`logreg_jax.scale`.

The scripts and ``lj.fit_config`` call :func:`fit_config`; the core never imports the large-data
machinery, which is loaded here only when a config asks for it (a ``.npy`` file, ``data.synthetic``,
``train.batch_size``, ``distributed.*``) or when binary inputs reach :data:`FEATURE_MAJOR_BYTES`.
"""

from __future__ import annotations

import importlib

import jax
import numpy as np

from logreg_jax import preflight
from logreg_jax.config import Config, reads_a_source, scale_reason
from logreg_jax.data.features import n_inputs
from logreg_jax.data.files import Dataset
from logreg_jax.errors import ConfigError
from logreg_jax.fit import Fit, fit, n_classes, read_dataset
from logreg_jax.models.base import Model
from logreg_jax.models.registry import get_model

# Inputs of at least this many bytes train feature-major (logreg_jax/scale/blocks.py), where a
# linear model's two passes over X stream contiguous memory; below it the (m, n) rows are as
# fast or faster. Measured by benchmarks/layout.py (results in benchmarks/RESULTS.md).
FEATURE_MAJOR_BYTES = 4 << 20


def needs_memory(cfg: Config, model: Model, k: int = 2) -> str | None:
    """What keeps a config off :mod:`logreg_jax.scale`, which trains binary models on every row:
    a model with K scores per sample, K > 2 classes, an L1 penalty or a held-out set (named as a key), else None."""
    for key, asked in (
        (f'model.name = "{cfg.model.name}"', not _one_logit(cfg, model)),
        (f"loss.l1 = {cfg.loss.l1:g}", cfg.loss.l1 > 0),
        (f"{k} classes", k > 2),
        ("data.test_fraction", cfg.data.test_fraction > 0),
        ("data.test_path", bool(cfg.data.test_path)),
    ):
        if asked:
            return key
    return None


def _one_logit(cfg: Config, model: Model) -> bool:
    """Whether the model gives one logit per sample on two classes (softmax keeps two columns)."""
    n = 2 + model.bias_column
    params = jax.eval_shape(lambda: model.init(jax.random.key(0), n, cfg.model))
    return jax.eval_shape(model.logits, params, jax.ShapeDtypeStruct((1, n), np.float32)).ndim == 1


def load_data(cfg: Config) -> Dataset:
    """The whole dataset ``cfg.data`` names, in memory: a text file, ``"xor"``, or (read in full
    through :mod:`logreg_jax.scale`) a ``.npy`` file or synthetic rows."""
    if reads_a_source(cfg):
        source = _scale().open_source(cfg.data)
        return Dataset(*source.read(0, source.m), feature_names=source.feature_names)
    return read_dataset(cfg)


def _scale():
    return importlib.import_module("logreg_jax.scale")


def fit_config(cfg: Config, data: Dataset | None = None, *, model: Model | None = None, callback=None) -> Fit:
    """Checks ``cfg`` against its data (:mod:`logreg_jax.preflight`), then trains it where it asks.

    Args:
        cfg: the experiment config. data: rows to use instead of what ``cfg.data`` names.
        model: a :class:`Model` to train instead of the one ``cfg.model.name`` selects.
        callback: ``(epochs done, loss, grad norm)`` progress hook.

    Raises:
        ConfigError, DataError, TrainingDiverged: as :func:`logreg_jax.fit.fit`, before training
            for everything a config can get wrong.
    """
    spec = model or get_model(cfg.model)
    reason = scale_reason(cfg) if data is None else None
    if reason is not None:
        if (keeps := needs_memory(cfg, spec)) is not None:
            raise ConfigError(
                f"{keeps} needs the data in memory, but {reason} asks for the "
                "large-data path (logreg_jax.scale: binary models on every row)"
            )
        return _scale().fit_at_scale(cfg, model=spec, callback=callback)
    data = read_dataset(cfg, spec) if data is None else data
    k = n_classes(cfg, data.y, spec)
    preflight.check(cfg, spec, *data.X.shape, k, cfg.data.path, data.X)
    n = n_inputs(data.X.shape[1], cfg.features.polynomial_degree, spec.bias_column)
    if data.X.shape[0] * n * np.dtype(cfg.dtype).itemsize >= FEATURE_MAJOR_BYTES and needs_memory(cfg, spec, k) is None:
        return _scale().fit_at_scale(cfg, data, model=spec, callback=callback)
    return fit(cfg, data, model=spec, callback=callback)
