"""The bootstrap of a logistic fit: N resamples of the rows, refitted together in one compiled call.

Drawing m rows with replacement is the same as weighting each row by how often it was drawn, so
every resample is the *weighted* summed negative log-likelihood on the same (m, k) inputs, and
one compiled program refits all of them at once, the members as the rows of a matrix. Each member
takes a fixed number of Newton steps from the full-data optimum: the member's own optimum is close by (about one standard error away), where
Newton converges quadratically, so a few steps reach float64 precision without a line search.
The derivatives are hand-derived rather than autodiff here only because the program then compiles
faster, and compiling is most of the bootstrap's time end to end (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.compiled import cached_call
from logreg_jax.loss import cross_entropy_terms, l2_penalty
from logreg_jax.models import logistic

NEWTON_STEPS = 12  # from the full-data optimum every non-separated exam-score member reaches ‖∇‖/m ≤ 1e-10
CHUNK = 500  # members refitted together (see refit): (500, m) float64 arrays fit in a core's cache for m ≲ 500
GRADIENT_TOL = 1e-10  # ‖∇‖/m of a converged member: the mean gradient, as train.tol measures it

# Compiled without XLA's CPU fusion emitters: they make the compile several times slower and the
# run barely faster, and the first process of a run pays the compile (later ones find it in the
# persistent cache). Lower optimization levels compile faster still but run several times slower.
_QUICK_COMPILE = {"xla_cpu_use_fusion_emitters": False}


def weighted_nll(theta, X, y, w, l2=0.0):
    """Σ_i w_i · (cross-entropy of sample i) + (l2 / 2) Σ_{j≥1} θ_j², the bias θ_0 unpenalized.

    With w = 1 this is m × :func:`logreg_jax.loss.objective`: the summed (not mean) penalized
    negative log-likelihood, whose Hessian is the observed information.

    Args:
        theta: (k,) parameters, θ_0 the bias.
        X: (m, k) model inputs with the bias column.
        y: (m,) labels in {0, 1}.
        w: (m,) row weights (bootstrap counts, or ones).
        l2: penalty strength λ ≥ 0.

    Returns:
        Scalar in θ's dtype.
    """
    return cross_entropy_terms(X @ theta, y) @ w.astype(theta.dtype) + l2_penalty(logistic.weights(theta), l2, 1)


@jax.jit
def separated(theta, X, y, w=None):
    """Whether θ puts every (weighted) training point strictly on its own side of the boundary.

    Then θ itself separates the data, the likelihood grows without bound along c·θ (c → ∞), and
    without a penalty no finite maximum-likelihood estimate exists. Never true of data that are
    not separable, whatever θ, so it cannot refuse a valid fit.

    Args:
        theta: (k,); X: (m, k); y: (m,) in {0, 1}; w: optional (m,) weights (rows with w = 0 do not count).

    Returns:
        Boolean scalar.
    """
    right = (2 * y.astype(theta.dtype) - 1) * (X @ theta) > 0
    return jnp.all(right if w is None else right | (w == 0))


def newton_terms(theta, X, y, w, l2=0.0):
    """The gradient and Hessian of :func:`weighted_nll`, hand-derived (tests check them against
    ``jax.grad``/``jax.hessian``): the bootstrap's program compiles faster with them than with
    autodiff's, and compiling is most of its time end to end.

    With p = σ(Xθ): ∇ = Xᵀ (w ⊙ (p − y)) + λ [0, θ_1, …], H = Xᵀ diag(w ⊙ p (1 − p)) X + λ diag(0, 1, …, 1).

    Returns:
        (k,) gradient and (k, k) Hessian in θ's dtype.
    """
    z = X @ theta
    mask = jnp.ones_like(theta).at[0].set(0)
    # σ(z) σ(−z) rather than p (1 − p): it keeps its relative accuracy where σ(z) rounds to 1.
    curvature = w * jax.nn.sigmoid(z) * jax.nn.sigmoid(-z)
    return X.T @ (w * (jax.nn.sigmoid(z) - y)) + l2 * mask * theta, (X.T * curvature) @ X + jnp.diag(l2 * mask)


def resample_counts(key, n: int, m: int) -> np.ndarray:
    """How often each of m rows is drawn in each of n resamples with replacement: (n, m) unsigned integers.

    Drawn on the host by NumPy, seeded with the key's bits: m uniform row numbers per resample,
    counted by ``bincount`` a block of resamples at a time (multinomial counts, several times faster than NumPy's
    ``multinomial``, which loops over the resamples). Compiling JAX's threefry bits for an (n, m)
    draw would take longer than all the refits, and the counts do not depend on the run's float precision.
    A count is at most m, so they are stored in the smallest unsigned type that holds m (``uint8`` up
    to 255 rows, ``uint16`` up to 65,535): the array the refits read and copy to the device is a
    quarter or half the size of ``int32``.
    """
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)))
    counts = np.empty((n, m), np.min_scalar_type(m))
    block = 128  # resamples at a time: bincount's (block · m) int64 counts stay in cache
    for lo in range(0, n, block):
        b = min(n, lo + block) - lo
        rows = rng.integers(0, m, size=(b, m), dtype=np.int32) + (m * np.arange(b, dtype=np.int32))[:, None]
        counts[lo : lo + b] = np.bincount(rows.ravel(), minlength=b * m).reshape(b, m)
    return counts


def refit(theta, X, y, counts, l2=0.0, steps: int = NEWTON_STEPS):
    """Newton refits of the weighted fits, one per row of ``counts``, all members in one program.

    The members are shared out among the local devices (``jax.local_devices()``): where a script
    made one CPU device per core (:func:`logreg_jax.cli.args.use_cpu_cores`), every core refits its
    share at once; on one device, all of them go through :func:`_refit_members` there.

    Args:
        theta: (k,) starting point, the full-data optimum.
        X: (m, k) model inputs with the bias column; y: (m,) labels.
        counts: (n, m) row weights, one resample per row (:func:`resample_counts`).
        l2: penalty strength λ ≥ 0.
        steps: Newton steps per member.

    Returns:
        (n, k) refitted θ, and (n,) bool: the member converged (finite, gradient norm over m at
        most :data:`GRADIENT_TOL`, and, for l2 = 0, not separated: such a resample has no finite estimate).
    """
    # Kept on disk when the compilation cache is on: a second process runs it without tracing it.
    return cached_call(_refit_on, theta, X, y, counts, l2, steps=steps, devices=tuple(jax.local_devices()))


@functools.partial(jax.jit, static_argnames=("steps", "devices"), compiler_options=_QUICK_COMPILE)
def _refit_on(theta, X, y, counts, l2, steps: int, devices: tuple):
    """:func:`refit` on ``devices``: the members padded with full-data ones to a multiple of their
    number, an equal share on each (a ``shard_map``: one program, compiled once, run on all)."""
    n, m = counts.shape
    if len(devices) == 1:
        return _refit_members(theta, X, y, counts, l2, steps)
    padded = jnp.concatenate([counts, jnp.ones(((-n) % len(devices), m), counts.dtype)])
    shared = jax.sharding.PartitionSpec("members")  # theta, X, y, l2: closed over, whole on every device
    T, ok = jax.shard_map(
        lambda c: _refit_members(theta, X, y, c, l2, steps),
        mesh=jax.sharding.Mesh(np.array(devices), ("members",)),
        in_specs=shared,
        out_specs=(shared, shared),
        check_vma=False,  # no collectives: each device refits its own members
    )(padded)
    return T[:n], ok[:n]


def _refit_members(theta, X, y, counts, l2, steps: int):
    """:func:`refit` of the members of one device.

    The members go through in chunks of :data:`CHUNK`, each chunk taking every Newton step before
    the next starts: its (CHUNK, m) arrays stay in cache through the steps, where all n members at
    once would stream (n, m) arrays through memory at every step (on 10,000 breast-cancer
    resamples, 1.4× slower). The last chunk is padded with full-data members. Every loop is a
    ``lax.while_loop``, not a ``lax.map`` or ``fori_loop``: those are scans, which JAX traces a
    second time to lower them, and tracing and lowering are most of what a second process pays.
    """
    (n, m), k = counts.shape, theta.size
    # Row i's x_i x_iᵀ, its k (k + 1) / 2 distinct entries: every member's Hessian is then one
    # (n, m) × (m, k (k + 1) / 2) product (about half the work of all k² entries), spread back to
    # the k² entries by a 0/1 matrix: products, which trace and lower far faster than gathers.
    rows, cols = np.tril_indices(k)
    pick = np.eye(k)  # columns selected by products with rows of the identity, not a gather
    outer = (X @ jnp.asarray(pick[:, rows], X.dtype)) * (X @ jnp.asarray(pick[:, cols], X.dtype))
    spread = np.zeros((rows.size, k, k))
    spread[np.arange(rows.size), rows, cols] = spread[np.arange(rows.size), cols, rows] = 1
    hessian = (outer, jnp.asarray(spread.reshape(rows.size, k * k), X.dtype))
    chunk = min(CHUNK, n)
    padded = jnp.concatenate([counts, jnp.ones(((-n) % chunk, m), counts.dtype)])

    def next_chunk(carry):  # the chunks in turn, each writing its (chunk, k) refits and (chunk,) flags
        i, T, ok = carry
        Ti, oki = _refit_chunk(theta, X, y, jax.lax.dynamic_slice_in_dim(padded, i, chunk), l2, hessian, steps)
        return (
            i + chunk,
            jax.lax.dynamic_update_slice_in_dim(T, Ti, i, 0),
            jax.lax.dynamic_update_slice_in_dim(ok, oki, i, 0),
        )

    total = padded.shape[0]
    start = (0, jnp.zeros((total, k), X.dtype), jnp.zeros(total, bool))
    _, T, ok = jax.lax.while_loop(lambda carry: carry[0] < total, next_chunk, start)
    return T[:n], ok[:n]


def _refit_chunk(theta, X, y, counts, l2, hessian, steps: int):
    """:func:`refit` of one chunk of members, the rows of an (n, k) matrix rather than a ``jax.vmap``
    of one fit: every step is two (n, m) × (m, k) products, one (n, m) × (m, k (k + 1) / 2) product for
    the Hessians, one exponential per (member, row) and a batched Gauss–Jordan solve: a handful of
    primitives that trace and lower in milliseconds, whatever n, m and k are, so a second process
    that finds the compiled program in the persistent cache starts it at once.

    Args:
        hessian: (m, k (k + 1) / 2) distinct entries of every x_i x_iᵀ, and the (k (k + 1) / 2, k²)
            0/1 matrix that spreads them to all k² entries (see :func:`refit`).
    """
    W = counts.astype(X.dtype)
    m, k = X.shape
    outer, spread = hessian
    mask = np.ones(k, X.dtype)  # the penalized entries: all but the bias (a constant, not a scatter)
    mask[0] = 0

    def terms(T):  # (n, k) -> (n, k) gradients, (n, m) curvatures and margins
        Z = T @ X.T
        # One exponential for σ(z) and σ(z) σ(−z) = e / (1 + e)², e = exp(−|z|): exact in the
        # tails, where p (1 − p) would round to 0 once σ(z) rounds to 1.
        e = jnp.exp(-jnp.abs(Z))
        r = 1 / (1 + e)
        p = jnp.where(Z >= 0, r, e * r)
        return (W * (p - y)) @ X + l2 * mask * T, W * (e * r * r), Z

    def step(T):
        G, C, _ = terms(T)
        H = ((C @ outer) @ spread).reshape(-1, k, k) + l2 * np.diag(mask)
        return T - solve_spd(H, G)

    # A fixed count (no early exit: testing convergence compiles slower than the steps it would save).
    start = (0, jnp.broadcast_to(theta, (W.shape[0], k)))
    _, T = jax.lax.while_loop(lambda c: c[0] < steps, lambda c: (c[0] + 1, step(c[1])), start)
    Z = T @ X.T  # the check needs no curvatures: σ alone gives the gradient
    G = (W * (jax.nn.sigmoid(Z) - y)) @ X + l2 * mask * T
    small = jnp.sqrt(jnp.sum(G * G, axis=1)) <= GRADIENT_TOL * m
    right = ((2 * y - 1) * Z > 0) | (W == 0)  # separated: every drawn row on its own side (see separated)
    ok = jnp.all(jnp.isfinite(T), axis=1) & small & ((l2 > 0) | ~jnp.all(right, axis=1))
    return T, ok


def solve_spd(H, G):
    """x = H⁻¹ g for a batch of small symmetric positive-definite systems: (n, k, k), (n, k) → (n, k).

    Gauss–Jordan elimination without pivoting (stable for positive-definite matrices: every pivot is
    a positive Schur complement), k eliminations in a ``while_loop`` over [H | g] laid out members
    last, (k, k + 1, n): each elimination reads row j and column j and updates the rest in passes
    along the members, which vectorize (members first, the passes would run along k + 1 entries).
    Not ``jnp.linalg.solve`` or a Cholesky: the first LAPACK call a process lowers imports
    ``scipy.linalg`` for its kernels, which costs more than the whole compiled bootstrap.
    """
    k = H.shape[-1]
    A = jnp.concatenate([H, G[..., None]], axis=-1).transpose(1, 2, 0)  # (k, k + 1, n): [H | g]
    rows = jnp.arange(k)[:, None, None]

    def eliminate(carry):
        j, A = carry
        pivot_row = jax.lax.dynamic_index_in_dim(A, j, 0, keepdims=False)  # (k + 1, n)
        r = pivot_row / jax.lax.dynamic_index_in_dim(pivot_row, j, 0)  # scaled to a unit pivot
        column = jax.lax.dynamic_index_in_dim(A, j, 1, keepdims=False)  # (k, n): column j of every row
        return j + 1, jnp.where(rows == j, r, A - column[:, None, :] * r)

    return jax.lax.while_loop(lambda carry: carry[0] < k, eliminate, (0, A))[1][:, k, :].T


def bootstrap(key, theta, X, y, n: int, l2=0.0, steps: int = NEWTON_STEPS):
    """n bootstrap refits of a logistic fit: resamples drawn from ``key``, refitted in one compiled call.

    Args:
        key: PRNG key of the resamples (:func:`resample_counts`).
        theta: (k,) the full-data optimum; X: (m, k) inputs with the bias column; y: (m,) labels.
        n: resamples; l2: penalty strength; steps: Newton steps per member.

    Returns:
        (n, k) refitted θ and (n,) converged flags (see :func:`refit`).
    """
    return refit(theta, X, y, resample_counts(key, n, X.shape[0]), l2, steps=steps)
