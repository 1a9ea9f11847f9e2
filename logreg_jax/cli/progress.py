"""Progress of long work for the experiment scripts: "step k of n" and an estimate of the time left.

A script creates a :class:`Progress` and passes its methods as the ``callback`` of a library
function (library code itself never prints). On a terminal it redraws one line in place with
``'\\r'``; anywhere else (a CI log, a pipe, a test) it writes one plain line per update, so the
log reads top to bottom. It uses nothing beyond the standard library: the few lines needed here
are simpler than a dependency, and the output is easy to test.

    with Progress(cfg.train.epochs, "epoch") as progress:
        fitted = lj.fit(cfg, callback=lambda e, loss, g: progress.update(e, f"loss {loss:.6f}"))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``: a duration as a person reads it."""
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """Reports ``done`` of ``total`` steps, a note on the current one, and the time left.

    The estimate assumes the remaining steps take as long as the finished ones did on average
    (the first step includes compiling, so early estimates run high).

    Args:
        total: the number of steps (> 0).
        what: the name of a step, e.g. ``"epoch"`` or ``"λ"``.
        stream: where the progress goes; default ``sys.stderr`` (stdout stays for results).
        out: where :meth:`advance`'s result lines go; default ``sys.stdout``.
        clock: seconds, monotonic (tests pass a fake one).
        interval: the least seconds between two redraws on a terminal (the last step always shows).
    """

    def __init__(
        self,
        total: int,
        what: str = "step",
        *,
        stream: TextIO | None = None,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ):
        self.total, self.what = max(int(total), 1), what
        self.stream = stream if stream is not None else sys.stderr
        self.out = out if out is not None else sys.stdout
        self.clock, self.interval = clock, interval
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start_time = self.clock()
        self.done, self.started, self.note = 0, 0, ""
        self._drawn, self._last_draw = "", float("-inf")

    def line(self, final: bool = False) -> str:
        """The current progress line, e.g. ``"epoch 40 of 100 (40 %), loss 0.31, about 6.0 s left"``;
        ``final``: the work is over (e.g. training converged early), so the time taken instead."""
        elapsed = self.clock() - self.start_time
        text = f"{self.what} {self.done} of {self.total} ({100 * self.done // self.total} %)"
        if self.note:
            text += f", {self.note}"
        if final or self.done >= self.total:
            return f"{text}, took {format_seconds(elapsed)}"
        if self.done > 0:
            return f"{text}, about {format_seconds(elapsed / self.done * (self.total - self.done))} left"
        return text

    def update(self, done: int, note: str = "") -> None:
        """``done`` steps are finished; ``note`` says something about them (a loss, a name)."""
        self.done, self.note = min(int(done), self.total), note
        now = self.clock()
        if self.tty and self.done < self.total and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._show(self.line())

    def advance(self, note: str = "", result: str | None = None) -> None:
        """One more step is finished; ``result``, if given, is printed on ``out`` first (a table row)."""
        if result is not None:
            self.write(result, redraw=False)
        self.update(self.done + 1, note)

    def start(self, note: str, result: str | None = None) -> None:
        """A step called ``note`` begins and the one before it, if any, is finished; ``result`` as
        for :meth:`advance`."""
        if result is not None:
            self.write(result, redraw=False)
        self.started += 1
        self.update(self.started - 1, note)

    def close(self, finished: bool = True) -> None:
        """Ends the line on a terminal; steps begun with :meth:`start` count as finished if ``finished``."""
        if finished and self.started and self.done < self.started:
            self.done = min(self.started, self.total)
            self._show(self.line())
        elif self.tty and self._drawn:
            self._show(self.line(final=finished))  # the last update may have been rate-limited away
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # On an error the line is ended, so that the one-line error message gets a line of its own.
        self.close(finished=exc_type is None)

    def _show(self, text: str) -> None:
        if self.tty:
            # Pad with spaces over the rest of a longer previous line: '\r' only moves the cursor.
            self.stream.write("\r" + text.ljust(len(self._drawn)))
            self._drawn = text
            if self.done >= self.total:  # finished: what is printed next starts on a new line
                self.stream.write("\n")
                self._drawn = ""
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def write(self, text: str, redraw: bool = True) -> None:
        """Prints ``text`` on ``out`` (a result, not progress): on a terminal the progress line is
        blanked first, so the text starts at column 0, and drawn again below it."""
        drawn = self.tty and self._drawn
        if drawn:
            self.stream.write("\r" + " " * len(self._drawn) + "\r")
            self.stream.flush()
            self._drawn, self._last_draw = "", float("-inf")  # the next update redraws at once
        print(text, file=self.out, flush=True)
        if drawn and redraw:
            self._show(self.line())
