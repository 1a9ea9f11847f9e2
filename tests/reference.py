"""Independent float64 NumPy references for the loss and its gradient (no JAX involved)."""

import numpy as np


def loss(theta, X, y, l2=0.0):
    """Mean cross-entropy from logits: log(1 + e^z) − y z, via logaddexp, plus the L2 penalty."""
    theta, X, y = (np.asarray(a, np.float64) for a in (theta, X, y))
    z = X @ theta
    m = X.shape[0]
    return np.mean(np.logaddexp(0.0, z) - y * z) + l2 / (2 * m) * np.sum(theta[1:] ** 2)


def gradient(theta, X, y, l2=0.0):
    """(1/m) Xᵀ(σ(Xθ) − y) + (l2/m)[0, θ_1, …], σ written as 1 / (1 + e^−z)."""
    theta, X, y = (np.asarray(a, np.float64) for a in (theta, X, y))
    m = X.shape[0]
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-(X @ theta)))
    reg = theta.copy()
    reg[0] = 0.0
    return X.T @ (s - y) / m + l2 / m * reg
