"""Second derivatives and the gradient loop: hand-derived = autodiff = NumPy reference = finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference
from conftest import rel_err

import logreg_jax as lj
from logreg_jax.loss import autodiff_hvp
from logreg_jax.models.logistic import analytic_hvp, loop_gradient
from logreg_jax.studies import gradcheck


def random_problem(rng, m, n, scale=1.0):
    X = np.concatenate([np.ones((m, 1)), rng.normal(size=(m, n - 1))], axis=1)
    y = (rng.random(m) < 0.5).astype(np.float64)
    return scale * rng.normal(size=n), X, y, rng.normal(size=n)


def numpy_hessian(theta, X, l2):
    """Σ_i w_i x_i x_iᵀ / m written as a sum of outer products, w = σ(1 − σ) (float64 NumPy)."""
    m, n = X.shape
    s = 1 / (1 + np.exp(-(X @ theta)))
    H = sum(si * (1 - si) * np.outer(xi, xi) for si, xi in zip(s, X)) / m
    return H + np.diag(np.r_[0.0, np.full(n - 1, l2 / m)])


@pytest.mark.parametrize("m,n", [(1, 2), (9, 3), (100, 3), (64, 28), (300, 10)])
@pytest.mark.parametrize("l2", [0.0, 3.0])
def test_hessian_and_hvp_autodiff_equal_analytic_float64(x64, rng, m, n, l2):
    for scale in (0.1, 1.0, 5.0):
        theta, X, y, v = (jnp.asarray(a) for a in random_problem(rng, m, n, scale))
        hand, auto = lj.analytic_hessian(theta, X, y, l2), lj.autodiff_hessian(theta, X, y, l2)
        assert hand.shape == (n, n) and hand.dtype == auto.dtype == jnp.float64
        assert rel_err(auto, hand) <= 1e-12
        assert rel_err(hand, numpy_hessian(np.asarray(theta), np.asarray(X), l2)) <= 1e-12
        assert rel_err(hand, hand.T) <= 1e-15
        assert np.linalg.eigvalsh(np.asarray(hand)).min() >= -1e-12 * float(jnp.max(hand))
        hvp_hand, hvp_auto = analytic_hvp(theta, X, y, v, l2), autodiff_hvp(theta, X, y, v, l2)
        assert rel_err(hvp_hand, hand @ v) <= 1e-12 and rel_err(hvp_auto, hand @ v) <= 1e-12


def test_loop_gradient_equals_vectorized(x64, rng):
    for m, n, l2 in [(1, 2, 0.0), (50, 4, 0.0), (200, 7, 2.5)]:
        theta, X, y, _ = random_problem(rng, m, n)
        loop = loop_gradient(theta, X, y, l2)
        assert isinstance(loop, np.ndarray) and loop.dtype == np.float64
        assert rel_err(loop, lj.analytic_gradient(*map(jnp.asarray, (theta, X, y)), l2)) <= 1e-13
        assert rel_err(loop, reference.gradient(theta, X, y, l2)) <= 1e-13
    f32 = loop_gradient(*(a.astype(np.float32) for a in (theta, X, y)), l2)
    assert f32.dtype == np.float32 and rel_err(f32, reference.gradient(theta, X, y, l2)) <= 1e-5


@pytest.mark.parametrize("l2", [0.0, 2.0])
def test_finite_differences_float64(x64, rng, l2):
    theta, X, y, v = (jnp.asarray(a) for a in random_problem(rng, 60, 5))
    fd_grad = gradcheck.central_differences(lambda t: lj.cross_entropy(t, X, y, l2), theta)
    fd_hess = gradcheck.central_differences(lambda t: lj.analytic_gradient(t, X, y, l2), theta)
    fd_hvp = gradcheck.central_differences(lambda t: lj.analytic_gradient(t, X, y, l2), theta, v)
    hess = lj.analytic_hessian(theta, X, y, l2)
    assert rel_err(fd_grad, lj.analytic_gradient(theta, X, y, l2)) <= 1e-6
    assert rel_err(fd_hess, hess) <= 1e-6
    assert rel_err(fd_hvp, hess @ v) <= 1e-6


def test_float32_in_float32_out_and_within_1e5_of_float64(rng):
    theta, X, y, v = random_problem(rng, 200, 6)
    f32 = [jnp.asarray(a, jnp.float32) for a in (theta, X, y, v)]
    H = numpy_hessian(theta, X, 0.5)
    for fn, expected in [(lj.analytic_hessian, H), (lj.autodiff_hessian, H)]:
        out = fn(*f32[:3], 0.5)
        assert out.dtype == jnp.float32 and rel_err(out, expected) <= 1e-5
    for fn in (analytic_hvp, autodiff_hvp):
        out = fn(*f32, 0.5)
        assert out.dtype == jnp.float32 and rel_err(out, H @ v) <= 1e-5


def output_shapes(jaxpr):
    """Shapes of every intermediate in a jaxpr, nested jaxprs (jit, custom_jvp, …) included."""
    for eqn in jaxpr.eqns:
        yield from (var.aval.shape for var in eqn.outvars)
        for param in eqn.params.values():
            if hasattr(param, "eqns"):
                yield from output_shapes(param)
            elif hasattr(param, "jaxpr"):
                yield from output_shapes(param.jaxpr)


def test_autodiff_hvp_never_forms_the_hessian():
    n = 7
    theta, X, y, v = jnp.zeros(n), jnp.ones((5, n)), jnp.ones(5), jnp.ones(n)
    hvp_shapes = set(output_shapes(jax.make_jaxpr(autodiff_hvp)(theta, X, y, v).jaxpr))
    assert (n, n) not in hvp_shapes and (n,) in hvp_shapes
    # The same walk does see H where it is formed.
    assert (n, n) in set(output_shapes(jax.make_jaxpr(lj.autodiff_hessian)(theta, X, y).jaxpr))


def test_error_measure_is_finite_where_the_gradient_vanishes():
    errs = gradcheck.errors([1e-9, 0.0], [0.0, 0.0], terms=[0.5, 0.25])
    assert errs["max_abs_err"] == 1e-9 and errs["rel_err"] == pytest.approx(2e-9)
    assert errs["rel_to_value"] > 1e290  # max|a − b| / max|b| is meaningless here
    assert gradcheck.errors([1.0, 2.0], [1.0, 2.5])["rel_err"] == pytest.approx(0.2)


def test_reference_terms_bound_the_values(rng):
    theta, X, y, v = random_problem(rng, 80, 4)
    ref = gradcheck.reference(theta, X, y, v, 1.0)
    assert np.all(ref.gradient_terms >= np.abs(ref.gradient)) and np.all(ref.hvp_terms >= np.abs(ref.hvp))
    np.testing.assert_allclose(ref.hessian, numpy_hessian(theta, X, 1.0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(ref.gradient, reference.gradient(theta, X, y, 1.0), rtol=1e-13, atol=1e-16)
