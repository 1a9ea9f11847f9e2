"""Held-out data: a stratified random split of the rows, or a second file.

The split is drawn from a PRNG key (the run's ``split`` key, see :class:`logreg_jax.fit.Keys`), so
the seed fixes it; it is stratified, so every class keeps its share of the rows on both sides.
"""

from __future__ import annotations

import jax
import numpy as np

from logreg_jax.data.files import Dataset, load_dataset
from logreg_jax.errors import DataError


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
    order = np.asarray(jax.random.permutation(key, y.size))
    # A stable sort by class of a random permutation: each class's rows in random order.
    order = order[np.argsort(y[order], kind="stable")]
    _, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
    test = []
    for start, n in zip(starts, counts):
        k = int(np.clip(np.round(fraction * n), 1 if fraction > 0 else 0, n - 1))
        test.append(order[start : start + k])
    test = np.sort(np.concatenate(test)) if test else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(y.size), test)
    return train, test


def subset(data: Dataset, rows: np.ndarray) -> Dataset:
    """The given rows of a dataset."""
    return Dataset(data.X[rows], data.y[rows], data.feature_names)


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
