"""Feature maps: standardization learned once and reused, bias column, raw-unit parameters."""

import jax.numpy as jnp
import numpy as np
import pytest

import logreg_jax as lj
from logreg_jax.config import config_from_dict
from logreg_jax.data.features import Standardizer, theta_in_raw_units


def test_add_bias_numpy_and_jax():
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(lj.add_bias(X), [[1, 0, 1], [1, 2, 3], [1, 4, 5]])
    out = lj.add_bias(jnp.asarray(X, jnp.float32))
    assert out.dtype == jnp.float32 and out.shape == (3, 3)


def test_standardizer_statistics_and_reuse():
    data = lj.load_dataset("data/exam_scores.txt")
    s = Standardizer.fit(data.X)
    Z = s(data.X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    # A new point is scaled with the training statistics, not its own.
    np.testing.assert_allclose(s(np.array([[45.0, 85.0]])), (np.array([[45.0, 85.0]]) - s.mean) / s.std)


def test_constant_feature_is_rejected():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    with pytest.raises(lj.DataError, match="'exam2' is constant"):
        Standardizer.fit(X, names=("exam1", "exam2"))


def test_one_point_alone_has_the_probability_it_has_in_a_grid(tmp_path):
    """Regression test for the tutorial's flaw: it re-standardized each prediction input with the
    input's own mean and std, so the same applicant got another probability inside the plot grid
    (and a single point, with std 0, got NaN)."""
    cfg = config_from_dict({"train": {"epochs": 30}})
    fitted = lj.fit(cfg)
    point = np.array([[45.0, 85.0]])
    g1, g2 = np.meshgrid(np.arange(20.0, 110.5, 0.5), np.arange(20.0, 110.5, 0.5))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    at = np.flatnonzero((grid[:, 0] == 45.0) & (grid[:, 1] == 85.0))[0]
    alone, in_grid = lj.predict_proba(fitted, point)[0, 1], lj.predict_proba(fitted, grid)[at, 1]
    assert alone == pytest.approx(in_grid, rel=1e-6)
    # And it is the model's σ(θ·x) on the training-standardized point.
    s = fitted.feature_map.standardizer
    x = np.concatenate([[1.0], (point[0] - s.mean) / s.std])
    assert alone == pytest.approx(1 / (1 + np.exp(-x @ fitted.params)), rel=1e-5)


def test_theta_in_raw_units_gives_the_same_probabilities(rng):
    X = rng.normal(loc=[50, 70], scale=[10, 15], size=(20, 2))
    s = Standardizer.fit(X)
    theta = rng.normal(size=3)
    raw = theta_in_raw_units(theta, s)
    np.testing.assert_allclose(lj.add_bias(s(X)) @ theta, lj.add_bias(X) @ raw, rtol=1e-12, atol=1e-12)


def test_polynomial_features_order_and_count(rng):
    X = rng.normal(size=(5, 2))
    P = lj.polynomial_features(X, 6)
    assert P.shape == (5, 27)
    x1, x2 = X[:, 0], X[:, 1]
    expected = [x1 ** (i - j) * x2**j for i in range(1, 7) for j in range(i + 1)]
    np.testing.assert_allclose(P, np.column_stack(expected))
    np.testing.assert_allclose(P[:, :5], np.column_stack([x1, x2, x1**2, x1 * x2, x2**2]))
    assert lj.polynomial_features(X, 1) is X
    assert lj.add_bias(P).shape == (5, 28)


def test_feature_map_order_polynomial_then_standardize_then_bias(rng):
    """The documented pipeline on the microchips: 27 monomials, each standardized with the training
    statistics (when asked), then the unscaled bias column in front; the same map on new rows."""
    from logreg_jax.data.features import polynomial_names

    X = lj.load_dataset("data/microchips.txt").X
    P = lj.polynomial_features(X, 6)
    raw = lj.FeatureMap.fit(X, degree=6, standardize=False)
    np.testing.assert_array_equal(raw(X), lj.add_bias(P))
    scaled = lj.FeatureMap.fit(X, degree=6, standardize=True)
    Z = scaled(X)
    assert Z.shape == (118, 28)
    np.testing.assert_array_equal(Z[:, 0], 1.0)
    np.testing.assert_allclose(Z[:, 1:], (P - P.mean(axis=0)) / P.std(axis=0), rtol=1e-12)
    new = rng.uniform(-1, 1, size=(4, 2))
    np.testing.assert_allclose(
        scaled(new)[:, 1:], (lj.polynomial_features(new, 6) - P.mean(axis=0)) / P.std(axis=0), rtol=1e-12
    )
    # JAX inputs take the same path (the plots and predictions call it on grids).
    np.testing.assert_allclose(np.asarray(raw(jnp.asarray(new, jnp.float32))), raw(new), rtol=1e-5)
    assert polynomial_names(("a", "b"), 3) == ("a", "b", "a^2", "a*b", "b^2", "a^3", "a^2*b", "a*b^2", "b^3")
    assert [P.shape[1] for P in (lj.polynomial_features(X, d) for d in (1, 2, 3, 6))] == [2, 5, 9, 27]


@pytest.mark.parametrize("d, degree", [(1, 3), (2, 6), (3, 3), (4, 2), (5, 4)])
def test_polynomial_features_match_scikit_learn_for_any_number_of_inputs(rng, d, degree):
    """Columns, their order and names as sklearn's PolynomialFeatures (constant column dropped)."""
    from sklearn.preprocessing import PolynomialFeatures

    from logreg_jax.data.features import n_inputs, polynomial_names

    X = rng.normal(size=(7, d))
    sk = PolynomialFeatures(degree, include_bias=False).fit(X)
    P = lj.polynomial_features(X, degree)
    np.testing.assert_allclose(P, sk.transform(X), rtol=1e-12)
    assert P.shape[1] == n_inputs(d, degree, bias=False) == n_inputs(d, degree, bias=True) - 1
    names = tuple(f"x{j}" for j in range(d))
    assert polynomial_names(names, degree) == tuple(n.replace(" ", "*") for n in sk.get_feature_names_out(names))
