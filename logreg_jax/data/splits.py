"""Splits of the rows: a held-out set (a stratified random split, or a second file) and k folds.

Both stratify from one shuffle (:func:`class_order`: each class's rows in an order drawn from a
PRNG key), so every class keeps its share of the rows on every side, and the key fixes the split:
the run's ``split`` key (:class:`logreg_jax.fit.Keys`) for the held-out set, ``cv.seed`` for folds.
"""

from __future__ import annotations

import os

import jax
import numpy as np

from logreg_jax.data.files import Dataset, load_dataset, read_table
from logreg_jax.errors import ConfigError, DataError


def class_order(key, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows grouped by class, each class's rows in random order: (order, starts, counts).

    Args:
        key: a PRNG key; the same key and labels give the same order.
        y: (m,) labels (class numbers).

    Returns:
        ``order`` (m,) row indices; class c's rows are ``order[starts[c] : starts[c] + counts[c]]``.
    """
    order = np.asarray(jax.random.permutation(key, y.size))
    # A stable sort by class of a random permutation: each class's rows in random order.
    order = order[np.argsort(y[order], kind="stable")]
    _, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
    return order, starts, counts


def stratified_split(key, y: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test): of each class's n_c rows, round(fraction · n_c) go to the test side.

    Each class keeps at least one training row (and with fraction > 0 and n_c ≥ 2, gives at least
    one test row), so the model sees every class and each class is tested.

    Args:
        key: a PRNG key; the same key and labels give the same split.
        y: (m,) labels (class numbers).
        fraction: the share of each class held out, in [0, 1).

    Returns:
        Two sorted int arrays that partition range(m).
    """
    order, starts, counts = class_order(key, y)
    test = []
    for start, n in zip(starts, counts):
        k = int(np.clip(np.round(fraction * n), 1 if fraction > 0 else 0, n - 1))
        test.append(order[start : start + k])
    test = np.sort(np.concatenate(test)) if test else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(y.size), test)
    return train, test


def stratified_kfold(y, k: int, *, key, name: str = "cv.k") -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits row indices into ``k`` folds with (nearly) the class proportions of ``y``.

    The rows of :func:`class_order` (classes end to end, each shuffled) are dealt round-robin to
    the folds, so within a class the fold counts differ by at most one, and so do the fold sizes.

    Args:
        y: (m,) class labels (any values; typically 0/1).
        k: number of folds, 2 ≤ k ≤ the size of the smallest class.
        key: a JAX PRNG key; the same key gives the same folds.
        name: the config key that sets ``k``, for the error message.

    Returns:
        ``k`` pairs (train indices, validation indices), each sorted int64; the validation sets
        are disjoint, their union is every index, and each train set is the complement.

    Raises:
        ConfigError: ``k`` is not an integer in [2, smallest class size].
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min()) if counts.size else 0
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= smallest:
        which = f"class {classes[counts.argmin()]:g} has {smallest} samples" if counts.size else "no samples"
        raise ConfigError(
            f"{name} = {k!r} folds: expected an integer with 2 <= k <= {smallest}, "
            f"the size of the smallest class ({which}), so every fold holds every class"
        )
    fold_of = np.empty(y.size, dtype=np.int64)
    fold_of[class_order(key, y)[0]] = np.arange(y.size) % k
    everything = np.arange(y.size)
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]


def subset(data: Dataset, rows: np.ndarray) -> Dataset:
    """The given rows of a dataset, each remembering its position in the rows ``data`` came from."""
    index = rows if data.index is None else data.index[rows]
    return Dataset(data.X[rows], data.y[rows], data.feature_names, np.asarray(index))


def check_held_out(data_cfg, data: Dataset, test: Dataset | None) -> None:
    """A held-out set that is the training file, or whose rows all are training rows, measures
    nothing held out: refused."""
    if test is None:
        return
    if data_cfg.test_path and _same_file(data_cfg.test_path, data_cfg.path):
        raise ConfigError(
            f"data.test_path = {data_cfg.test_path!r}: is the training file data.path; held-out rows must "
            "be rows the model is not trained on (a second file, or data.test_fraction)"
        )
    train_rows = {tuple(r) for r in np.column_stack([data.X, data.y]).tolist()}
    test_rows = np.column_stack([test.X, test.y]).tolist()
    if test_rows and all(tuple(r) in train_rows for r in test_rows):
        where = data_cfg.test_path or data_cfg.path
        raise DataError(
            f"{where}: every one of the {len(test_rows)} held-out rows is also a training row; its "
            "metrics would not be held-out metrics"
        )


def check_test_labels(data_cfg, k: int, test: Dataset | None) -> None:
    """A held-out file's label that is no class of the training data, named by its file line
    (docs/errors.md: text files by line number), not by its row index."""
    if test is None or not data_cfg.test_path or data_cfg.test_path.endswith(".npy"):
        return
    bad = np.flatnonzero(np.asarray(test.y) >= k)
    if bad.size:
        _, _, lines = read_table(data_cfg.test_path)
        i = int(bad[0])
        raise DataError(
            f"{data_cfg.test_path}:{lines[i]}: label {test.y[i]:g} occurs in the held-out data only; "
            f"the training data have the classes 0 … {k - 1}"
        )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def split(data: Dataset, data_cfg, key, multiclass: bool) -> tuple[Dataset, Dataset | None]:
    """(training data, held-out data or None) as ``data.test_fraction`` / ``data.test_path`` ask.

    Args:
        data: every row of ``data.path``.
        data_cfg: the ``DataConfig``.
        key: the run's split key.
        multiclass: whether labels may be class numbers beyond 0/1 (for the test file's checks).

    Raises:
        DataError: the test file is unreadable or has a different number of features.
    """
    if data_cfg.test_path:
        test = load_dataset(data_cfg.test_path, multiclass)
        if test.X.shape[1] != data.X.shape[1]:
            raise DataError(
                f"{data_cfg.test_path}: {test.X.shape[1]} features, but the training data "
                f"{data_cfg.path} have {data.X.shape[1]}"
            )
        return data, test
    if data_cfg.test_fraction > 0:
        train, test = stratified_split(key, np.asarray(data.y), data_cfg.test_fraction)
        return subset(data, train), subset(data, test)
    return data, None
