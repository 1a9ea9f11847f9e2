"""The :class:`Model` type: a classifier as pure functions of a parameter pytree, and what it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np


def params_as_lists(params, feature_map) -> dict:
    """``{"params": ...}``: every leaf of the parameter pytree as (nested) float lists."""
    del feature_map
    return {"params": jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64).tolist(), params)}


class Model(NamedTuple):
    """A differentiable classifier: binary (one logit per sample) or over K classes (K scores).

    Loss, training, metrics, plots and run folders only ever call these functions and read these
    flags, so a model written in a user's own file trains like the built-in ones (docs/models.md).

    Attributes:
        name: the ``model.name`` that selects it (``"module:attr"`` for a model from outside).
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
        multiclass: whether it trains on class numbers 0 … K−1 (K read from the training labels,
            see ``for_classes``); False: binary 0/1 labels only.
        convex: whether the loss is convex in the parameters (logits linear in them): one optimum
            (up to ``gauge``), so the L1 path, influence functions and hypergradients apply.
        inference: whether the coefficient table (standard errors, tests, the separation check of
            :mod:`logreg_jax.report.inference`) applies: a logistic GLM, logits X θ.
        config_problem: ``model_cfg -> (key, expected) | None``: a problem with the ``[model]`` keys this
            model reads (the MLP's ``hidden``, ``activation``, ``init``), found when the config loads.
        for_classes: ``K -> Model``, the same model for K classes (multiclass models only).
        gauge: ``params -> scalar``, zero at one of several parameters with the same probabilities
            (softmax's unpenalized biases: adding c to every b_k changes nothing), added where a
            unique optimum is needed (:mod:`logreg_jax.hypergrad`); None when the optimum is unique.
        memory_bytes: ``(cfg, m, n_inputs, K) -> (bytes, key)``: the memory one full-batch step
            needs beyond the data, and the config key that sets it (named when it is too much),
            checked before training (:mod:`logreg_jax.preflight`); None for models whose parameters
            are the size of one row (linear models).
    """

    name: str
    init: Callable[..., Any]
    logits: Callable[[Any, Any], Any]
    weights: Callable[[Any], Any]
    gradient: Callable[..., Any] | None = None
    bias_column: bool = True
    describe: Callable[[Any, Any], dict] = params_as_lists
    logits_fm: Callable[[Any, Any], Any] | None = None
    n_classes: int = 2
    multiclass: bool = False
    convex: bool = False
    inference: bool = False
    config_problem: Callable[[Any], tuple[str, str] | None] | None = None
    for_classes: Callable[[int], Model] | None = None
    gauge: Callable[[Any], Any] | None = None
    memory_bytes: Callable[[Any, int, int, int], tuple[float, str]] | None = None
