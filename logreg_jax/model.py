"""Models as pairs of pure functions of a parameter pytree, selected by ``model.name``.

Loss, training, metrics and plots only ever call the functions of a :class:`Model`, so a new
model (an MLP, say) plugs in by adding an entry to :func:`get_model`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from logreg_jax import logistic


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


def get_model(name: str) -> Model:
    """The model registered under ``name``."""
    models = {"logistic": LOGISTIC}
    if name not in models:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(models)}")
    return models[name]
