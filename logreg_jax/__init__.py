"""logreg_jax: logistic regression (and beyond) as pure, differentiable JAX functions.

    import logreg_jax as lj
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias(lj.Standardizer.fit(data.X)(data.X))
    lj.cross_entropy(theta, X, data.y), lj.analytic_gradient(theta, X, data.y)
"""

from logreg_jax.config import Config, config_from_dict, load_config
from logreg_jax.cv import CVConfig, cross_validate, fit_and_score, stratified_kfold
from logreg_jax.data import Dataset, load_dataset
from logreg_jax.errors import ConfigError, DataError, LogregError, TrainingDiverged
from logreg_jax.experiment import Fit, accuracy_on, fit, load_data, precision, predict
from logreg_jax.metrics import gradient_check, summarize, train_accuracy
from logreg_jax.features import FeatureMap, Standardizer, add_bias, polynomial_features, theta_in_raw_units
from logreg_jax.logistic import (analytic_gradient, analytic_hessian, analytic_hvp, loop_gradient, predict_proba,
                                 sigmoid, sigmoid_derivative)
from logreg_jax.loss import (accuracy, autodiff_gradient, autodiff_hessian, autodiff_hvp, binary_cross_entropy, cross_entropy,
                             l2_penalty, objective)
from logreg_jax.mlp import backprop_gradient
from logreg_jax.model import LOGISTIC, Model, get_model
from logreg_jax.regularization import LambdaResult, best_lambda, lambda_sweep
from logreg_jax.newton import newton, scale_by_newton
from logreg_jax.sweep import SweepConfig, SweepResult, best_setting, run_sweep
from logreg_jax.convergence import Race, optimum, race
from logreg_jax.synthetic import xor_dataset
from logreg_jax.optimizers import make_optimizer, optimizer_from
from logreg_jax.train import History, run_epochs, train
from logreg_jax.blocks import Blocks
from logreg_jax.sources import NpySource, SyntheticSource, open_source
from logreg_jax.pipeline import build_blocks, data_mesh, fit_feature_map
from logreg_jax.minibatch import train_minibatch
from logreg_jax.predictor import load_run

__all__ = [
    "Config", "config_from_dict", "load_config",
    "CVConfig", "cross_validate", "fit_and_score", "stratified_kfold",
    "Dataset", "load_dataset",
    "ConfigError", "DataError", "LogregError", "TrainingDiverged",
    "Fit", "accuracy_on", "fit", "load_data", "precision", "predict",
    "gradient_check", "summarize", "train_accuracy",
    "FeatureMap", "Standardizer", "add_bias", "polynomial_features", "theta_in_raw_units",
    "analytic_gradient", "analytic_hessian", "analytic_hvp", "loop_gradient", "predict_proba", "sigmoid",
    "sigmoid_derivative",
    "accuracy", "autodiff_gradient", "autodiff_hessian", "autodiff_hvp", "binary_cross_entropy", "cross_entropy",
    "l2_penalty", "objective",
    "backprop_gradient",
    "LOGISTIC", "Model", "get_model", "xor_dataset",
    "LambdaResult", "best_lambda", "lambda_sweep",
    "newton", "scale_by_newton",
    "SweepConfig", "SweepResult", "best_setting", "run_sweep",
    "Race", "optimum", "race",
    "History", "make_optimizer", "optimizer_from", "run_epochs", "train",
    "Blocks", "NpySource", "SyntheticSource", "open_source",
    "build_blocks", "data_mesh", "fit_feature_map", "train_minibatch",
    "load_run",
]
