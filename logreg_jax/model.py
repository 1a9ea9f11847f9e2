"""Models as pairs of pure functions of a parameter pytree, selected by ``model.name``.

Loss, training, metrics and plots only ever call the functions of a :class:`Model`, so a new
model plugs in by adding an entry to :func:`get_model`: ``logistic`` and ``mlp`` so far.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

from logreg_jax import logistic, mlp
from logreg_jax.config import MODELS, ModelConfig


class Model(NamedTuple):
    """A differentiable binary classifier.

    Attributes:
        name: the ``model.name`` that selects it.
        init: ``(key, n_inputs, model_cfg) -> params``, a pytree.
        logits: ``(params, X) -> z``; X is (m, n_inputs), z is (m,), P(y = 1) = σ(z).
        weights: ``params -> pytree`` of the entries the L2 penalty acts on (biases excluded).
        gradient: the hand-derived ``(params, X, y, l2) -> grads`` of the loss, or None.
        bias_column: whether inputs carry a leading column of ones (the model has no bias of its own).
        logits_fm: optional ``(params, Xt) -> z`` for feature-major inputs Xt (n_inputs, k), the
            layout training streams (:mod:`logreg_jax.blocks`); None uses ``logits(params, Xt.T)``.
    """

    name: str
    init: Callable[..., Any]
    logits: Callable[[Any, Any], Any]
    weights: Callable[[Any], Any]
    gradient: Callable[..., Any] | None
    bias_column: bool
    logits_fm: Callable[[Any, Any], Any] | None = None


LOGISTIC = Model(
    name="logistic",
    init=logistic.init,
    logits=logistic.logits,
    weights=logistic.weights,
    gradient=logistic.analytic_gradient,
    bias_column=True,
    logits_fm=logistic.logits_fm,
)


@functools.cache
def _mlp(activation: str) -> Model:
    # One Model object per activation: jitted functions take the Model as a static argument, so
    # an equal-but-new Model (new partials) would recompile on every call.
    return Model(
        name="mlp",
        init=mlp.init,
        logits=functools.partial(mlp.logits, activation=activation),
        weights=mlp.weights,
        gradient=functools.partial(mlp.backprop_gradient, activation=activation),
        bias_column=False,
    )


def get_model(cfg) -> Model:
    """The model a ``ModelConfig`` selects, or the model registered under a name (its defaults).

    The functions of a model may depend on its config (the MLP's activation); its parameter
    shapes are fixed by ``init``, which receives the config itself.
    """
    if isinstance(cfg, str):
        if cfg not in MODELS:
            raise ValueError(f"unknown model {cfg!r}; expected one of {', '.join(MODELS)}")
        cfg = ModelConfig(name=cfg)
    if cfg.name == "mlp":
        return _mlp(cfg.activation)
    return LOGISTIC
