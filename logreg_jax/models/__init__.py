"""Models: each a set of pure functions of a parameter pytree, its hand-derived derivatives beside it.

Lives here: the :class:`Model` type, logistic and softmax regression, the MLP, and the registry (the one
list of model names). May import: ``logreg_jax.errors`` only (the core imports models, never the reverse).
"""

from logreg_jax.models.base import Model

__all__ = ["Model"]
