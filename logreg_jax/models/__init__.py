"""Models: each a set of pure functions of a parameter pytree, its hand-derived derivatives beside it.

Lives here: the :class:`Model` type, logistic and softmax regression, the MLP, and the registry (the one
list of model names). May import: ``errors`` and ``data.features`` (θ in raw units); the core imports
models, never the reverse. A model of your own: ``from logreg_jax.models import Model`` (docs/models.md).
"""

from logreg_jax.models.base import Model

__all__ = ["Model"]
