"""logreg_jax: logistic regression (and beyond) as pure, differentiable JAX functions.

    import logreg_jax as lj
    cfg = lj.load_config("configs/exam_scores.toml")
    fitted = lj.fit(cfg)                      # data → features → model → train (jax.value_and_grad + optax)
    lj.predict_proba(fitted, [[45.0, 85.0]])  # (k, K) class probabilities of raw feature rows

``lj.fit`` trains rows in memory; ``lj.fit_config`` checks a config against its data first and
chooses the large-data path (``lj.scale``) where the config asks for it, as the scripts do.

The studies (``lj.studies``) and the large-data machinery (``lj.scale``) are subpackages,
imported on first use.
"""

import importlib

from logreg_jax.config import Config, load_config
from logreg_jax.data.features import FeatureMap, add_bias, polynomial_features
from logreg_jax.data.files import Dataset, load_dataset
from logreg_jax.errors import ConfigError, DataError, LogregError, TrainingDiverged
from logreg_jax.fit import Fit, fit, predict_proba
from logreg_jax.loss import autodiff_gradient, autodiff_hessian, cross_entropy, objective
from logreg_jax.models.base import Model
from logreg_jax.models.logistic import analytic_gradient, analytic_hessian, sigmoid
from logreg_jax.models.registry import get_model
from logreg_jax.optimizers import make_optimizer
from logreg_jax.report.metrics import summarize
from logreg_jax.route import fit_config, load_data
from logreg_jax.runs.predictor import load_run
from logreg_jax.train import History, train

__all__ = [
    "Config",
    "load_config",
    "Dataset",
    "load_dataset",
    "ConfigError",
    "DataError",
    "LogregError",
    "TrainingDiverged",
    "FeatureMap",
    "add_bias",
    "polynomial_features",
    "Fit",
    "fit",
    "fit_config",
    "load_data",
    "predict_proba",
    "analytic_gradient",
    "analytic_hessian",
    "sigmoid",
    "autodiff_gradient",
    "autodiff_hessian",
    "cross_entropy",
    "objective",
    "summarize",
    "Model",
    "get_model",
    "make_optimizer",
    "load_run",
    "History",
    "train",
]


def __getattr__(name: str):
    """``lj.studies`` and ``lj.scale`` load on first use, so training in memory never imports them."""
    if name in ("studies", "scale"):
        return importlib.import_module(f"logreg_jax.{name}")
    raise AttributeError(f"module 'logreg_jax' has no attribute {name!r}")
