"""The MLP: backpropagation by hand equals jax.grad and finite differences; init, config, xor."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_err
from jax.test_util import check_grads

import logreg_jax as lj
from logreg_jax.config import ModelConfig, config_from_dict
from logreg_jax.data.generators import xor_dataset
from logreg_jax.models import mlp
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.models.mlp import ACTIVATIONS


def flat(tree) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in jax.tree_util.tree_leaves(tree)])


def random_network(rng, m, n, hidden, activation, scale=1.0):
    """Random params (not a fresh init: biases nonzero too), inputs and both classes of labels."""
    sizes = [n, *hidden, 1]
    params = [
        {"W": jnp.asarray(scale * rng.normal(size=(a, b))), "b": jnp.asarray(scale * rng.normal(size=b))}
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    X = jnp.asarray(rng.normal(size=(m, n)))
    y = (rng.random(m) < 0.5).astype(np.float64)
    y[:2] = [0.0, 1.0]
    return params, X, jnp.asarray(y), lj.get_model(ModelConfig(name="mlp", hidden=tuple(hidden), activation=activation))


@pytest.mark.parametrize(
    "m,n,hidden,activation",
    [
        (2, 1, [3], "sigmoid"),
        (37, 2, [8], "relu"),
        (64, 5, [6, 4], "tanh"),
        (50, 5, [6, 4], "relu"),
        (120, 3, [7, 5, 3], "sigmoid"),
        (90, 4, [5, 9, 2], "tanh"),
    ],
)
def test_backprop_equals_autodiff_float64(x64, rng, m, n, hidden, activation):
    params, X, y, model = random_network(rng, m, n, hidden, activation)
    for l2 in (0.0, 0.7, 25.0):
        hand = model.gradient(params, X, y, l2)
        auto = jax.grad(lj.objective, argnums=1)(model, params, X, y, l2)
        assert jax.tree_util.tree_structure(hand) == jax.tree_util.tree_structure(params)
        assert all(
            h.dtype == jnp.float64 and h.shape == a.shape
            for h, a in zip(jax.tree_util.tree_leaves(hand), jax.tree_util.tree_leaves(auto))
        )
        assert rel_err(flat(hand), flat(auto)) <= 1e-12
        for g_hand, g_auto in zip(jax.tree_util.tree_leaves(hand), jax.tree_util.tree_leaves(auto)):
            assert np.max(np.abs(np.asarray(g_hand) - np.asarray(g_auto))) <= 1e-12 * max(
                np.max(np.abs(flat(auto))), 1e-300
            )


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("l2", [0.0, 2.0])
def test_backprop_and_autodiff_match_finite_differences(x64, rng, activation, l2):
    params, X, y, model = random_network(rng, 30, 3, [5, 4], activation, scale=0.7)
    loss = lambda p: lj.objective(model, p, X, y, l2)
    # jax's derivatives against central differences (relu is piecewise linear: first order only).
    check_grads(loss, (params,), order=1, modes=("rev",))
    # The hand-written backward pass against our own central differences along random directions.
    grad = flat(model.gradient(params, X, y, l2))
    leaves, treedef = jax.tree_util.tree_flatten(params)
    eps = 1e-6
    for _ in range(5):
        v = [jnp.asarray(rng.normal(size=leaf.shape)) for leaf in leaves]
        shifted = lambda s: jax.tree_util.tree_unflatten(treedef, [p + s * d for p, d in zip(leaves, v)])
        fd = (float(loss(shifted(eps))) - float(loss(shifted(-eps)))) / (2 * eps)
        assert fd == pytest.approx(float(grad @ flat(v)), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("l2", [0.0, 3.0])
def test_no_hidden_layer_is_logistic_regression(x64, rng, l2):
    params, X, y, model = random_network(rng, 40, 4, [], "tanh")
    theta = jnp.concatenate([params[0]["b"], params[0]["W"][:, 0]])  # the bias is θ_0
    Xb = lj.add_bias(X)
    np.testing.assert_allclose(model.logits(params, X), LOGISTIC.logits(theta, Xb), rtol=1e-14)
    assert float(lj.objective(model, params, X, y, l2)) == pytest.approx(
        float(lj.cross_entropy(theta, Xb, y, l2)), rel=1e-14
    )
    grads = model.gradient(params, X, y, l2)
    as_theta = jnp.concatenate([grads[0]["b"], grads[0]["W"][:, 0]])
    assert rel_err(as_theta, lj.analytic_gradient(theta, Xb, y, l2)) <= 1e-13


def test_activations_and_their_derivatives(x64):
    z = jnp.linspace(-6.0, 6.0, 101) + 0.01  # off 0, where relu has no derivative
    for name, (f, f_prime) in mlp.ACTIVATIONS.items():
        np.testing.assert_allclose(f_prime(z), jax.vmap(jax.grad(f))(z), rtol=1e-14, atol=1e-15, err_msg=name)


@pytest.mark.parametrize(
    "activation,std", [("tanh", lambda a, b: np.sqrt(2 / (a + b))), ("relu", lambda a, b: np.sqrt(2 / a))]
)
@pytest.mark.parametrize("init", ["uniform", "normal"])
def test_init_is_glorot_or_he_with_zero_biases(activation, std, init):
    cfg = ModelConfig(name="mlp", hidden=(300, 200), activation=activation, init=init)
    params = mlp.init(jax.random.key(3), 400, cfg)
    with jax.enable_x64(True):  # shapes and dtypes only: no need to compute (and compile) it again
        shapes = jax.eval_shape(lambda key: mlp.init(key, 4, cfg), jax.random.key(3))
        assert all(leaf.dtype == jnp.float64 for leaf in jax.tree_util.tree_leaves(shapes))
    assert [layer["W"].shape for layer in params] == [(400, 300), (300, 200), (200, 1)]
    assert all(np.all(layer["b"] == 0) and layer["b"].dtype == jnp.float32 for layer in params)
    for (a, b), W in [((400, 300), params[0]["W"]), ((300, 200), params[1]["W"])]:
        assert np.std(np.asarray(W)) == pytest.approx(std(a, b), rel=0.03)
    assert np.std(np.asarray(params[2]["W"])) == pytest.approx(np.sqrt(2 / 201), rel=0.15)  # output: Glorot
    again = mlp.init(jax.random.key(3), 400, cfg)
    assert all(
        np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(again))
    )


@pytest.mark.parametrize(
    "raw,message",
    [
        ({"model": {"name": "mlp", "init": "zeros"}}, "model.init = 'zeros': expected uniform or normal for the mlp"),
        (
            {"model": {"name": "mlp", "activation": "softplus"}},
            "model.activation = 'softplus': expected one of sigmoid, tanh, relu",
        ),
        ({"model": {"name": "mlp", "hidden": [8, 0]}}, "model.hidden = [8, 0]: expected a list of integers >= 1"),
        ({"model": {"name": "mlp", "hidden": 8}}, "model.hidden = 8: expected a list"),
        ({"model": {"name": "tree"}}, "model.name = 'tree': expected one of logistic, softmax, mlp"),
        ({"data": {"path": "xor", "xor": {"m": 2}}}, "data.xor.m = 2: expected an integer >= 4"),
        ({"data": {"xor": {"noise": -1.0}}}, "data.xor.noise = -1.0: expected a finite number >= 0"),
    ],
)
def test_bad_model_and_xor_keys(raw, message):
    with pytest.raises(lj.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict(raw, "x.toml")


def test_one_model_object_per_activation():
    # jitted functions take the Model as a static argument: an equal Model must be the same one.
    tanh = lj.get_model(ModelConfig(name="mlp", hidden=(3,)))
    assert lj.get_model(ModelConfig(name="mlp", hidden=(5, 5))) is tanh is lj.get_model(ModelConfig(name="mlp"))
    relu = lj.get_model(ModelConfig(name="mlp", activation="relu"))
    assert relu is not tanh and relu.bias_column is False and lj.get_model(ModelConfig()) is LOGISTIC
    # One hidden unit with z = 1 − 2 + 0.5 = −0.5 at x = (1, 1), then the output 1.5 a.
    params = [
        {"W": jnp.array([[1.0], [-2.0]]), "b": jnp.array([0.5])},
        {"W": jnp.array([[1.5]]), "b": jnp.array([0.0])},
    ]
    X = jnp.array([[1.0, 1.0]])
    assert float(relu.logits(params, X)[0]) == 0.0
    assert float(tanh.logits(params, X)[0]) == pytest.approx(1.5 * np.tanh(-0.5))


def test_xor_is_seeded_balanced_and_labelled_by_the_quadrant():
    a = xor_dataset(jax.random.key(0), 203, 0.4)
    assert np.array_equal(a.X, xor_dataset(jax.random.key(0), 203, 0.4).X)
    assert not np.array_equal(a.X, xor_dataset(jax.random.key(1), 203, 0.4).X)
    assert a.X.shape == (203, 2) and a.X.dtype == np.float64 and set(np.unique(a.y)) == {0.0, 1.0}
    exact = xor_dataset(jax.random.key(0), 203, 0.0)  # no noise: every point is its centre
    centres, counts = np.unique(exact.X, axis=0, return_counts=True)
    assert centres.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]] and sorted(counts) == [50, 51, 51, 51]
    np.testing.assert_array_equal(exact.y, exact.X[:, 0] * exact.X[:, 1] < 0)
    # The noise is spread around the centres with the configured standard deviation.
    assert np.std(a.X - exact.X) == pytest.approx(0.4, rel=0.1)


def test_xor_config_seeds_the_data_from_cfg_seed():
    cfg = lj.load_config("configs/mlp_xor.toml")
    data = lj.load_data(cfg)
    assert data.X.shape == (cfg.data.xor.m, 2)
    assert np.array_equal(data.X, lj.load_data(cfg).X)
    other = lj.load_data(lj.load_config("configs/mlp_xor.toml", ["seed=1"]))
    assert not np.array_equal(data.X, other.X)
