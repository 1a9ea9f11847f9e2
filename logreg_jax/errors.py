"""Exceptions for bad input and failed training.

Scripts catch :class:`LogregError` and print its message on one line; every message names the
file, line, key or value at fault and what was expected.
"""


class LogregError(Exception):
    """Base class of the errors a user can fix (bad data, bad config, diverged training)."""


class DataError(LogregError, ValueError):
    """A dataset file is missing, malformed, or unsuitable for the model."""


class ConfigError(LogregError, ValueError):
    """A config file or a command-line override names an unknown key or an invalid value."""


class TrainingDiverged(LogregError, FloatingPointError):
    """The loss became non-finite during training."""
