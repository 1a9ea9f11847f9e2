"""Checks that need the loaded data and must pass before any training starts.

Each function raises :class:`~logreg_jax.errors.ConfigError` (or
:class:`~logreg_jax.errors.DataError`) naming the key and value, so a run that could only fail
late (or report numbers that mean nothing) fails in its first second instead. :func:`check` runs
them all.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np

from logreg_jax.config import Config
from logreg_jax.data.features import n_inputs
from logreg_jax.data.files import Dataset, read_table
from logreg_jax.errors import ConfigError, DataError

# Of the memory this process may use, the most one estimated allocation may ask for: JAX, the
# data and the compiled programs need the rest.
MEMORY_SHARE = 0.5
BOOTSTRAP_BYTES = 8  # the bootstrap refits in float64 whatever the run's dtype


def available_memory() -> int:
    """Bytes this process may allocate: the least of physical memory, the address-space limit
    (``ulimit -v``) and the cgroup's ``memory.max`` (a container's limit)."""
    limits = [os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    return min(limits)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


def check_memory(key: str, value, need: float, limit: int | None = None) -> None:
    """Raises ConfigError if ``need`` bytes (what ``key = value`` asks for) exceed the share
    :data:`MEMORY_SHARE` of ``limit`` (default :func:`available_memory`)."""
    limit = available_memory() if limit is None else limit
    if need > MEMORY_SHARE * limit:
        raise ConfigError(
            f"{key} = {value!r}: needs about {_gib(need)} of memory, but this process may use "
            f"{_gib(limit)}; make it smaller"
        )


def bootstrap_bytes(cfg: Config, m: int, n: int) -> float:
    """Memory of the vmapped bootstrap (:mod:`logreg_jax.report.bootstrap`): per resample its (m,)
    row counts, the (m, n) weighted inputs of a Newton step and its (n, n) Hessian, in float64."""
    return cfg.inference.bootstrap * (m + m * n + n * n) * BOOTSTRAP_BYTES


def mlp_bytes(cfg: Config, m: int, n: int, k: int) -> float:
    """Memory of one full-batch MLP step: the parameters with their gradient and optimizer state
    (4 copies), and the (m, width) activations of every layer kept for the backward pass (2 copies)."""
    widths = [n, *cfg.model.hidden, 1 if k == 2 else k]
    params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return (4 * params + 2 * m * sum(widths)) * np.dtype(cfg.dtype).itemsize


def check_held_out(cfg: Config, data: Dataset, test: Dataset | None) -> None:
    """A held-out set that is the training file, or whose rows all are training rows, measures
    nothing held out: refused."""
    if test is None:
        return
    if cfg.data.test_path and _same_file(cfg.data.test_path, cfg.data.path):
        raise ConfigError(
            f"data.test_path = {cfg.data.test_path!r}: is the training file data.path; held-out rows must "
            "be rows the model is not trained on (a second file, or data.test_fraction)"
        )
    train_rows = {tuple(r) for r in np.column_stack([data.X, data.y]).tolist()}
    test_rows = np.column_stack([test.X, test.y]).tolist()
    if test_rows and all(tuple(r) in train_rows for r in test_rows):
        where = cfg.data.test_path or cfg.data.path
        raise DataError(
            f"{where}: every one of the {len(test_rows)} held-out rows is also a training row; its "
            "metrics would not be held-out metrics"
        )


def check_test_file_labels(cfg: Config, k: int, test: Dataset | None) -> None:
    """A held-out file's label that is no class of the training data, named by its file line
    (docs/errors.md: text files by line number), not by its row index."""
    if test is None or not cfg.data.test_path or cfg.data.test_path.endswith(".npy"):
        return
    bad = np.flatnonzero(np.asarray(test.y) >= k)
    if bad.size:
        _, _, lines = read_table(cfg.data.test_path)
        i = int(bad[0])
        raise DataError(
            f"{cfg.data.test_path}:{lines[i]}: label {test.y[i]:g} occurs in the held-out data only; "
            f"the training data have the classes 0 … {k - 1}"
        )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check(cfg: Config, data: Dataset, test: Dataset | None) -> None:
    """Every check above, for a run about to train on ``data`` (raw features, in memory)."""
    check_held_out(cfg, data, test)
    m, d = data.X.shape
    k = 2 if cfg.model.name == "logistic" else int(np.max(data.y)) + 1
    check_test_file_labels(cfg, k, test)
    n = n_inputs(d, cfg.features.polynomial_degree, True)
    if cfg.model.name == "mlp":
        check_memory("model.hidden", list(cfg.model.hidden), mlp_bytes(cfg, m, n, k))
    if cfg.inference.enabled and cfg.inference.bootstrap > 0 and cfg.model.name == "logistic":
        check_memory("inference.bootstrap", cfg.inference.bootstrap, bootstrap_bytes(cfg, m, n))
