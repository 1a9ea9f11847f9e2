"""Inference for logistic fits against statsmodels' Logit, the raw/standardized map, the bootstrap,
and the refusal of separable data."""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, load_script, write_text

import logreg_jax as lj
from logreg_jax.report.bootstrap import newton_terms, refit, resample_counts, weighted_nll
from logreg_jax.report.inference import PER_COEFFICIENT, format_table, inference, raw_map, to_json

sm = pytest.importorskip("statsmodels.api")
RTOL = 1e-6


def synthetic(m=400, seed=0):
    """Five correlated features with their own means and scales (so the raw map matters), and
    labels drawn from a logistic model: well away from separation."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((m, 5)) @ (np.eye(5) + 0.3)
    X = Z * np.array([1.0, 10.0, 0.1, 3.0, 50.0]) + np.array([5.0, -20.0, 0.0, 100.0, 7.0])
    z = 0.3 + Z @ np.array([0.8, -0.5, 0.0, 0.4, -0.3])
    return X, (rng.random(m) < 1 / (1 + np.exp(-z))).astype(np.float64)


def exam():
    data = lj.load_dataset("data/exam_scores.txt")
    return data.X, data.y


def statsmodels_fits(X, y, cov_type):
    """statsmodels fits on the raw columns and on the standardized ones (both with a constant)."""
    fm = lj.FeatureMap.fit(X)
    fit = lambda A: sm.Logit(y, A).fit(method="newton", maxiter=100, tol=1e-14, disp=0, cov_type=cov_type)
    return fm, fit(sm.add_constant(X)), fit(fm(X))


def getattr_statsmodels(res, key):
    """The statsmodels number behind one of our per-coefficient keys."""
    ci = res.conf_int()
    return {
        "coef": res.params,
        "std_err": res.bse,
        "z": res.tvalues,
        "p_value": res.pvalues,
        "ci_low": ci[:, 0],
        "ci_high": ci[:, 1],
    }[key]


def assert_matches(c, res, what):
    expected = dict(
        coef=res.params,
        std_err=res.bse,
        z=res.tvalues,
        p_value=res.pvalues,
        ci_low=res.conf_int()[:, 0],
        ci_high=res.conf_int()[:, 1],
        odds_ratio=np.exp(res.params),
        odds_ratio_ci_low=np.exp(res.conf_int()[:, 0]),
        odds_ratio_ci_high=np.exp(res.conf_int()[:, 1]),
    )
    for key in PER_COEFFICIENT:
        np.testing.assert_allclose(getattr(c, key), expected[key], rtol=RTOL, err_msg=f"{what} {key}")


@pytest.mark.parametrize("data", [exam, synthetic])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_every_number_matches_statsmodels(data, cov_type):
    X, y = data()
    fm, raw, std = statsmodels_fits(X, y, cov_type)
    result = inference(std.params, X, y, fm, cov_type=cov_type)
    assert_matches(result.raw, raw, "raw")
    assert_matches(result.standardized, std, "standardized")
    for ours, theirs in [
        ("log_likelihood", "llf"),
        ("null_log_likelihood", "llnull"),
        ("llr", "llr"),
        ("llr_p_value", "llr_pvalue"),
        ("pseudo_r2", "prsquared"),
        ("aic", "aic"),
        ("bic", "bic"),
    ]:
        assert getattr(result, ours) == pytest.approx(getattr(raw, theirs), rel=RTOL), ours
    assert result.nobs == raw.nobs and result.llr_df == raw.df_model
    np.testing.assert_allclose(result.cov_raw, raw.cov_params(), rtol=RTOL, atol=1e-12 * np.abs(raw.cov_params()).max())
    assert result.notes == ()


def test_raw_and_standardized_intervals_are_one_model():
    X, y = synthetic()
    fm, _, std = statsmodels_fits(X, y, "nonrobust")
    r = inference(std.params, X, y, fm)
    s = fm.standardizer.std
    A = raw_map(fm, 6)
    np.testing.assert_allclose(r.raw.coef, A @ r.standardized.coef, rtol=1e-12)
    np.testing.assert_allclose(r.cov_raw, A @ r.cov_standardized @ A.T, rtol=1e-10, atol=1e-14)
    # A slope in raw units is the standardized one over the column's std: interval ends map the same
    # way, and z and p (scale-free) are identical.
    for key in ("ci_low", "ci_high", "coef", "std_err"):
        np.testing.assert_allclose(getattr(r.raw, key)[1:], getattr(r.standardized, key)[1:] / s, rtol=1e-10)
    np.testing.assert_allclose(r.raw.z[1:], r.standardized.z[1:], rtol=1e-10)
    # The variance of the logit at any point is the same in either parametrization.
    x = X[:7]
    v_raw = np.einsum("ij,jk,ik->i", sm.add_constant(x), r.cov_raw, sm.add_constant(x))
    v_std = np.einsum("ij,jk,ik->i", fm(x), r.cov_standardized, fm(x))
    np.testing.assert_allclose(v_raw, v_std, rtol=1e-9)


def test_penalized_covariance_is_the_inverse_penalized_hessian(x64):
    X, y = exam()
    fm = lj.FeatureMap.fit(X)
    Z, l2 = fm(X), 3.0
    thetas, _ = refit(np.zeros(3), Z, y, np.ones((1, 100)), l2)  # Newton on the penalized objective
    theta = np.asarray(thetas[0])
    p = 1 / (1 + np.exp(-Z @ theta))
    np.testing.assert_allclose(Z.T @ (p - y) + l2 * np.r_[0.0, theta[1:]], 0, atol=1e-10)  # the optimum
    r = inference(theta, X, y, fm, l2=l2)
    H = (Z.T * p * (1 - p)) @ Z + l2 * np.diag([0.0, 1.0, 1.0])  # float64 formula, bias unpenalized
    np.testing.assert_allclose(r.cov_standardized, np.linalg.inv(H), rtol=1e-9)
    assert any("Laplace approximation" in note for note in r.notes)
    assert "Laplace" in format_table(r)


def test_a_fit_short_of_the_optimum_is_noted():
    X, y = exam()
    fm, _, std = statsmodels_fits(X, y, "nonrobust")
    r = inference(std.params + np.array([0.0, 0.1, 0.0]), X, y, fm)
    assert len(r.notes) == 1 and "from the optimum" in r.notes[0]


def test_hand_derived_newton_terms_are_the_autodiff_ones(x64, rng):
    X = np.column_stack([np.ones(50), rng.standard_normal((50, 3))])
    y, w, theta = (rng.random(50) < 0.5).astype(float), rng.integers(0, 3, 50).astype(float), rng.standard_normal(4)
    g, H = jax.jit(newton_terms)(theta, X, y, w, 0.7)
    np.testing.assert_allclose(g, jax.jit(jax.grad(weighted_nll))(theta, X, y, w, 0.7), rtol=1e-12)
    np.testing.assert_allclose(H, jax.jit(jax.hessian(weighted_nll))(theta, X, y, w, 0.7), rtol=1e-12)


@pytest.fixture(scope="module")
def boot():
    """300 bootstrap refits of a well-conditioned synthetic fit (2,000 rows, 5 features)."""
    X, y = synthetic(m=2000, seed=3)
    fm, _, std = statsmodels_fits(X, y, "nonrobust")
    return X, y, fm, std, inference(std.params, X, y, fm, bootstrap=300, key=jax.random.key(0))


def test_bootstrap_refits_are_the_statsmodels_fits_of_the_resamples(boot):
    X, y, fm, std, r = boot
    counts = np.asarray(resample_counts(jax.random.key(0), 300, X.shape[0]))  # the fixture's resamples
    assert counts.shape == (300, 2000) and np.all(counts.sum(axis=1) == 2000)
    assert r.bootstrap_draws.shape == (300, 6) and np.all(np.isfinite(r.bootstrap_draws))
    for b in (0, 1, 299):
        rows = np.repeat(np.arange(2000), counts[b])
        res = sm.Logit(y[rows], fm(X)[rows]).fit(method="newton", maxiter=100, tol=1e-14, disp=0)
        np.testing.assert_allclose(r.bootstrap_draws[b], res.params, rtol=1e-9)
    np.testing.assert_allclose(r.standardized.bootstrap_std_err, np.std(r.bootstrap_draws, axis=0, ddof=1), rtol=1e-12)


def test_bootstrap_std_errors_agree_with_the_analytic_ones(boot):
    X, y, fm, std, r = boot
    assert r.bootstrap_converged == 300
    for c in (r.raw, r.standardized):
        # Monte-Carlo error of a standard deviation from 300 draws: ≈ 1/√600 ≈ 4 %.
        np.testing.assert_allclose(c.bootstrap_std_err, c.std_err, rtol=0.15)
        half = c.ci_high - c.ci_low
        assert np.all(np.abs(c.bootstrap_ci_low - c.ci_low) < 0.2 * half)
        assert np.all(np.abs(c.bootstrap_ci_high - c.ci_high) < 0.2 * half)
    again = inference(std.params, X, y, fm, bootstrap=300, key=jax.random.key(0))
    np.testing.assert_array_equal(again.raw.bootstrap_ci_low, r.raw.bootstrap_ci_low)
    block = to_json(r)
    assert set(block) == {
        "names",
        *PER_COEFFICIENT,
        "bootstrap_std_err",
        "bootstrap_ci_low",
        "bootstrap_ci_high",
        "log_likelihood",
        "null_log_likelihood",
        "llr",
        "llr_p_value",
        "pseudo_r2",
        "aic",
        "bic",
        "nobs",
        "cov_type",
        "standardized",
    }
    assert block["names"] == ["intercept", "x1", "x2", "x3", "x4", "x5"]


SEPARABLE = "a,b,label\n" + "".join(f"{i},{(i * 7) % 5},{int(i >= 6)}\n" for i in range(12))


def test_separable_data_are_refused(tmp_path):
    data = lj.load_dataset(write_text(tmp_path, "sep.txt", SEPARABLE))
    fm = lj.FeatureMap.fit(data.X)
    with pytest.raises(lj.DataError, match="perfectly separated"):
        inference(np.array([0.0, 20.0, 0.0]), data.X, data.y, fm)


@pytest.mark.slow
def test_script_refuses_inference_on_separable_data_in_one_line(tmp_path):
    """No finite estimate exists: the table is refused in one line (as statsmodels refuses), while the
    fit itself is kept and flagged as separated (issue 11's warning)."""
    path = write_text(tmp_path, "sep.txt", SEPARABLE)
    done = subprocess.run(
        [
            sys.executable,
            "experiments/train.py",
            "configs/exam_scores.toml",
            "--out",
            str(tmp_path / "run"),
            "--set",
            f'data.path="{path}"',
            "--set",
            "predict.points=[]",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    refusals = [line for line in done.stderr.splitlines() if "perfectly separated" in line]
    assert len(refusals) == 1 and refusals[0].startswith("warning: inference:"), done.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["separated"] and "perfectly separated" in metrics["inference"]["refused"]
    assert not (tmp_path / "run" / "coefficients.png").exists()


@pytest.mark.slow
def test_train_script_writes_the_table_and_figure(tmp_path, capsys):
    out = tmp_path / "run"
    load_script("train").main(
        ["configs/exam_scores_inference.toml", "--out", str(out), "--set", "inference.bootstrap=50"]
    )
    printed = capsys.readouterr().out
    assert "P>|z|" in printed and "LR chi2(2)" in printed
    block = json.loads((out / "metrics.json").read_text())["inference"]
    # The trained fit (float64, to ‖∇C‖ ≤ 1e-12) is statsmodels' to 1e-6 in every number.
    _, raw, std = statsmodels_fits(*exam(), "nonrobust")
    for key in ("coef", "std_err", "z", "p_value", "ci_low", "ci_high"):
        np.testing.assert_allclose(block[key], getattr_statsmodels(raw, key), rtol=RTOL, err_msg=key)
        np.testing.assert_allclose(block["standardized"][key], getattr_statsmodels(std, key), rtol=RTOL, err_msg=key)
    for key, value in [
        ("log_likelihood", raw.llf),
        ("null_log_likelihood", raw.llnull),
        ("llr", raw.llr),
        ("llr_p_value", raw.llr_pvalue),
        ("pseudo_r2", raw.prsquared),
        ("aic", raw.aic),
        ("bic", raw.bic),
    ]:
        assert block[key] == pytest.approx(value, rel=RTOL), key
    assert block["cov_type"] == "nonrobust" and block["nobs"] == raw.nobs == 100
    assert len(block["bootstrap_std_err"]) == 3
    assert (out / "coefficients.png").stat().st_size > 10_000


def test_the_bootstraps_batched_solve_equals_numpy():
    """bootstrap.solve_spd (Gauss–Jordan in a while_loop, no LAPACK) against numpy.linalg.solve."""
    from logreg_jax.report.bootstrap import solve_spd

    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 11, 11))
    H = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(11)  # (50, 11, 11) positive definite, some ill-conditioned
    g = rng.normal(size=(50, 11))
    with jax.enable_x64(True):
        x = np.asarray(solve_spd(jnp.asarray(H), jnp.asarray(g)))
    expected = np.linalg.solve(H, g[..., None])[..., 0]
    np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize("m", [100, 569, 300])
def test_resample_counts_are_multinomial_in_the_smallest_unsigned_type(m):
    """Every resample draws m rows (counts sum to m, stored in the smallest unsigned type holding m),
    each row about once on average with the multinomial's variance, and a key's first resamples are
    the same whatever n is (the blocks they are drawn in do not change the draws)."""
    counts = resample_counts(jax.random.key(3), 1000, m)
    assert counts.dtype == np.min_scalar_type(m) and counts.dtype.kind == "u"
    assert counts.shape == (1000, m) and np.all(counts.sum(axis=1, dtype=np.int64) == m)
    assert abs(counts.var() - (1 - 1 / m)) < 0.02  # multinomial(m, 1/m): Var = 1 − 1/m
    np.testing.assert_array_equal(resample_counts(jax.random.key(3), 130, m), counts[:130])
