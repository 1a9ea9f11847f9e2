"""Run folders: writing one safely (its figures drawn by a second process, ``painter``), loading a run back
as a model, comparing runs.

May import: the core (``route`` included), ``models``, ``data`` and ``report``; never ``cli`` or ``studies``.
"""
