"""Training inputs stored for streaming: feature-major blocks of samples.

Inputs X (m, n) are stored as ``Blocks.X`` of shape (nb, n, B): block b holds samples
bB … bB + B − 1, one row per input column. Why feature-major: a linear model's logits contract
over the feature axis, so θ @ X_b and the gradient's X_b r both stream contiguous memory. With X
stored (m, n), XLA on CPU materialises a transposed copy of X for Xᵀr every epoch.

Blocks are as large as ``MAX_BLOCK_BYTES`` allows, so normally one per device: a ``lax.scan``
over small blocks was about twice as slow per epoch (XLA's loop slices each block out and runs its
small dots on one thread; docs/scale.md).
Blocks remain the unit of sharding and bound the size of one XLA operation. Padding after the m
samples is zero and masked out of every sum by the sample's index (:mod:`logreg_jax.scale.block_loss`),
so no weight array is stored.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from logreg_jax.models.base import Model

MAX_BLOCK_BYTES = 1 << 31  # one block per device unless the inputs exceed 2 GB per device
HVP_CHUNK = 8192  # samples per Hessian-vector-product step (blocks larger than this are multiples of it)


@functools.partial(jax.tree_util.register_dataclass, data_fields=["X", "y"], meta_fields=["m"])
@dataclasses.dataclass(frozen=True)
class Blocks:
    """Training inputs in feature-major blocks.

    Attributes:
        X: (nb, n, B) inputs, block b holding samples bB … bB + B − 1 (zero padding after m).
        y: (nb, B) labels in {0, 1}, in X's dtype (zero padding after m).
        m: the number of real samples (static: it fixes the mask and the mean).
    """

    X: jax.Array
    y: jax.Array
    m: int

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def block(self) -> int:
        return self.X.shape[2]


def block_size(n_inputs: int, itemsize: int, m: int | None = None) -> int:
    """Samples per block: a multiple of 128 (of ``HVP_CHUNK`` beyond it), at most about
    ``MAX_BLOCK_BYTES``, no more than m need."""
    size = max(HVP_CHUNK, MAX_BLOCK_BYTES // (n_inputs * itemsize) // HVP_CHUNK * HVP_CHUNK)
    if m is not None and m <= size:
        size = -(-m // 128) * 128 if m <= HVP_CHUNK else -(-m // HVP_CHUNK) * HVP_CHUNK
    return size


def n_blocks(m: int, block: int, multiple: int = 1) -> int:
    """Blocks for m samples, rounded up to a multiple of ``multiple`` (the devices to split over)."""
    nb = -(-m // block)
    return -(-nb // multiple) * multiple


def from_rows(X, y, *, block: int | None = None, multiple: int = 1) -> Blocks:
    """Blocks from (m, n) rows and (m,) labels (a copy; for data that fit in memory twice).

    Args:
        X: (m, n) inputs. y: (m,) labels.
        block: samples per block (default :func:`block_size`).
        multiple: make the number of blocks a multiple of this (the devices of a mesh).
    """
    X = np.asarray(X)
    m, n = X.shape
    block = block or block_size(n, X.dtype.itemsize, m)
    nb = n_blocks(m, block, multiple)
    Xp = np.zeros((nb * block, n), X.dtype)
    Xp[:m] = X
    yp = np.zeros(nb * block, X.dtype)
    yp[:m] = np.asarray(y)
    return Blocks(jnp.asarray(Xp.reshape(nb, block, n).transpose(0, 2, 1)), jnp.asarray(yp.reshape(nb, block)), m)


def to_rows(blocks: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """The (m, n) rows and (m,) labels back, as NumPy arrays."""
    nb, n, block = blocks.X.shape
    X = np.asarray(blocks.X).transpose(0, 2, 1).reshape(nb * block, n)[: blocks.m]
    return X, np.asarray(blocks.y).reshape(-1)[: blocks.m]


def sample_rows(blocks: Blocks, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to k (n,) input rows and their labels, from the blocks this process holds first."""
    X, y = blocks.X, blocks.y
    if isinstance(X, jax.Array) and not X.is_fully_addressable:
        X, y = X.addressable_data(0), y.addressable_data(0)
    nb = min(X.shape[0], -(-k // blocks.block))
    first = Blocks(X[:nb], y[:nb], min(blocks.m, nb * blocks.block))
    rows, labels = to_rows(first)
    return rows[:k], labels[:k]


def block_logits(model: Model, params, Xb):
    """Logits of one feature-major block (n, B) → (B,), through the model's own feature-major
    logits when it has them, else its row logits on the (cache-resident) transposed block."""
    if model.logits_fm is not None:
        return model.logits_fm(params, Xb)
    return model.logits(params, Xb.T)
