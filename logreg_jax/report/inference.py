"""Statistical inference for a fitted logistic regression, as statsmodels' ``Logit(...).fit().summary()``.

- Covariance: the inverse of the observed information H, the Hessian of the *summed* negative
  log-likelihood (m × the mean loss training minimizes; hand-derived in
  :func:`~logreg_jax.report.bootstrap.newton_terms`, tested against ``jax.hessian``). With l2 > 0, H is the penalized
  Hessian: its inverse is the Laplace approximation of the posterior under the Gaussian prior
  θ_j ~ N(0, 1/λ) the penalty is. ``"HC0"`` is the sandwich H⁻¹ (Σ_i s_i s_iᵀ) H⁻¹ with the
  per-sample scores s_i = (σ(z_i) − y_i) x_i, valid even when the Bernoulli variance is wrong.
- Wald z = θ / se, p = 2 Φ(−|z|), interval θ ± Φ⁻¹(0.975) se, odds ratio exp(θ); log-likelihood
  ℓ, null ℓ₀ (intercept only), LR = 2 (ℓ − ℓ₀) against χ²(k − 1), McFadden's R² = 1 − ℓ/ℓ₀,
  AIC = 2k − 2ℓ, BIC = k log m − 2ℓ.
- Raw units: θ_raw = A θ (:func:`~logreg_jax.data.features.theta_in_raw_units` is linear), so
  Cov_raw = A Cov Aᵀ exactly, without a refit; bootstrap members are mapped the same way.
- Separation: with l2 = 0, a θ that puts every training point strictly on its own side of the
  boundary proves the data separable: no finite estimate exists, and inference is refused (as
  statsmodels refuses), as it is for a singular H (collinear columns, quasi-complete separation).
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import chi2

from logreg_jax.data.features import FeatureMap, polynomial_names, theta_in_raw_units
from logreg_jax.errors import DataError
from logreg_jax.report.bootstrap import bootstrap as bootstrap_refits
from logreg_jax.report.bootstrap import newton_terms, weighted_nll
from logreg_jax.report.diagnose import quasi_separated
from logreg_jax.train import COMPILER_OPTIONS

PER_COEFFICIENT = (
    "coef",
    "std_err",
    "z",
    "p_value",
    "ci_low",
    "ci_high",
    "odds_ratio",
    "odds_ratio_ci_low",
    "odds_ratio_ci_high",
)
BOOTSTRAP = ("bootstrap_std_err", "bootstrap_ci_low", "bootstrap_ci_high")
MODEL = ("log_likelihood", "null_log_likelihood", "llr", "llr_p_value", "pseudo_r2", "aic", "bic")


class Coefficients(NamedTuple):
    """Per-coefficient results, each a (k,) float64 array, bias first; bootstrap fields None when off."""

    coef: np.ndarray
    std_err: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    odds_ratio: np.ndarray
    odds_ratio_ci_low: np.ndarray  # exp of the interval's ends: the odds ratio's own interval
    odds_ratio_ci_high: np.ndarray
    bootstrap_std_err: np.ndarray | None = None
    bootstrap_ci_low: np.ndarray | None = None
    bootstrap_ci_high: np.ndarray | None = None


NOT_CONVERGED = "training has not converged"  # the note of a θ short of the optimum


def at_optimum(result: Inference) -> bool:
    """Whether the fit was at its optimum, where standard errors mean what they say (no note that
    θ is short of it)."""
    return not any(NOT_CONVERGED in note for note in result.notes)


class Inference(NamedTuple):
    """Coefficients in both units, (k, k) covariances, model statistics, and ``notes`` a report should
    show (the Laplace approximation, a θ short of the optimum, resamples without an estimate)."""

    names: tuple[str, ...]
    raw: Coefficients
    standardized: Coefficients
    cov_raw: np.ndarray
    cov_standardized: np.ndarray
    log_likelihood: float
    null_log_likelihood: float
    llr: float
    llr_df: int
    llr_p_value: float
    pseudo_r2: float
    aic: float
    bic: float
    nobs: int
    cov_type: str
    level: float
    bootstrap: int
    bootstrap_converged: int
    notes: tuple[str, ...]
    bootstrap_draws: np.ndarray | None = None  # (n, k) refitted standardized θ, NaN rows: no finite estimate


def coefficient_names(feature_names, degree: int = 1) -> tuple[str, ...]:
    """``("intercept", *columns)``: the model's columns named after the raw features (x1, x2, … if None)."""
    return ("intercept",) + polynomial_names(tuple(feature_names), degree)


def raw_map(feature_map: FeatureMap, k: int) -> np.ndarray:
    """The (k, k) matrix A with θ_raw = A θ: ``theta_in_raw_units`` is linear, so column j is its image of e_j."""
    return np.stack([theta_in_raw_units(e, feature_map.standardizer) for e in np.eye(k)], axis=1)


def _coefficients(theta, cov, level, draws=None) -> Coefficients:
    """The per-coefficient table from θ and its (k, k) covariance, in NumPy on the host: k numbers,
    which a compiled program would take longer to trace and lower than to compute."""
    theta = np.asarray(theta, np.float64)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 (a degenerate fit): z = ±inf, or NaN
        z = theta / se
    half = NormalDist().inv_cdf(0.5 + level / 2) * se
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) for v in z])  # 2 Φ(−|z|), accurate far in the tail
    with np.errstate(over="ignore"):  # exp(θ) of a large raw-unit coefficient is inf (written as null)
        out = [theta, se, z, p, theta - half, theta + half, np.exp(theta), np.exp(theta - half), np.exp(theta + half)]
    if draws is not None:  # (n, k), NaN rows for resamples without a finite estimate
        tail = 50 * (1 - level)
        out += [np.nanstd(draws, axis=0, ddof=1), *np.nanpercentile(draws, [tail, 100 - tail], axis=0)]
    return Coefficients(*out)


@functools.partial(jax.jit, compiler_options=COMPILER_OPTIONS)
def _information(theta, X, y, l2):
    """The passes over the m rows, in one compiled call: the gradient and observed information H of
    the summed penalized negative log-likelihood, the sandwich's meat Σ_i s_i s_iᵀ, the
    log-likelihoods and the LR test's p-value, and whether θ separates the data. The (k, k)
    algebra on them is NumPy's (:func:`inference`)."""
    m, k = X.shape
    ones = jnp.ones(m, X.dtype)
    grad, hessian = newton_terms(theta, X, y, ones, l2)
    z = X @ theta
    residual = jax.nn.sigmoid(z) - y  # d(cross-entropy_i)/dz_i: the score s_i is residual_i x_i
    ll = -weighted_nll(theta, X, y, ones)
    p = jnp.mean(y)  # the intercept-only fit predicts ȳ for every row
    ll0 = m * (p * jnp.log(p) + (1 - p) * jnp.log1p(-p))
    separates = jnp.all((2 * y - 1) * z > 0)  # as report.bootstrap.separated
    return grad, hessian, (X.T * residual**2) @ X, ll, ll0, chi2.sf(2 * (ll - ll0), k - 1), separates


def inference(
    theta,
    X_raw,
    y,
    feature_map: FeatureMap,
    *,
    l2: float = 0.0,
    cov_type: str = "nonrobust",
    names=None,
    level: float = 0.95,
    bootstrap: int = 0,
    key=None,
) -> Inference:
    """Standard errors, tests and intervals of a fitted logistic θ, in float64 whatever it was trained in.

    Args:
        theta: (k,) fitted parameters in the model's (standardized) units, bias first.
        X_raw: (m, d) raw training features; y: (m,) labels in {0, 1}.
        feature_map: the fitted map (with its bias column) the model was trained through.
        l2: the penalty strength λ it was trained with.
        cov_type: ``"nonrobust"`` (inverse observed information) or ``"HC0"`` (sandwich).
        names: the d raw feature names (default x1, x2, …).
        level: confidence level of the intervals.
        bootstrap: resamples refitted in one vmapped call (0 = off).
        key: PRNG key of the resamples (required with ``bootstrap``).

    Raises:
        DataError: separable data with l2 = 0, or a singular information matrix.
    """
    if bootstrap and key is None:
        raise ValueError("inference: bootstrap > 0 needs a PRNG key")
    with jax.enable_x64(True):
        X = np.asarray(feature_map(np.asarray(X_raw, np.float64)), np.float64)
        y = np.asarray(y, np.float64)
        theta = np.asarray(theta, np.float64)
        m, k = X.shape
        grad, hessian, meat, *stats, separates = _information(theta, X, y, l2)
        if l2 == 0 and (bool(separates) or quasi_separated(X, y, theta)):
            raise DataError(
                f"inference: the {m} training points are perfectly separated, or separated but for points "
                "on the boundary (quasi-complete separation), so no finite maximum-likelihood estimate exists; "
                "set loss.l2 > 0, or inference.enabled = false"
            )
        draws, converged = None, 0
        if bootstrap:
            thetas, ok = bootstrap_refits(key, theta, X, y, bootstrap, l2)
            ok = np.asarray(ok)
            draws, converged = np.where(ok[:, None], np.asarray(thetas), np.nan), int(np.sum(ok))
        try:
            chol = np.linalg.cholesky(np.asarray(hessian))
        except np.linalg.LinAlgError:
            chol = None
        if chol is None or not np.all(np.isfinite(chol)):
            raise DataError(
                "inference: the observed information matrix is singular (collinear features, or "
                "quasi-complete separation); set loss.l2 > 0, or inference.enabled = false"
            )
        cov = np.linalg.solve(chol.T, np.linalg.solve(chol, np.eye(k)))  # H⁻¹ from its Cholesky factor
        gap = np.max(np.abs(cov @ np.asarray(grad)) / np.sqrt(np.diag(cov)))  # one Newton step, in standard errors
        if cov_type == "HC0":
            cov = cov @ np.asarray(meat) @ cov
        A = raw_map(feature_map, k)
        cov_raw = A @ cov @ A.T
        raw = _coefficients(A @ theta, cov_raw, level, None if draws is None else draws @ A.T)
        std = _coefficients(theta, cov, level, draws)
        ll, ll0, llr_p = (float(v) for v in stats)
        llr = 2 * (ll - ll0)
        model = dict(
            log_likelihood=ll,
            null_log_likelihood=ll0,
            llr=llr,
            llr_p_value=llr_p,
            pseudo_r2=1 - ll / ll0,
            aic=2 * k - 2 * ll,
            bic=k * math.log(m) - 2 * ll,
        )
        notes = []
        if gap > 1e-3:
            notes.append(
                f"θ is {float(gap):.2g} standard errors from the optimum ({NOT_CONVERGED}); "
                "the results assume the maximum-likelihood fit"
            )
        if l2 > 0:
            notes.append(
                f"loss.l2 = {l2:g} > 0: the covariance uses the penalized Hessian, a Laplace approximation "
                "of the posterior under the Gaussian prior the penalty is"
            )
        if bootstrap and converged < 2:
            raise DataError(f"inference: only {converged} of {bootstrap} bootstrap resamples could be refitted")
        if converged < bootstrap:
            notes.append(
                f"{bootstrap - converged} of {bootstrap} bootstrap resamples had no finite estimate and were left out"
            )
        if names is None:
            names = [f"x{j + 1}" for j in range(np.shape(X_raw)[1])]
        return Inference(
            names=coefficient_names(names, feature_map.degree),
            raw=raw,
            standardized=std,
            cov_raw=cov_raw,
            cov_standardized=cov,
            **model,
            llr_df=k - 1,
            nobs=m,
            cov_type=cov_type,
            level=level,
            bootstrap=bootstrap,
            bootstrap_converged=converged,
            notes=tuple(notes),
            bootstrap_draws=draws,
        )


def to_json(result: Inference) -> dict:
    """The ``metrics.json`` block: raw-unit coefficients and model statistics, and a ``standardized`` block."""

    def block(c: Coefficients) -> dict:
        keys = PER_COEFFICIENT + (BOOTSTRAP if result.bootstrap else ())
        # Strict JSON has no inf: exp(θ) of a large raw-unit coefficient can overflow.
        return {key: [float(v) if np.isfinite(v) else None for v in getattr(c, key)] for key in keys}

    return {
        "names": list(result.names),
        **block(result.raw),
        **{key: getattr(result, key) for key in MODEL},
        "nobs": result.nobs,
        "cov_type": result.cov_type,
        "standardized": block(result.standardized),
    }


def format_table(result: Inference, standardized: bool = False) -> str:
    """The coefficient table (raw units unless ``standardized``), a model summary line, and the notes."""
    c = result.standardized if standardized else result.raw
    tail = 50 * (1 - result.level)
    lo, hi = f"[{tail / 100:.3g}", f"{1 - tail / 100:.3g}]"
    width = max(9, *map(len, result.names))
    header = f"{'':<{width}} {'coef':>11} {'std err':>10} {'z':>8} {'P>|z|':>9} {lo:>11} {hi:>11} {'odds ratio':>11}"
    if result.bootstrap:
        header += f" {'boot se':>10} {'boot ' + lo:>12} {hi:>11}"
    lines = [header]
    for j, name in enumerate(result.names):
        row = (
            f"{name:<{width}} {c.coef[j]:>11.5g} {c.std_err[j]:>10.4g} {c.z[j]:>8.3f} {c.p_value[j]:>9.3g}"
            f" {c.ci_low[j]:>11.5g} {c.ci_high[j]:>11.5g} {c.odds_ratio[j]:>11.4g}"
        )
        if result.bootstrap:
            row += f" {c.bootstrap_std_err[j]:>10.4g} {c.bootstrap_ci_low[j]:>12.5g} {c.bootstrap_ci_high[j]:>11.5g}"
        lines.append(row)
    boot = f", bootstrap: {result.bootstrap_converged} of {result.bootstrap} resamples" if result.bootstrap else ""
    lines.append(
        f"n = {result.nobs}, log-likelihood {result.log_likelihood:.4f} (null {result.null_log_likelihood:.4f}), "
        f"LR chi2({result.llr_df}) = {result.llr:.4g} (p = {result.llr_p_value:.3g}), pseudo R2 "
        f"{result.pseudo_r2:.4f}, AIC {result.aic:.4f}, BIC {result.bic:.4f}, covariance {result.cov_type}{boot}"
    )
    return "\n".join(lines + [f"note: {note}" for note in result.notes])
