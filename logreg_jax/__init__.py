"""logreg_jax: logistic regression (and beyond) as pure, differentiable JAX functions.

    import logreg_jax as lj
    cfg = lj.load_config("configs/exam_scores.toml")
    fitted = lj.fit(cfg)                      # data → features → model → train (jax.value_and_grad + optax)
    lj.predict_proba(fitted, [[45.0, 85.0]])  # (k, K) class probabilities of raw feature rows

``lj.fit`` trains rows in memory; ``lj.fit_config`` checks a config against its data first and
chooses the large-data path (``lj.scale``) where the config asks for it, as the scripts do.

Every name here loads its module on first use (PEP 562), so ``import logreg_jax`` is free and a
process that needs one wing (the figure painter, :mod:`logreg_jax.runs.painter`, needs matplotlib
only) loads no JAX. Submodules are imported by name (``import logreg_jax.report.inference``), not
reached as attributes of a bare ``import logreg_jax``; ``lj.fit`` and ``lj.train`` are always the
functions, never the modules of the same names. The studies (``lj.studies``) and the large-data machinery (``lj.scale``) are
subpackages, likewise imported on first use.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

# name -> the module that defines it: the one list of the public API
_HOME = {
    "Config": "config",
    "load_config": "config",
    "Dataset": "data.files",
    "load_dataset": "data.files",
    "ConfigError": "errors",
    "DataError": "errors",
    "LogregError": "errors",
    "TrainingDiverged": "errors",
    "FeatureMap": "data.features",
    "add_bias": "data.features",
    "polynomial_features": "data.features",
    "Fit": "fit",
    "fit": "fit",
    "fit_config": "route",
    "load_data": "route",
    "predict_proba": "fit",
    "analytic_gradient": "models.logistic",
    "analytic_hessian": "models.logistic",
    "sigmoid": "models.logistic",
    "autodiff_gradient": "loss",
    "autodiff_hessian": "loss",
    "cross_entropy": "loss",
    "objective": "loss",
    "summarize": "report.metrics",
    "Model": "models.base",
    "get_model": "models.registry",
    "make_optimizer": "optimizers",
    "load_run": "runs.predictor",
    "History": "train",
    "train": "train",
}
__all__ = list(_HOME)

if TYPE_CHECKING:  # what editors and type checkers see; at run time __getattr__ loads each name
    from logreg_jax.config import Config, load_config  # noqa: F401
    from logreg_jax.data.features import FeatureMap, add_bias, polynomial_features  # noqa: F401
    from logreg_jax.data.files import Dataset, load_dataset  # noqa: F401
    from logreg_jax.errors import ConfigError, DataError, LogregError, TrainingDiverged  # noqa: F401
    from logreg_jax.fit import Fit, fit, predict_proba  # noqa: F401
    from logreg_jax.loss import autodiff_gradient, autodiff_hessian, cross_entropy, objective  # noqa: F401
    from logreg_jax.models.base import Model  # noqa: F401
    from logreg_jax.models.logistic import analytic_gradient, analytic_hessian, sigmoid  # noqa: F401
    from logreg_jax.models.registry import get_model  # noqa: F401
    from logreg_jax.optimizers import make_optimizer  # noqa: F401
    from logreg_jax.report.metrics import summarize  # noqa: F401
    from logreg_jax.route import fit_config, load_data  # noqa: F401
    from logreg_jax.runs.predictor import load_run  # noqa: F401
    from logreg_jax.train import History, train  # noqa: F401


def __getattr__(name: str):
    """Loads a public name's module on first use (then the name is an ordinary attribute)."""
    if name in _HOME:
        value = getattr(importlib.import_module(f"logreg_jax.{_HOME[name]}"), name)
    elif name in ("studies", "scale"):
        value = importlib.import_module(f"logreg_jax.{name}")
    else:
        raise AttributeError(f"module 'logreg_jax' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_HOME, "studies", "scale"})


class _Face(types.ModuleType):
    """The package module. Importing a submodule binds it on its package, and two submodules share
    their names with public functions (``logreg_jax.fit``, ``logreg_jax.train``): the functions keep them."""

    def __setattr__(self, name, value):
        if not (name in _HOME and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Face
