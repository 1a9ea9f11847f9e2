"""Models as pairs of pure functions of a parameter pytree, selected by ``model.name``.

Loss, training, metrics and plots only ever call the functions of a :class:`Model`, so a new
model plugs in by adding an entry to :func:`get_model`: ``logistic``, ``softmax`` and ``mlp`` so far.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from logreg_jax.config import ModelConfig
from logreg_jax.models import logistic, mlp, softmax


def params_as_lists(params, feature_map) -> dict:
    """``{"params": ...}``: every leaf of the parameter pytree as (nested) float lists."""
    del feature_map
    return {"params": jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64).tolist(), params)}


class Model(NamedTuple):
    """A differentiable classifier: binary (one logit per sample) or over K classes (K scores).

    Attributes:
        name: the ``model.name`` that selects it.
        init: ``(key, n_inputs, model_cfg) -> params``, a pytree.
        logits: ``(params, X) -> z``; X is (m, n_inputs); a binary model gives z (m,) with
            P(y = 1) = σ(z), a K-class model z (m, K) with P(y = k) = softmax(z)_k.
        weights: ``params -> pytree`` of the entries the L2 penalty acts on (biases excluded).
        gradient: the hand-derived ``(params, X, y, l2) -> grads`` of the loss, or None.
        bias_column: whether inputs carry a leading column of ones (the model has no bias of its own).
        describe: ``(params, feature_map) -> dict`` of the parameters as ``metrics.json`` shows
            them: by default the pytree as nested lists; logistic regression gives θ, also in raw units.
        logits_fm: optional ``(params, Xt) -> z`` for feature-major inputs Xt (n_inputs, k), the
            layout training streams (:mod:`logreg_jax.scale.blocks`); None uses ``logits(params, Xt.T)``.
        n_classes: K; 2 for binary models, whose logits are (m,) (softmax regression on two
            classes keeps its two columns).
    """

    name: str
    init: Callable[..., Any]
    logits: Callable[[Any, Any], Any]
    weights: Callable[[Any], Any]
    gradient: Callable[..., Any] | None
    bias_column: bool
    describe: Callable[[Any, Any], dict] = params_as_lists
    logits_fm: Callable[[Any, Any], Any] | None = None
    n_classes: int = 2


LOGISTIC = Model(
    name="logistic",
    init=logistic.init,
    logits=logistic.logits,
    weights=logistic.weights,
    gradient=logistic.analytic_gradient,
    bias_column=True,
    describe=logistic.describe,
    logits_fm=logistic.logits_fm,
)


@functools.cache
def _mlp(activation: str, n_classes: int = 2) -> Model:
    # One Model object per activation and K: jitted functions take the Model as a static argument,
    # so an equal-but-new Model (new partials) would recompile on every call. Two classes keep
    # one sigmoid output; K > 2 end in K outputs and a softmax.
    return Model(
        name="mlp",
        init=mlp.init if n_classes == 2 else functools.partial(mlp.init, n_outputs=n_classes),
        logits=functools.partial(mlp.logits, activation=activation),
        weights=mlp.weights,
        gradient=functools.partial(mlp.backprop_gradient, activation=activation),
        bias_column=False,
        n_classes=n_classes,
    )


@functools.cache
def _softmax(n_classes: int) -> Model:
    return Model(
        name="softmax",
        init=functools.partial(softmax.init, n_classes=n_classes),
        logits=softmax.logits,
        weights=softmax.weights,
        gradient=softmax.analytic_gradient,
        bias_column=False,
        n_classes=n_classes,
    )


def get_model(cfg, n_classes: int = 2) -> Model:
    """The model a ``ModelConfig`` selects, or the model registered under a name (its defaults).

    The functions of a model may depend on its config (the MLP's activation); its parameter
    shapes are fixed by ``init``, which receives the config itself, and by ``n_classes`` (K, from
    the training labels; logistic regression is binary only).
    """
    registry = {
        "logistic": lambda cfg: LOGISTIC,
        "mlp": lambda cfg: _mlp(cfg.activation, n_classes),
        "softmax": lambda cfg: _softmax(n_classes),
    }
    name = cfg if isinstance(cfg, str) else cfg.name
    if name not in registry:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(registry)}")
    return registry[name](ModelConfig(name=cfg) if isinstance(cfg, str) else cfg)
