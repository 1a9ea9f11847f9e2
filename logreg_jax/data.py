"""Loading labelled datasets from text files.

A dataset file holds comma-separated numbers, one sample per line, the 0/1 label in the last
column, and optionally one header line of column names; lines starting with ``#`` are comments.
Everything here is host-side NumPy: the data are checked once, loudly, before any JAX code sees them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from logreg_jax.errors import DataError


class Dataset(NamedTuple):
    """A labelled dataset.

    Attributes:
        X: (m, n) float64 features.
        y: (m,) float64 labels, each 0.0 or 1.0.
        feature_names: n column names (from the header line, else ``x1 … xn``).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]


def default_feature_names(d: int) -> tuple[str, ...]:
    """``("x1", …, "xd")``, the names of columns that have none."""
    return tuple(f"x{j + 1}" for j in range(d))


def first_bad_label(y: np.ndarray) -> int | None:
    """The index of the first label that is not exactly 0 or 1, or None."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    return int(bad[0]) if bad.size else None


def bad_label(where: str, label: float) -> DataError:
    """The error for a label other than 0/1, ``where`` naming the file and line or row."""
    return DataError(f"{where}: label {label:g} is not 0 or 1 (the label is the last column)")


def _parse_float(field: str, where: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise DataError(f"{where}: {field.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {field.strip()!r} is not finite (NaN and inf are not allowed)")
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
            return f"; the line is separated by {name}, but fields must be separated by commas"
    return ""


def load_dataset(path: str | Path) -> Dataset:
    """Reads a comma-separated dataset with the label in the last column.

    Args:
        path: a text file of comma-separated fields; blank lines and lines starting with ``#``
            (comments) are skipped, the first other line may be a header of names.

    Returns:
        The :class:`Dataset`, with ``X`` of shape (m, n) and ``y`` of shape (m,), both float64.

    Raises:
        DataError: the file is missing or empty, a row has the wrong number of fields (naming the
            line), a field is not a finite number, a label is not 0 or 1, or only one class occurs.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; expected a data file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (not UTF-8); expected comma-separated numbers") from None

    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise DataError(f"{path}: the file is empty, expected comma-separated rows of numbers")

    first_fields = [f.strip() for f in lines[0][1].split(",")]
    names = None
    if _is_header(first_fields):
        names = tuple(first_fields[:-1])
        lines = lines[1:]
        if not lines:
            raise DataError(f"{path}: the file has a header line but no data rows")

    width = len(names) + 1 if names is not None else len(lines[0][1].split(","))
    if width < 2:
        raise DataError(f"{path}:{lines[0][0]}: expected at least 2 comma-separated fields (features, then the "
                        f"label){_separator_hint(lines[0][1])}")
    rows = []
    for n, line in lines:
        fields = line.split(",")
        if len(fields) != width:
            raise DataError(f"{path}:{n}: expected {width} comma-separated fields, found {len(fields)}"
                            f"{_separator_hint(line)}")
        rows.append([_parse_float(f, f"{path}:{n}") for f in fields])

    table = np.asarray(rows, dtype=np.float64)
    X, y = table[:, :-1], table[:, -1]
    i = first_bad_label(y)
    if i is not None:
        raise bad_label(f"{path}:{lines[i][0]}", y[i])
    if np.unique(y).size < 2:
        raise DataError(f"{path}: every label is {y[0]:g}; a classifier needs both classes 0 and 1")
    if names is None:
        names = default_feature_names(X.shape[1])
    return Dataset(X=X, y=y, feature_names=names)
