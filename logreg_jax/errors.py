"""Exceptions for bad input and failed training.

Scripts catch :class:`LogregError` and print its message on one line; every message names the
file, line, key or value at fault and what was expected.
"""

# The interrupts (Ctrl-C, SIGTERM) a script's signal handlers raised, whether or not some callback
# swallowed the exception: a run folder is committed only while this is empty (raise_pending).
pending: list[type[BaseException]] = []


def raise_pending() -> None:
    """Raises the first interrupt recorded in :data:`pending`, if any: called where work becomes
    permanent, so that a Ctrl-C a library callback caught still stops the script there."""
    if pending:
        raise pending[0]()


class LogregError(Exception):
    """Base class of the errors a user can fix (bad data, bad config, diverged training)."""


class DataError(LogregError, ValueError):
    """A dataset file is missing, malformed, or unsuitable for the model."""


class ConfigError(LogregError, ValueError):
    """A config file or a command-line override names an unknown key or an invalid value."""


class TrainingDiverged(LogregError, FloatingPointError):
    """The loss became non-finite during training."""

    @classmethod
    def at(cls, when: str, loss: float, learning_rate: float | None = None) -> "TrainingDiverged":
        """The error for a loss that became ``loss`` ``when`` (e.g. "at epoch 12"), with the hint."""
        hint = f" (now {learning_rate:g})" if learning_rate is not None else ""
        return cls(f"training diverged {when}: the loss became {loss}; try a smaller optimizer.learning_rate{hint}")
