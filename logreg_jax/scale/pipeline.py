"""Raw rows → training :class:`~logreg_jax.scale.blocks.Blocks`, writing the training inputs once.

Two streaming passes over a source, a chunk of rows at a time: the first checks the rows and
accumulates the feature statistics in float64 (no float64 copy of X); the second maps each chunk
(polynomial, standardize, bias), casts it to the training dtype and writes it, feature-major, into
a preallocated per-device buffer that is updated in place (a donated ``dynamic_update_slice``).
Peak memory is the final inputs plus one chunk. Each device's buffer holds a contiguous range of
rows, so with several processes each one reads only the rows of its own devices.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from logreg_jax.data.features import (
    FeatureMap,
    Standardizer,
    check_range,
    n_inputs,
    polynomial_features,
    polynomial_names,
)
from logreg_jax.data.files import check_classes, check_rows
from logreg_jax.errors import DataError
from logreg_jax.scale.blocks import Blocks, block_size, n_blocks

CHUNK_ROWS = 1 << 13  # rows per read: ~1 MB, so the passes stream without a second copy of X


class Moments(NamedTuple):
    """Count, column means, summed squared deviations and largest |value| of a set of rows, and
    its positives.

    The squared deviations are summed in units of ``scale`` (each column's largest |value|), so
    they cannot overflow float64 even for values near its largest (1e300² would).
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray  # Σ ((x − mean) / scale)² per column
    positives: int
    scale: np.ndarray  # max |x| per column, 1 for an all-zero column

    @property
    def std(self) -> np.ndarray:
        """The population standard deviation of each column."""
        return self.scale * np.sqrt(self.m2 / max(self.n, 1))

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets (Chan, Golub & LeVeque's pairwise update, in units of the
        larger scale)."""
        n = self.n + other.n
        if other.n == 0 or self.n == 0:
            return self if other.n == 0 else other
        scale = np.maximum(self.scale, other.scale)
        delta = other.mean / scale - self.mean / scale
        mean = scale * (self.mean / scale + delta * (other.n / n))
        m2 = (
            self.m2 * (self.scale / scale) ** 2
            + other.m2 * (other.scale / scale) ** 2
            + delta**2 * (self.n * other.n / n)
        )
        return Moments(n, mean, m2, self.positives + other.positives, scale)


def _read(source, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = source.read(lo, hi)
    check_rows(X, y, source.name, lo)
    return X, y


def moments(source, degree: int, lo: int = 0, hi: int | None = None) -> Moments:
    """The :class:`Moments` of the polynomial features of rows [lo, hi), one chunk at a time."""
    hi = source.m if hi is None else hi
    k = n_inputs(source.d, degree, bias=False)
    total = Moments(0, np.zeros(k), np.zeros(k), 0, np.ones(k))  # a process may hold no rows at all
    for start in range(lo, hi, CHUNK_ROWS):
        X, y = _read(source, start, min(hi, start + CHUNK_ROWS))
        with np.errstate(over="ignore"):
            Z = polynomial_features(X.astype(np.float64), degree)
        _check_finite(Z, source, degree, start)
        scale = np.max(np.abs(Z), axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        mean = (Z / scale).mean(axis=0)
        part = Moments(Z.shape[0], mean * scale, ((Z / scale - mean) ** 2).sum(axis=0), int(np.sum(y == 1)), scale)
        total = total.merge(part)
    return total


def _column_name(source, degree: int, j: int) -> str:
    names = polynomial_names(source.feature_names, degree) if source.feature_names else None
    return repr(names[j]) if names else f"column {j}"


def _check_finite(Z: np.ndarray, source, degree: int, first_row: int) -> None:
    """A polynomial feature of finite values can still overflow float64: name it."""
    bad = np.argwhere(~np.isfinite(Z))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise DataError(
            f"{source.name}: row index {first_row + i}: feature {_column_name(source, degree, j)} "
            "overflows float64 (the data are too large for these polynomial features); scale the data"
        )


def fit_feature_map(
    source, *, degree: int, standardize: bool, bias: bool, lo: int = 0, hi: int | None = None, gather=None, dtype=None
) -> FeatureMap:
    """The :class:`FeatureMap` of all rows, from streamed statistics.

    Args:
        source: a row source (:mod:`logreg_jax.scale.sources`).
        degree, standardize, bias: as for :meth:`FeatureMap.fit`.
        lo, hi: the rows this process reads (all by default).
        gather: with several processes, a function that all-gathers a NumPy array over them
            (each process then merges every process's moments).
        dtype: the training dtype; unstandardized inputs that do not fit it are refused.

    Raises:
        DataError: a bad row (named), a single class, a constant column, or values out of the
            range of float64 (polynomial features) or of ``dtype``.
    """
    local = moments(source, degree, lo, hi)
    parts = [local]
    if gather is not None:
        flat = gather(np.concatenate([[local.n, local.positives], local.mean, local.m2, local.scale]))
        k = local.mean.size
        parts = [
            Moments(int(r[0]), r[2 : 2 + k], r[2 + k : 2 + 2 * k], int(r[1]), r[2 + 2 * k :]) for r in np.asarray(flat)
        ]
    total = functools.reduce(Moments.merge, parts)
    check_classes(total.positives, total.n, source.name)
    names = polynomial_names(source.feature_names, degree) if source.feature_names else None
    if dtype is not None and not standardize:
        check_range(total.scale, names, dtype, source.name)
    scale = Standardizer.from_moments(total.mean, total.std, names, source.name) if standardize else None
    return FeatureMap(degree, scale, bias)


def data_mesh(devices=None) -> Mesh:
    """A one-axis mesh ``"data"`` over ``devices`` (default: every device of every process)."""
    return Mesh(np.array(jax.devices() if devices is None else devices), ("data",))


@functools.partial(jax.jit, donate_argnums=(0, 1))
def _write(X, y, X_chunk, y_chunk, block, column):
    return (
        jax.lax.dynamic_update_slice(X, X_chunk, (block, 0, column)),
        jax.lax.dynamic_update_slice(y, y_chunk, (block, column)),
    )


def _fill(source, feature_map: FeatureMap, dtype, device, n: int, block: int, nb: int, lo: int, hi: int):
    """One device's (nb, n, block) inputs and (nb, block) labels for rows [lo, hi), zero-padded,
    written ``CHUNK_ROWS`` samples at a time into buffers updated in place."""
    X = jnp.zeros((nb, n, block), dtype, device=device)
    y = jnp.zeros((nb, block), dtype, device=device)
    width = block if block <= CHUNK_ROWS else math.gcd(block, CHUNK_ROWS)  # CHUNK_ROWS: larger blocks are multiples
    for b in range(nb):
        for column in range(0, block, width):
            start = lo + b * block + column
            stop = min(hi, start + width)
            if stop <= start:
                break  # the rest is padding, already zero
            raw, labels = _read(source, start, stop)
            # A last, shorter chunk is padded with the zeros the padding holds: one program writes all.
            X_chunk, y_chunk = np.zeros((1, n, width), dtype), np.zeros((1, width), dtype)
            X_chunk[0, :, : stop - start], y_chunk[0, : stop - start] = feature_map(raw.astype(np.float64)).T, labels
            X, y = _write(X, y, X_chunk, y_chunk, b, column)
    return X, y


def _layout(source, n: int, dtype, mesh):
    """(devices in mesh order, samples per block, blocks per device, rows per device)."""
    devices = [jax.devices()[0]] if mesh is None else list(mesh.devices.flat)
    block = block_size(n, np.dtype(dtype).itemsize, -(-source.m // len(devices)))  # every device gets rows
    nb = n_blocks(source.m, block, len(devices)) // len(devices)
    return devices, block, nb, nb * block


def local_rows(source, n: int, dtype, mesh: Mesh | None) -> tuple[int, int]:
    """The rows [lo, hi) that this process's devices hold (all rows without a mesh)."""
    if mesh is None:
        return 0, source.m
    devices, _, _, rows = _layout(source, n, dtype, mesh)
    mine = [k for k, d in enumerate(devices) if d.process_index == jax.process_index()]
    return min(source.m, min(mine) * rows), min(source.m, (max(mine) + 1) * rows)


def build_blocks(source, feature_map: FeatureMap, dtype, mesh: Mesh | None = None) -> Blocks:
    """The training :class:`Blocks` of every row of ``source``, written once.

    Args:
        source: a row source. feature_map: the fitted map. dtype: the training dtype.
        mesh: shard the blocks over this mesh's ``"data"`` axis (device k of the mesh holds the
            k-th contiguous range of rows); each process fills only its own devices. None: one
            array on the default device.
    """
    dtype = np.dtype(dtype)
    n = n_inputs(source.d, feature_map.degree, feature_map.bias)
    devices, block, nb, rows = _layout(source, n, dtype, mesh)
    local = [(k, d) for k, d in enumerate(devices) if d.process_index == jax.process_index()]
    filled = [
        _fill(source, feature_map, dtype, d, n, block, nb, min(source.m, k * rows), min(source.m, (k + 1) * rows))
        for k, d in local
    ]
    if mesh is None:
        X, y = filled[0]
        return Blocks(X, y, source.m)
    sharding = NamedSharding(mesh, P("data"))
    X = jax.make_array_from_single_device_arrays((nb * len(devices), n, block), sharding, [f[0] for f in filled])
    y = jax.make_array_from_single_device_arrays((nb * len(devices), block), sharding, [f[1] for f in filled])
    return Blocks(X, y, source.m)
