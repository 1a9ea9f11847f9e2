"""The command line shared by the scripts in ``experiments/``: arguments, one-line errors, progress lines.

May import: the core and ``runs`` (to check ``--out``); nothing imports ``cli`` but the scripts.
"""
