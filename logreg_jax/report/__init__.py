"""Reports of a trained model: metrics, classification metrics, diagnostics, inference, bootstrap, figures.

May import: the core (config, loss, fit), ``models`` and ``data``; never ``runs``, ``cli``, ``studies`` or ``scale``.
"""
