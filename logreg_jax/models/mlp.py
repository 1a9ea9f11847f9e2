"""A multi-layer perceptron: logistic regression's neuron, stacked, with backpropagation by hand.

Parameters are a list of layers, each ``{"W": (n_in, n_out), "b": (n_out,)}``; the hidden layers
apply an activation f, the last layer has one output, the logit z_L, and P(y = 1 | x) = σ(z_L);
on K > 2 classes it has K outputs and P(y = k | x) = softmax(z_L)_k.
With no hidden layer the network is exactly logistic regression (W is θ_1…θ_n, b is θ_0), so its
inputs carry no bias column: every layer has a bias of its own.

The backward pass :func:`backprop_gradient` is the chain rule written out, layer by layer, for
all m samples at once (see its docstring); the tests compare it with ``jax.grad`` of the loss.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.models.base import Model
from logreg_jax.models.logistic import sigmoid, sigmoid_derivative
from logreg_jax.models.softmax import one_hot


def tanh(z):
    """tanh(z)."""
    return jnp.tanh(z)


def tanh_derivative(z):
    """tanh'(z) = 1 − tanh²(z)."""
    t = jnp.tanh(z)
    return 1 - t * t


def relu(z):
    """max(z, 0)."""
    return jnp.maximum(z, 0)


def relu_derivative(z):
    """1 for z > 0, else 0 (at z = 0 the same choice ``jax.grad`` of ``jax.nn.relu`` makes)."""
    return (z > 0).astype(z.dtype)


# name → (f, f'): each activation with its derivative, for the forward and the backward pass.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def init(key, n_inputs: int, cfg, *, n_outputs: int = 1) -> list[dict]:
    """Random weights scaled to each layer's fan-in and fan-out, zero biases.

    Hidden layers with tanh or sigmoid use Glorot/Xavier scaling (Var W = 2 / (n_in + n_out)),
    with relu He scaling (Var W = 2 / n_in); the output layer, which feeds σ in the loss, uses
    Glorot. ``cfg.init`` picks the distribution with that variance: ``"uniform"`` (uniform on
    ±√(3 Var)) or ``"normal"`` (truncated normal). ``"zeros"`` is rejected: with equal weights
    every hidden unit gets the same gradient and they never become different.

    Args:
        key: a PRNG key; layer l draws from the l-th of its splits.
        n_inputs: number of input columns (no bias column).
        cfg: a ``ModelConfig`` with ``hidden`` (units per hidden layer, possibly empty),
            ``activation`` and ``init``.
        n_outputs: 1 (a binary classifier's logit) or K (the scores of K classes, for a softmax).

    Returns:
        A list of ``len(cfg.hidden) + 1`` layers ``{"W": (n_in, n_out), "b": (n_out,)}``.
    """
    _activation(cfg.activation)
    if cfg.init not in ("uniform", "normal"):
        raise ValueError(
            f"the mlp needs a random init (uniform or normal), got {cfg.init!r}: "
            "all-zero weights give every hidden unit the same gradient"
        )
    inits = jax.nn.initializers
    glorot = inits.glorot_uniform if cfg.init == "uniform" else inits.glorot_normal
    he = inits.he_uniform if cfg.init == "uniform" else inits.he_normal
    sizes = [n_inputs, *cfg.hidden, n_outputs]
    keys = jax.random.split(key, len(sizes) - 1)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = l < len(sizes) - 2
        scheme = he if hidden and cfg.activation == "relu" else glorot
        layers.append({"W": scheme()(keys[l], (n_in, n_out)), "b": jnp.zeros((n_out,))})
    return layers


def forward(params, X, activation: str = "tanh"):
    """The forward pass, keeping what the backward pass needs.

    Returns:
        (zs, activations): zs[l] = a_{l−1} W_l + b_l, shape (m, n_l), for every layer l;
        activations[l] = the input of layer l, a_{l−1}: X itself, then f(z) of each hidden layer.
    """
    f, _ = _activation(activation)
    a, zs, activations = X, [], []
    for l, layer in enumerate(params):
        activations.append(a)
        z = a @ layer["W"] + layer["b"]
        zs.append(z)
        if l < len(params) - 1:
            a = f(z)
    return zs, activations


def logits(params, X, activation: str = "tanh"):
    """z_L for every sample: (m, n_inputs) → (m,) with one output, (m, K) with K outputs."""
    zs, _ = forward(params, X, activation)
    return zs[-1][:, 0] if zs[-1].shape[1] == 1 else zs[-1]


def weights(params):
    """The entries the L2 penalty acts on: every W; the biases are left alone."""
    return [layer["W"] for layer in params]


@functools.partial(jax.jit, static_argnames="activation")
def backprop_gradient(params, X, y, l2=0.0, *, activation: str = "tanh"):
    """The hand-derived gradient of the mean cross-entropy plus L2 penalty, by backpropagation.

    With z_l = a_{l−1} W_l + b_l, a_l = f(z_l), a_0 = X, and C = mean cross-entropy of σ(z_L):

        δ_L = σ(z_L) − y                       (m, 1): dC/dz_L times m, as for logistic regression
              (softmax(z_L) − Y                (m, K) with K outputs, Y the one-hot labels)
        ∇W_l = a_{l−1}ᵀ δ_l / m + (l2/m) W_l   (n_{l−1}, n_l)
        ∇b_l = mean over samples of δ_l         (n_l,)
        δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(z_{l−1})      (m, n_{l−1}): the chain rule through a_{l−1} = f(z_{l−1})

    Args:
        params: the layers, as returned by :func:`init`.
        X: (m, n_inputs) inputs.
        y: (m,) labels in {0, 1}, or class numbers 0 … K−1 for a network with K outputs.
        l2: penalty strength λ ≥ 0; the penalty (λ / 2m) Σ ‖W_l‖² leaves biases alone.
        activation: the hidden layers' activation.

    Returns:
        Gradients with the structure and dtype of ``params``.
    """
    _, f_prime = _activation(activation)
    m = X.shape[0]
    zs, activations = forward(params, X, activation)
    z = zs[-1]
    if z.shape[1] == 1:
        delta = sigmoid(z) - y.astype(X.dtype)[:, None]
    else:  # the categorical cross-entropy's dC/dz, times m: see logreg_jax.models.softmax
        delta = jax.nn.softmax(z, axis=1) - one_hot(y, z.shape[1], X.dtype)
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        W = params[l]["W"]
        grads[l] = {"W": activations[l].T @ delta / m + (l2 / m) * W, "b": jnp.mean(delta, axis=0)}
        if l > 0:
            delta = (delta @ W.T) * f_prime(zs[l - 1])
    return grads


def config_problem(cfg) -> tuple[str, str] | None:
    """The problem with the MLP's ``[model]`` keys (``init``, ``hidden``, ``activation``), or None."""
    if cfg.init == "zeros":
        return "init", (
            "uniform or normal for the mlp (with all-zero weights every hidden unit gets the "
            "same gradient, so they never become different)"
        )
    if not all(h >= 1 for h in cfg.hidden):
        return "hidden", "a list of integers >= 1 (units per layer)"
    if cfg.activation not in ACTIVATIONS:
        return "activation", f"one of {', '.join(ACTIVATIONS)}"
    return None


def memory_bytes(cfg, m: int, n: int, k: int) -> tuple[float, str]:
    """Memory of one full-batch MLP step: the parameters with their gradient and optimizer state
    (4 copies), and the (m, width) activations of every layer kept for the backward pass (2 copies);
    ``model.hidden`` sets it."""
    widths = [n, *cfg.model.hidden, 1 if k == 2 else k]
    params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return (4 * params + 2 * m * sum(widths)) * np.dtype(cfg.dtype).itemsize, "model.hidden"


@functools.cache
def _model(activation: str, n_classes: int) -> Model:
    # One Model object per activation and K: jitted functions take the Model as a static argument,
    # so an equal-but-new Model (new partials) would recompile on every call. Two classes keep
    # one sigmoid output; K > 2 end in K outputs and a softmax.
    return Model(
        name="mlp",
        init=init if n_classes == 2 else functools.partial(init, n_outputs=n_classes),
        logits=functools.partial(logits, activation=activation),
        weights=weights,
        gradient=functools.partial(backprop_gradient, activation=activation),
        bias_column=False,
        n_classes=n_classes,
        multiclass=True,
        config_problem=config_problem,
        memory_bytes=memory_bytes,
        for_classes=functools.partial(_model, activation),
    )


def model(cfg) -> Model:
    """The MLP with the config's activation (two classes; ``for_classes`` gives K)."""
    return _model(cfg.activation, 2)
