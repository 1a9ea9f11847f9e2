"""Rows to predict: comma-separated text (an optional header line) or a 2-D ``.npy`` array, each row
the raw features of a sample, optionally followed by a 0/1 label (told apart by the column count).

Training files always carry the label (:mod:`logreg_jax.data.files`); new data may not, and may hold a
single class, so they are read here with the same parsing rules and messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from logreg_jax.data.files import bad_label, default_feature_names, read_table
from logreg_jax.errors import DataError


class Rows(NamedTuple):
    """Rows to predict.

    Attributes:
        X: (k, d) float64 raw features.
        y: (k,) float64 0/1 labels, or None when the data have no label column.
        feature_names: d column names (the file's header, else the run's names).
        label_name: the label column's name (``"label"`` without a header).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: tuple[str, ...]
    label_name: str = "label"


def read_rows(path: str | Path, feature_names: tuple[str, ...], n_classes: int = 2) -> Rows:
    """Reads comma-separated text (an optional header line of names) or a 2-D ``.npy`` array.

    With d = ``len(feature_names)``, rows of d columns are features only; rows of d + 1 columns
    carry the label last, as in training files: a class 0 … ``n_classes`` − 1.

    Raises:
        DataError: the file is missing, empty or malformed, a value is not a finite number, the
            column count is neither d nor d + 1, or a label is not a class of the model; naming the line or row.
    """
    path, d = Path(path), len(feature_names)
    table, names, lines = (_read_npy(path), None, None) if path.suffix == ".npy" else read_table(path)
    if names is not None and tuple(feature_names) != default_feature_names(d):  # both files have headers
        table, names = _by_name(path, table, names, tuple(feature_names))
    width = table.shape[1]
    if width not in (d, d + 1):
        raise DataError(
            f"{path}: {width} columns; the run's model takes {d} features "
            f"({', '.join(feature_names)}), so expected {d} columns, or {d + 1} with the label last"
        )
    if width == d:
        return Rows(table, None, tuple(names) if names else tuple(feature_names))
    y = table[:, -1]
    bad = np.flatnonzero((y < 0) | (y >= n_classes) | (y != np.round(y)))
    if bad.size:
        i = int(bad[0])
        where = f"{path}:{lines[i]}" if lines else f"{path}: row {i}"
        if n_classes == 2:
            raise bad_label(where, y[i])
        raise DataError(f"{where}: label {y[i]:g} is not one of the model's classes 0 … {n_classes - 1}")
    return Rows(table[:, :-1], y, tuple(names[:-1]) if names else tuple(feature_names), names[-1] if names else "label")


def _by_name(path: Path, table: np.ndarray, names: list[str], features: tuple[str, ...]):
    """The columns of ``table`` reordered to the run's ``features`` by header name, a label column
    (the one other name) last; a feature the header lacks, or more than one other column, is an error."""
    missing = [f for f in features if f not in names]
    if missing:
        raise DataError(
            f"{path}: the header has no column {missing[0]!r}; the run was trained on "
            f"{', '.join(features)} (found {', '.join(names)}); columns are matched by name"
        )
    others = [i for i, n in enumerate(names) if n not in features]
    if len(others) > 1:
        raise DataError(
            f"{path}: columns {', '.join(names[i] for i in others)} are not features of the run "
            f"({', '.join(features)}); at most one other column, the label, may follow"
        )
    order = [names.index(f) for f in features] + others
    return table[:, order], [names[i] for i in order]


def _read_npy(path: Path) -> np.ndarray:
    try:
        table = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (ValueError, OSError) as err:
        raise DataError(f"{path}: not a .npy array file ({err})") from None
    if table.ndim != 2 or table.shape[0] == 0 or table.dtype.kind not in "fiub":
        raise DataError(f"{path}: expected a 2-D numeric array of rows, found shape {table.shape}, dtype {table.dtype}")
    table = table.astype(np.float64)
    bad = np.flatnonzero(~np.all(np.isfinite(table), axis=1))
    if bad.size:
        raise DataError(f"{path}: row {int(bad[0])} has a value that is not finite")
    return table
