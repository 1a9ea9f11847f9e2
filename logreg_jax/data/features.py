"""Feature maps fitted on the training data and reused, unchanged, on anything predicted later.

The pipeline, in this order:

1. ``polynomial_features`` (degree 1 leaves the raw features alone);
2. standardization of every resulting column, with the mean and std of the *training* data;
3. the leading bias column of ones, for models whose parameters include the intercept.

Polynomials come first so that the columns the model sees are standardized; the bias column
comes last so it is never scaled. The fitted :class:`FeatureMap` is stored with the model, which
fixes the original tutorial's flaw of re-standardizing each prediction input with its own
statistics.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.errors import DataError


def add_bias(X):
    """Prepends a column of ones.

    Args:
        X: (m, n) features, NumPy or JAX.

    Returns:
        (m, n + 1) array of the same kind and dtype, column 0 all ones.
    """
    xp = jnp if isinstance(X, jax.Array) else np
    return xp.concatenate([xp.ones((X.shape[0], 1), dtype=X.dtype), X], axis=1)


def monomial_powers(d: int, degree: int) -> list[tuple[int, ...]]:
    """The exponents (p_1, …, p_d) of every monomial of d features of total degree 1 … ``degree``,
    in scikit-learn's ``PolynomialFeatures`` order: by degree, then the features' index tuples
    (i_1 ≤ … ≤ i_k) in lexicographic order. For two features: x1, x2, x1², x1 x2, x2², x1³, …"""
    return [
        tuple(combo.count(j) for j in range(d))
        for k in range(1, degree + 1)
        for combo in itertools.combinations_with_replacement(range(d), k)
    ]


def polynomial_features(X, degree: int):
    """Every monomial of the d features up to ``degree``, without the constant.

    Columns are in scikit-learn's ``PolynomialFeatures`` order (:func:`monomial_powers`); for
    two features x1^(i−j) · x2^j for i = 1..degree and j = 0..i: degree 1 gives [x1, x2], degree 6
    gives 27 columns (28 with the bias), the mapping customary for the microchips data.

    Args:
        X: (m, d) features.
        degree: the highest total degree, ≥ 1.

    Returns:
        (m, C(d + degree, d) − 1) array.
    """
    if degree < 1:
        raise ValueError(f"polynomial degree must be >= 1, got {degree}")
    if degree == 1:
        return X
    xp = jnp if isinstance(X, jax.Array) else np
    # Each monomial as Π x_j ** p_j over its features, in feature order: for two features the same
    # floating-point operations as x1 ** (i − j) * x2 ** j (x ** 0 = 1 and 1 · y = y exactly).
    columns = [
        functools.reduce(operator.mul, [X[:, j] ** p for j, p in enumerate(powers) if p])
        for powers in monomial_powers(X.shape[1], degree)
    ]
    return xp.stack(columns, axis=1)


def polynomial_names(names: tuple[str, ...], degree: int) -> tuple[str, ...]:
    """Names of the columns of ``polynomial_features`` (``x1^2*x2`` and so on)."""
    if degree == 1:
        return tuple(names)

    def power(name: str, k: int) -> list[str]:
        return [] if k == 0 else [name if k == 1 else f"{name}^{k}"]

    return tuple(
        "*".join(part for n, p in zip(names, powers) for part in power(n, p))
        for powers in monomial_powers(len(names), degree)
    )


def n_inputs(d: int, degree: int, bias: bool) -> int:
    """Columns a :class:`FeatureMap` makes of d raw features: C(d + degree, d) − 1 monomials."""
    return (d if degree == 1 else math.comb(d + degree, d) - 1) + int(bias)


def check_range(max_abs: np.ndarray, names: tuple[str, ...] | None, dtype, where: str | None) -> None:
    """Unstandardized model inputs, whose columns reach (n,) ``max_abs``, must fit the training
    ``dtype`` (standardized columns are bounded by √m, Samuelson's inequality, so they always fit)."""
    big = np.flatnonzero(max_abs > np.finfo(dtype).max)
    if big.size:
        j = int(big[0])
        raise DataError(
            (f"{where}: " if where else "") + f"feature {repr(names[j]) if names else f'column {j}'} "
            f"reaches |x| = {max_abs[j]:.3g}, beyond the largest {np.dtype(dtype).name} "
            f'({np.finfo(dtype).max:.3g}); set dtype = "float64", scale the data, or set '
            "features.standardize = true"
        )


class Standardizer(NamedTuple):
    """Per-column affine scaling to mean 0 and std 1, with statistics of the training data.

    Attributes:
        mean: (n,) column means of the data it was fitted on.
        std: (n,) column standard deviations (population, ddof = 0).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X, names: tuple[str, ...] | None = None, where: str | None = None) -> Standardizer:
        """Learns the statistics of (m, n) ``X``; a constant column cannot be scaled."""
        X = np.asarray(X, dtype=np.float64)
        # In units of each column's largest |x|: the squares of values near float64's largest overflow.
        scale = np.max(np.abs(X), axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return cls.from_moments(scale * (X / scale).mean(axis=0), scale * (X / scale).std(axis=0), names, where)

    @classmethod
    def from_moments(cls, mean, std, names: tuple[str, ...] | None = None, where: str | None = None) -> Standardizer:
        """The scaling for known column means and stds (e.g. accumulated over chunks); a constant
        column is a DataError naming it (and the data, ``where``)."""
        flat = np.flatnonzero(std <= 1e-12 * np.maximum(1.0, np.abs(mean)))
        if flat.size:
            j = int(flat[0])
            name = names[j] if names else f"column {j}"
            raise DataError(
                (f"{where}: " if where else "")
                + f"feature {name!r} is constant ({mean[j]:g}) and cannot be standardized; "
                "set features.standardize = false or drop the feature"
            )
        return cls(mean=mean, std=std)

    def transform(self, X):
        """(m, n) → (m, n), scaled with the stored statistics, in ``X``'s dtype."""
        return (X - self.mean.astype(X.dtype)) / self.std.astype(X.dtype)

    def __call__(self, X):
        return self.transform(X)


class FeatureMap(NamedTuple):
    """Raw features → model inputs, fitted once on the training data.

    Attributes:
        degree: polynomial degree (1 = raw features).
        standardizer: the fitted :class:`Standardizer`, or None when not standardizing.
        bias: whether to prepend the column of ones.
    """

    degree: int
    standardizer: Standardizer | None
    bias: bool

    @classmethod
    def fit(
        cls,
        X,
        *,
        degree: int = 1,
        standardize: bool = True,
        bias: bool = True,
        names: tuple[str, ...] | None = None,
        dtype=None,
        where: str | None = None,
    ) -> FeatureMap:
        """Fits the map on (m, n) raw training features.

        Raises:
            DataError: a constant column to standardize, or (given the training ``dtype``)
                unstandardized inputs beyond its range; named, with the data's name ``where``.
        """
        poly = polynomial_features(np.asarray(X, dtype=np.float64), degree)
        poly_names = polynomial_names(names, degree) if names else None
        if not standardize and dtype is not None and poly.size:
            check_range(np.max(np.abs(poly), axis=0), poly_names, dtype, where)
        return cls(degree, Standardizer.fit(poly, poly_names, where) if standardize else None, bias)

    def __call__(self, X):
        """(m, n) raw features → (m, k) model inputs, in ``X``'s dtype."""
        Z = polynomial_features(X, self.degree)
        if self.standardizer is not None:
            Z = self.standardizer(Z)
        return add_bias(Z) if self.bias else Z


def theta_in_raw_units(theta, standardizer: Standardizer | None) -> np.ndarray:
    """The logistic θ (bias first) re-expressed on unstandardized columns.

    With z = θ0 + Σ θj (xj − μj) / sj, the same z is θ'0 + Σ θ'j xj for θ'j = θj / sj and
    θ'0 = θ0 − Σ θj μj / sj, so σ(θ'·[1, x]) on raw inputs gives the same probabilities.

    Args:
        theta: (n + 1,) parameters in standardized units.
        standardizer: the fitted statistics, or None (θ is returned as is).

    Returns:
        (n + 1,) float64 parameters in raw units.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if standardizer is None:
        return theta
    w = theta[1:] / standardizer.std
    return np.concatenate([[theta[0] - np.dot(w, standardizer.mean)], w])
