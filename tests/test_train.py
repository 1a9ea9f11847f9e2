"""Training: optax optimizers in a compiled scan, the divergence guard, determinism."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference
from conftest import programs_lowered

import logreg_jax as lj
from logreg_jax.config import config_from_dict
from logreg_jax.data.features import Standardizer
from logreg_jax.fit import initial_params, prepare, run_keys
from logreg_jax.loss import bound_objective
from logreg_jax.models.logistic import MODEL as LOGISTIC
from logreg_jax.optimizers import optimizer_from


def exam_config(**sections):
    raw = {"train": {"epochs": 60, "log_every": 20}}
    for key, value in sections.items():
        raw.setdefault(key, {}).update(value)
    return config_from_dict(raw)


def test_sgd_is_the_tutorials_gradient_descent(x64):
    """One optax sgd epoch equals θ − η (1/m) Xᵀ(σ(Xθ) − y), computed in NumPy."""
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias(Standardizer.fit(data.X)(data.X))
    theta0 = jnp.asarray([0.2, 0.5, 0.7])
    expected = np.asarray(theta0)
    for _ in range(3):
        expected = expected - 1.0 * reference.gradient(expected, X, data.y)
    objective = bound_objective(LOGISTIC, X, data.y)
    params, history = lj.train(objective, theta0, optimizer=lj.make_optimizer(lj.Config().optimizer), epochs=3, chunk=2)
    np.testing.assert_allclose(params, expected, rtol=1e-13)
    assert history.loss.shape == (3,) and history.grad_norm.shape == (3,)
    assert history.loss[0] == pytest.approx(reference.loss(theta0, X, data.y), rel=1e-13)
    assert history.final_loss == pytest.approx(reference.loss(expected, X, data.y), rel=1e-13)


@pytest.mark.parametrize("name,lr", [("sgd", 1.0), ("momentum", 0.3), ("adam", 0.1)])
def test_every_optimizer_lowers_the_loss(name, lr):
    fitted = lj.fit(exam_config(optimizer={"name": name, "learning_rate": lr}))
    assert fitted.history.final_loss < fitted.history.loss[0] * 0.5


def test_gradient_descent_lowers_the_loss_every_epoch():
    """On a convex loss with a step below 2 / L (standardized exam scores, η = 1), every step descends."""
    assert np.all(np.diff(lj.fit(exam_config()).history.loss) < 0)


def test_momentum_and_nesterov_are_the_hand_written_updates(x64):
    """Three steps against NumPy, in optax's convention: the trace t ← g + μ t; heavy ball steps
    θ ← θ − η t, Nesterov θ ← θ − η (g + μ t) with the new t (the gradient at θ, not at a look-ahead)."""
    data = lj.load_dataset("data/exam_scores.txt")
    X = lj.add_bias(Standardizer.fit(data.X)(data.X))
    theta0, lr, mu = np.asarray([0.2, 0.5, 0.7]), 0.3, 0.9
    for nesterov in (False, True):
        theta, trace = theta0.copy(), np.zeros(3)
        for _ in range(3):
            g = reference.gradient(theta, X, data.y)
            trace = g + mu * trace
            theta = theta - lr * (g + mu * trace if nesterov else trace)
        opt = optimizer_from("momentum", learning_rate=lr, momentum=mu, nesterov=nesterov)
        params, _ = lj.train(
            bound_objective(LOGISTIC, X, data.y), jnp.asarray(theta0), optimizer=opt, epochs=3, chunk=3
        )
        np.testing.assert_allclose(params, theta, rtol=1e-13)
    # ...and the config's flag reaches the optimizer: lj.fit takes exactly those Nesterov steps.
    cfg = exam_config(optimizer={"name": "momentum", "learning_rate": lr, "momentum": mu, "nesterov": True})
    model, _, X_fit = prepare(cfg, data)
    with jax.enable_x64(False):  # the config's float32, as lj.fit runs it
        start = initial_params(model, cfg.seed, X_fit.shape[1], cfg.model)
        by_hand = lj.train(bound_objective(model, X_fit, data.y), start, optimizer=opt, epochs=cfg.train.epochs)[0]
    np.testing.assert_allclose(lj.fit(cfg).params, by_hand, rtol=1e-6)


def test_divergence_names_the_epoch_and_the_learning_rate():
    # The stable loss never overflows by itself; a step of 1e37 on raw exam scores (~50) sends
    # float32 parameters to inf in the first update, and the guard must name epoch 2.
    cfg = config_from_dict(
        {
            "features": {"standardize": False},
            "optimizer": {"learning_rate": 1e37},
            "train": {"epochs": 50, "log_every": 10},
        }
    )
    with pytest.raises(
        lj.TrainingDiverged,
        match=r"at epoch 2: the loss became (nan|inf); "
        r"try a smaller optimizer.learning_rate \(now 1e\+37\)",
    ):
        lj.fit(cfg)


def test_same_config_and_seed_give_identical_numbers():
    a, b = lj.fit(exam_config()), lj.fit(exam_config())
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.history.loss, b.history.loss)
    # model.init reaches the model: N(0, 1/n) from the run's init key.
    c = exam_config(**{"model": {"init": "normal"}})
    expected = jax.random.normal(run_keys(c.seed).init, (3,)) / np.sqrt(3)
    assert lj.fit(c).history.loss[0] == pytest.approx(float(lj.cross_entropy(expected, a.inputs[0], a.inputs[1])))


def test_inits():
    assert np.all(
        lj.fit(config_from_dict({"model": {"init": "zeros"}, "train": {"epochs": 1}})).history.loss[0]
        == pytest.approx(np.log(2))
    )
    import jax

    theta = LOGISTIC.init(jax.random.key(0), 1000, lj.Config().model)
    assert float(theta.min()) >= 0 and float(theta.max()) < 1 and abs(float(theta.mean()) - 0.5) < 0.05


def test_lbfgs_reaches_the_maximum_likelihood_fit(x64):
    """optax L-BFGS with its line search reaches the exam-scores optimum (scikit-learn's, unpenalized)."""
    from sklearn.linear_model import LogisticRegression

    data = lj.load_dataset("data/exam_scores.txt")
    cfg = config_from_dict({"dtype": "float64", "optimizer": {"name": "lbfgs"}, "train": {"epochs": 40}})
    fitted = lj.fit(cfg, data)
    X = fitted.feature_map(data.X)[:, 1:]
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, data.y)
    np.testing.assert_allclose(fitted.params, np.r_[ref.intercept_, ref.coef_[0]], rtol=1e-6)
    assert fitted.history.grad_norm[-1] < 1e-8


@pytest.mark.parametrize("name", ["adam", "lbfgs", "newton"])
@pytest.mark.parametrize("committed", [False, True])
def test_a_first_train_call_lowers_each_of_its_programs_once(name, committed):
    """In a new process every program is compiled anew. optax builds an optimizer's state op by op
    (L-BFGS: six ops, each a program); its weakly typed scalars, and data placed on a device (as
    the large-data path places its blocks), made the second chunk's inputs of other types or
    placement than the first's: a second chunk program. train lowers one program for the state,
    one per chunk length and, unless the line search stored it, one for the final loss."""
    X = lj.add_bias(np.random.default_rng(0).normal(size=(40, 4)))
    y = (X[:, 1] > 0).astype(np.float32)
    if committed:
        X, y = jax.device_put((X, y), jax.devices()[0])
    objective, theta0 = bound_objective(LOGISTIC, X, y), jnp.zeros(5)
    optimizer = optimizer_from(name, learning_rate=0.1)  # a new object: nothing of it is compiled yet
    with programs_lowered() as lowered:
        lj.train(objective, theta0, optimizer=optimizer, epochs=5, chunk=2)  # chunks of 2, 2 and 1
    counts = collections.Counter(lowered)
    assert counts.pop("run_epochs") == 2 and counts.pop("value_and_norm", 1) == 1, lowered  # one per length
    assert sum(counts.values()) == 1, lowered  # the state's


def test_jax_debugging_modes_reach_the_training_loop():
    """The chunk program train compiles itself is not the jitted function that JAX's debugging
    modes need: under them train calls that function, so disable_jit runs the loop op by op (Python
    code inside the objective runs at every epoch) and debug_nans names the operation."""
    X = lj.add_bias(np.random.default_rng(0).normal(size=(40, 4)))
    y = (X[:, 1] > 0).astype(np.float32)
    calls, loss = [], bound_objective(LOGISTIC, X, y)

    def objective(theta):
        calls.append(1)  # runs at every evaluation only when nothing is traced
        return loss(theta)

    with jax.disable_jit():
        lj.train(jax.tree_util.Partial(objective), jnp.zeros(5), optimizer=optimizer_from("sgd"), epochs=4, chunk=2)
    assert len(calls) == 5  # each of the 4 epochs, then the final loss (sgd stores none)
    diverging = optimizer_from("sgd", learning_rate=1e30)
    with jax.debug_nans(True), pytest.raises(FloatingPointError, match="invalid value"):
        lj.train(loss, jnp.zeros(5), optimizer=diverging, epochs=6, chunk=2)
