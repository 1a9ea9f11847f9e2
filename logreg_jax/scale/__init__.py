"""Large data, opt-in: streaming sources, feature-major blocks, minibatches, devices, processes.

Nothing here is needed to train on a dataset that fits in memory; :func:`logreg_jax.route.fit_config`
imports this package only when a config asks for it (a ``.npy`` file, ``data.synthetic``,
``train.batch_size``, ``distributed.*``) or when the inputs are large enough that the
feature-major layout pays (``logreg_jax.route.FEATURE_MAJOR_BYTES``). May import: the core,
``models``, ``data`` and ``report``; the core never imports ``scale`` (only ``route`` does, on demand).

- :mod:`~logreg_jax.scale.sources`: rows of a ``.npy`` file (memory-mapped) or generated ones;
- :mod:`~logreg_jax.scale.blocks` and :mod:`~logreg_jax.scale.block_loss`: inputs stored
  feature-major, and the loss with its derivatives over them in few passes;
- :mod:`~logreg_jax.scale.pipeline`: raw rows → blocks, written once (statistics streamed);
- :mod:`~logreg_jax.scale.minibatch`: minibatches read from the source;
- :mod:`~logreg_jax.scale.distributed`: several processes (``jax.distributed``);
- :mod:`~logreg_jax.scale.fit`: the training those add up to.
"""

from logreg_jax.scale.block_loss import block_accuracy, block_objective
from logreg_jax.scale.blocks import Blocks
from logreg_jax.scale.fit import fit_at_scale, train_blocks
from logreg_jax.scale.minibatch import train_minibatch
from logreg_jax.scale.pipeline import build_blocks, data_mesh, fit_feature_map
from logreg_jax.scale.sources import NpySource, SyntheticSource, open_source

__all__ = [
    "Blocks",
    "NpySource",
    "SyntheticSource",
    "block_accuracy",
    "block_objective",
    "build_blocks",
    "data_mesh",
    "fit_at_scale",
    "fit_feature_map",
    "open_source",
    "train_blocks",
    "train_minibatch",
]
