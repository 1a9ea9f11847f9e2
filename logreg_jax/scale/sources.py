"""Where training rows come from, read a range or a set of rows at a time, never all at once.

A source has ``m`` samples of ``d`` raw features and the 0/1 labels, and hands out rows on
request: ``read(lo, hi)`` for a contiguous range, ``take(idx)`` for sorted row indices. Three kinds:

- :class:`ArraySource`: a :class:`~logreg_jax.data.files.Dataset` already in memory (the text files);
- :class:`NpySource`: a ``.npy`` file holding one (m, d + 1) array, label last, memory-mapped;
  the pages of each read are handed back to the kernel afterwards, so the resident memory stays
  at one chunk however large the file;
- :class:`SyntheticSource`: labels from a logistic model on Gaussian features, generated chunk by
  chunk from a PRNG key, so any row range can be produced without the others.

``X`` and ``y`` attributes give the whole data lazily (a memory map, or generated on access) for
the few consumers that need raw rows, such as the two-feature probability map.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import jax
import numpy as np

from logreg_jax.config import data_name
from logreg_jax.data.files import Dataset, default_feature_names, load_dataset
from logreg_jax.data.generators import synthetic_chunk, xor_dataset
from logreg_jax.errors import DataError


class ArraySource:
    """Rows of an in-memory :class:`Dataset`."""

    def __init__(self, data: Dataset, name: str = "<data>"):
        self.dataset, self.name = data, name
        self.X, self.y, self.feature_names = data.X, data.y, data.feature_names
        self.m, self.d = data.X.shape

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        return self.X[lo:hi], self.y[lo:hi]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.X[idx], self.y[idx]


class NpySource:
    """A memory-mapped ``.npy`` file of shape (m, d + 1): features, then the label.

    Reads copy the requested rows and then drop the mapped pages from this process
    (``madvise(MADV_DONTNEED)``): the file stays in the page cache, not in the resident set.
    """

    def __init__(self, path: str | Path):
        self.name = str(path)
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, fortran, dtype = read_header(f)
                offset = f.tell()
        except FileNotFoundError:
            raise DataError(f"{path}: no such data file") from None
        except OSError as err:
            raise DataError(f"{path}: cannot read the data file ({err.strerror or err})") from None
        except ValueError as err:
            raise DataError(f"{path}: not a .npy file ({err})") from None
        if len(shape) != 2 or shape[1] < 2 or shape[0] < 1 or fortran or dtype.kind != "f":
            raise DataError(
                f"{path}: expected one C-ordered 2-D float array (m, d + 1), features then "
                f"the label; found shape {shape}, dtype {dtype}{', Fortran order' if fortran else ''}"
            )
        self.m, self.d = shape[0], shape[1] - 1
        self.feature_names = default_feature_names(self.d)
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            table = np.frombuffer(self._map, dtype, count=shape[0] * shape[1], offset=offset)
        except ValueError:
            raise DataError(f"{path}: the file is shorter than its header's shape {shape} needs (truncated?)") from None
        self._table = table.reshape(shape)

    @property
    def X(self) -> np.ndarray:
        """(m, d) read-only view of the mapped file (pages are loaded only where touched)."""
        return self._table[:, :-1]

    @property
    def y(self) -> np.ndarray:
        return self._table[:, -1]

    WINDOW = 4 << 20  # bytes of the file mapped at a time by take()

    def _copy(self, rows) -> np.ndarray:
        table = np.array(self._table[rows])
        self._map.madvise(mmap.MADV_DONTNEED)  # hand the touched pages back; the copy stays
        return table

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        table = self._copy(slice(lo, hi))
        return table[:, :-1], table[:, -1]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``idx`` (sorted), one file window at a time: the kernel maps the neighbours of
        every touched page too (fault-around), so scattered rows would otherwise map the whole file."""
        window = idx // max(1, self.WINDOW // self._table.strides[0])
        cuts = np.flatnonzero(np.diff(window)) + 1
        table = np.concatenate([self._copy(part) for part in np.split(idx, cuts)])
        return table[:, :-1], table[:, -1]


class SyntheticSource:
    """Labels from a logistic model on Gaussian features, generated in chunks of ``CHUNK`` rows.

    x ~ N(0, I_d); a true θ* ~ N(0, 4/d) (bias 0.5) gives logits of standard deviation ≈ 2, so the
    classes overlap (a finite maximum-likelihood fit exists) but are well predictable; then
    y ~ Bernoulli(σ(θ*·[1, x])). Chunk c is drawn from ``fold_in(data_key, c)``, so any range of
    rows can be generated alone and the same seed always gives the same rows.
    """

    CHUNK = 1 << 16

    def __init__(self, m: int, d: int, *, key, dtype=np.float32, name: str = "synthetic"):
        self.m, self.d, self.dtype, self.name = m, d, np.dtype(dtype), name
        self.feature_names = default_feature_names(d)
        self._key = key
        self._last = self._all = None

    def _chunk(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        # The last chunk is kept: streaming reads are smaller than a chunk and come in order.
        if self._last is None or self._last[0] != c:
            X, y = synthetic_chunk(self._key, c, self.CHUNK, self.d)
            self._last = (c, (np.asarray(X), np.asarray(y, np.float32)))
        return self._last[1]

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [self._chunk(c) for c in range(lo // self.CHUNK, -(-hi // self.CHUNK))]
        start = lo // self.CHUNK * self.CHUNK
        X = np.concatenate([p[0] for p in parts])[lo - start : hi - start]
        y = np.concatenate([p[1] for p in parts])[lo - start : hi - start]
        return X.astype(self.dtype), y.astype(self.dtype)

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Rows in random order would regenerate every chunk for every batch: generate all rows
        # once, on the first request (minibatches over synthetic data hold it in memory).
        if self._all is None:
            self._all = self.read(0, self.m)
        return self._all[0][idx], self._all[1][idx]

    @property
    def X(self) -> np.ndarray:
        return self.read(0, self.m)[0]

    @property
    def y(self) -> np.ndarray:
        return self.read(0, self.m)[1]


def open_source(data_cfg, data: Dataset | None = None, *, key=None):
    """The source a ``DataConfig`` names: ``data`` itself when given; synthetic rows when
    ``data.synthetic.m`` > 0 (the config refuses it together with ``"xor"``); the built-in ``"xor"`` dataset (drawn from ``key``, the run's data
    key); else the file ``data.path`` (``.npy`` memory-mapped; text loaded by
    :func:`~logreg_jax.data.files.load_dataset`)."""
    if data is not None:
        return ArraySource(data, data_cfg.path)
    syn = data_cfg.synthetic
    if syn.m > 0:
        return SyntheticSource(syn.m, syn.d, key=jax.random.key(syn.seed), name=data_name(data_cfg))
    if data_cfg.path == "xor":
        return ArraySource(xor_dataset(key, data_cfg.xor.m, data_cfg.xor.noise), "xor")
    if str(data_cfg.path).endswith(".npy"):
        return NpySource(data_cfg.path)
    return ArraySource(load_dataset(data_cfg.path), data_cfg.path)
