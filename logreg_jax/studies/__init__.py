"""The experiments of the chapter, one module per study: its config section, its logic, its figures.

- :mod:`~logreg_jax.studies.gradients` (with :mod:`~logreg_jax.studies.gradcheck` and
  :mod:`~logreg_jax.studies.gradient_figures`): hand-derived
  gradient, Hessian and HVP against autodiff, a loop and finite differences;
- :mod:`~logreg_jax.studies.regularization` (with :mod:`~logreg_jax.studies.cv`): the L2 strength
  against over- and underfitting, by cross-validation;
- :mod:`~logreg_jax.studies.optimizers`: optimizers raced to the optimum;
- :mod:`~logreg_jax.studies.sweeps` (with :mod:`~logreg_jax.studies.sweep_figures`): a grid of configs trained at once under ``jax.vmap``;
- :mod:`~logreg_jax.studies.models`: models side by side on one dataset;
- :mod:`~logreg_jax.studies.path` (with :mod:`~logreg_jax.studies.path_cv` and
  :mod:`~logreg_jax.studies.path_figures`): the L1 /
  elastic-net regularization path, certified and cross-validated.

Each study's config composes the base :class:`~logreg_jax.config.Config` (field ``base``) with
sections of its own; ``experiments/<script>.py`` loads it, calls the study and writes the run folder.
May import: everything but ``cli`` (the scripts' own); nothing in the package imports ``studies``.
"""
