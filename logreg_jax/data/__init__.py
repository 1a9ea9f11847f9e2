"""Data: reading files, generating datasets, feature maps, held-out and cross-validation splits, rows to predict.

May import: ``logreg_jax.errors`` only; NumPy and JAX arrays in, NumPy arrays out.
"""
