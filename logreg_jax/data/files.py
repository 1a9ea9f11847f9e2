"""Labelled datasets: loaded from text files, or generated from a PRNG key (xor, logistic).

A dataset file holds comma-separated numbers, one sample per line, the label in the last column
(0/1 for binary models, the class number 0 … K−1 for K-class ones), and optionally one header
line of column names; lines starting with ``#`` are comments. Everything here is host-side NumPy:
the data are checked once, loudly, before any JAX code sees them.
"""

from __future__ import annotations

import math
import stat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from logreg_jax.errors import DataError


class Dataset(NamedTuple):
    """A labelled dataset.

    Attributes:
        X: (m, n) float64 features.
        y: (m,) float64 labels, each 0.0 or 1.0 (class numbers 0.0 … K−1 for K-class models).
        feature_names: n column names (from the header line, else ``x1 … xn``).
        index: (m,) each row's 0-based position among the data rows it was taken from (a split's
            rows of the file); None: the rows are those rows, in order.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    index: np.ndarray | None = None


def default_feature_names(d: int) -> tuple[str, ...]:
    """``("x1", …, "xd")``, the names of columns that have none."""
    return tuple(f"x{j + 1}" for j in range(d))


def first_bad_label(y: np.ndarray) -> int | None:
    """The index of the first label that is not exactly 0 or 1, or None."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    return int(bad[0]) if bad.size else None


def bad_label(where: str, label: float, hint: str = "") -> DataError:
    """The error for a label other than 0/1, ``where`` naming the file and line or row."""
    return DataError(f"{where}: label {label:g} is not 0 or 1 (the label is the last column{hint})")


def first_bad_class(y: np.ndarray) -> int | None:
    """The index of the first label that is not a class number 0, 1, 2, …, or None."""
    bad = np.flatnonzero((y < 0) | (y != np.round(y)))
    return int(bad[0]) if bad.size else None


def count_classes(y: np.ndarray, where: str) -> int:
    """K for training labels that must be the class numbers 0 … K−1, each occurring at least once.

    Raises:
        DataError: a label is not a class number, or a class below the largest never occurs.
    """
    i = first_bad_class(y)
    if i is not None:
        raise DataError(f"{where}: row {i}: label {y[i]:g} is not a class number 0, 1, 2, …")
    k = int(y.max()) + 1
    missing = np.setdiff1d(np.arange(k), y)
    if missing.size:
        raise DataError(
            f"{where}: class {int(missing[0])} never occurs in the training data; "
            f"the labels must be the classes 0 … {k - 1}, each at least once"
        )
    return k


def check_rows(X: np.ndarray, y: np.ndarray, where: str, first_row: int, binary: bool = True) -> None:
    """Raises DataError naming the row (its index, from 0, as in NumPy) when features are not
    finite or a label is not 0 or 1 (with ``binary=False`` the labels are left to :func:`count_classes`)."""
    bad = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
    if bad.size:
        raise DataError(f"{where}: row index {first_row + int(bad[0])} has a feature that is not finite")
    i = first_bad_label(y) if binary else None
    if i is not None:
        raise bad_label(f"{where}: row index {first_row + i}", y[i])


def check_classes(positives: int, m: int, where: str) -> None:
    """A classifier needs both classes 0 and 1 among the m labels, ``positives`` of them 1."""
    if positives in (0, m):
        raise DataError(f"{where}: every label is {int(positives > 0)}; a classifier needs both classes 0 and 1")


def shown(field: str, limit: int = 40) -> str:
    """A field for an error message: quoted, cut to ``limit`` characters (a field may be megabytes)."""
    field = field.strip()
    return repr(field) if len(field) <= limit else f"{field[:limit]!r}… ({len(field):,} characters)"


def _parse_float(field: str, where: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise DataError(f"{where}: {shown(field)} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {shown(field)} is not finite (NaN and inf are not allowed)")
    return value


def _is_header(fields: list[str]) -> bool:
    """A first line is a header when none of its fields parses as a number."""

    def numeric(field: str) -> bool:
        try:
            float(field)
        except ValueError:
            return False
        return True

    return not any(numeric(f) for f in fields)


def _separator_hint(line: str) -> str:
    """For a line with the wrong number of fields: the other separator it seems to use, if any."""
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'")):
        if sep in line:
            decimal = " and decimal points (this line seems to use decimal commas)" if "," in line else ""
            return f"; the line is separated by {name}, but fields must be separated by commas{decimal}"
    return ""


def _header_name(field: str) -> str:
    """A header field as a name: without the quotes a spreadsheet export puts around it."""
    field = field.strip()
    return field[1:-1].strip() if len(field) >= 2 and field[0] == field[-1] and field[0] in "\"'" else field


def read_table(path: str | Path, min_width: int = 1) -> tuple[np.ndarray, list[str] | None, list[int]]:
    """Reads comma-separated rows of numbers; blank lines and ``#`` comments are skipped, and the
    first other line may be a header of names.

    Returns:
        ((k, w) float64 table, the header's w names or None, the file line of each row).

    Raises:
        DataError: the file is missing, unreadable or empty, a row has a field count other than the
            first row's (or fewer than ``min_width``), or a field is not a finite number; naming the line.
    """
    path = Path(path)
    try:
        if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
            # a FIFO or device would block or never end: only regular files are read
            raise DataError(f"{path}: not a regular file (a FIFO, socket or device); expected a data file")
        text = path.read_text().removeprefix("\ufeff")  # a UTF-8 byte-order mark is not part of the first name
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; expected a data file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8); expected comma-separated numbers") from None

    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise DataError(f"{path}: the file is empty, expected comma-separated rows of numbers")
    first_fields = [f.strip() for f in lines[0][1].split(",")]
    header = None
    if _is_header(first_fields):
        header, lines = [_header_name(f) for f in first_fields], lines[1:]
        if not lines:
            raise DataError(f"{path}: the file has a header line but no data rows")
    width = len(header) if header is not None else len(lines[0][1].split(","))
    if width < min_width:
        raise DataError(
            f"{path}:{lines[0][0]}: expected at least {min_width} comma-separated fields (features, "
            f"then the label){_separator_hint(lines[0][1])}"
        )
    rows = []
    for n, line in lines:
        fields = line.split(",")
        if len(fields) != width:
            raise DataError(
                f"{path}:{n}: expected {width} comma-separated fields, found {len(fields)}{_separator_hint(line)}"
            )
        try:
            rows.append([_parse_float(f, f"{path}:{n}") for f in fields])
        except DataError as err:
            raise DataError(f"{err}{_separator_hint(line)}") from None
    return np.asarray(rows, dtype=np.float64), header, [n for n, _ in lines]


def load_dataset(path: str | Path, multiclass: bool = False) -> Dataset:
    """Reads a comma-separated dataset with the label in the last column.

    Args:
        path: a text file of comma-separated fields; blank lines and lines starting with ``#``
            (comments) are skipped, the first other line may be a header of names.
        multiclass: labels may be any class number 0, 1, 2, … (for K-class models), not only 0/1.

    Returns:
        The :class:`Dataset`, with ``X`` of shape (m, n) and ``y`` of shape (m,), both float64.

    Raises:
        DataError: the file is missing or empty, a row has the wrong number of fields (naming the
            line), a field is not a finite number, a label is not 0 or 1, or only one class occurs.
    """
    table, header, line_numbers = read_table(path, min_width=2)
    names = tuple(header[:-1]) if header else None
    X, y = table[:, :-1], table[:, -1]
    i = first_bad_class(y) if multiclass else first_bad_label(y)
    if i is not None:
        if multiclass:
            raise DataError(
                f"{path}:{line_numbers[i]}: label {y[i]:g} is not a class number 0, 1, 2, … "
                "(the label is the last column)"
            )
        raise bad_label(
            f"{path}:{line_numbers[i]}",
            y[i],
            '; model.name = "logistic" is binary, "softmax" and "mlp" take the classes 0 … K−1',
        )
    if np.unique(y).size < 2:
        raise DataError(f"{path}: every label is {y[0]:g}; a classifier needs both classes 0 and 1")
    if names is None:
        names = default_feature_names(X.shape[1])
    return Dataset(X=X, y=y, feature_names=names)


# Generated data: drawn from a PRNG key, so nothing is downloaded and a seed fixes every row.
