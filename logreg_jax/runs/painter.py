"""Figures drawn by a second process while a run goes on, so that the run's own process never loads
matplotlib.

A script starts the painter first thing, before it imports JAX: the painter's Python and matplotlib
then load on a second core while the script loads JAX and trains. The script hands it each figure
as a :class:`Job` (a figure function named ``"module:function"`` and its NumPy arguments) as soon
as the data are there, goes on (inference, metrics), and collects the PNG bytes at the end, which it
writes into the run folder itself: the folder is staged, written and cleaned up by one process
(:mod:`logreg_jax.runs.staging`). :class:`InProcess` has the same interface and draws in the calling
process (tests, notebooks, re-plots); both draw with :func:`render`, so both give the same bytes.

    painter = Painter.start()                       # before `import jax`
    painter.draw(Job("loss.png", "logreg_jax.report.fit_figures:training_figure", (loss, grad_norm)))
    pngs = painter.finish()                         # {"loss.png": b"\\x89PNG..."}

May import: the standard library at the top (the painter process starts from this module, and the
figure modules it names import matplotlib and NumPy, never JAX); ``errors``.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, NamedTuple

from logreg_jax.errors import LogregError


class Job(NamedTuple):
    """One figure: ``draw(*args, **kwargs)`` returns a matplotlib Figure, written as ``name``.

    ``draw`` names a function as ``"module:function"``; the arguments are NumPy arrays and plain
    values (they travel to the painter by pickle, and nothing in them may need JAX to load).
    """

    name: str
    draw: str
    args: tuple = ()
    kwargs: dict | None = None


def png_bytes(fig) -> bytes:
    """A figure as PNG at 120 dpi. PNG is lossless at every zlib level: the fastest level gives the
    same pixels in larger files, and encoding at the default level was a large share of a short
    run's figure time."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=120, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def render(job: Job) -> bytes:
    """The PNG bytes of ``job``'s figure."""
    module, function = job.draw.split(":")
    return png_bytes(getattr(importlib.import_module(module), function)(*job.args, **(job.kwargs or {})))


class InProcess:
    """The painter's interface, drawing each job at once in this process."""

    def __init__(self):
        self._pngs: dict[str, bytes] = {}

    def draw(self, job: Job) -> None:
        self._pngs[job.name] = render(job)

    def finish(self) -> dict[str, bytes]:
        """{file name: PNG bytes} of every job, in the order they were given."""
        return self._pngs

    def close(self) -> None:
        pass


class Painter:
    """A second Python process that draws jobs while this one goes on (see the module docstring)."""

    def __init__(self, process: subprocess.Popen, errors):
        self._process, self._errors, self._replies = process, errors, []
        # Threads at both ends of the pipes: draw() never waits for the painter to take a job (a
        # (300, 300) grid is more than a pipe holds), and the painter never waits for a reply to be read.
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._send, self._read)]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls) -> Painter | InProcess:
        """A painter process, or :class:`InProcess` where none can be started."""
        root = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {root!r}); from logreg_jax.runs.painter import serve; serve()"
        errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty painter can never block on it
        # Its own session: Ctrl-C in the terminal reaches this process only, which ends the painter
        # by closing its input (also when this process dies without cleaning up).
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                start_new_session=True,
            )  # fmt: skip
        except OSError:
            errors.close()
            return InProcess()
        return cls(process, errors)

    def _send(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                pickle.dump(job, self._process.stdin)
                self._process.stdin.flush()
        except OSError:  # the painter is gone; finish() says why
            pass
        finally:
            try:
                self._process.stdin.close()  # the painter finishes its jobs, then ends
            except OSError:
                pass

    def _read(self) -> None:
        try:
            while True:
                self._replies.append(pickle.load(self._process.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass

    def draw(self, job: Job) -> None:
        self._jobs.put(job)

    def finish(self) -> dict[str, bytes]:
        """Waits for every job; {file name: PNG bytes} in the order they were given.

        Raises:
            LogregError: a figure could not be drawn (its name and the error), or the painter ended early.
        """
        self._jobs.put(None)  # the end of the jobs: the painter finishes them, then ends
        for thread in self._threads:
            thread.join()
        self._process.wait()
        failed = [(name, error) for name, _, error in self._replies if error is not None]
        if failed:
            name, error = failed[0]
            raise LogregError(f"{name}: the figure could not be drawn ({error})")
        if self._process.returncode != 0:
            self._errors.seek(0)
            last = (self._errors.read().decode(errors="replace").strip().splitlines() or ["no message"])[-1]
            raise LogregError(f"the figure painter process ended with exit code {self._process.returncode}: {last}")
        return {name: png for name, png, _ in self._replies}

    def close(self) -> None:
        """Ends the painter now, its unfinished jobs dropped (a run that stops early does not wait
        for figures it will not write); after :meth:`finish` there is nothing left to end."""
        if self._process.poll() is None:
            self._process.kill()
        self._jobs.put(None)
        self._process.wait()
        self._errors.close()


def serve() -> None:
    """The painter process: loads the figure modules, then draws jobs from stdin until it closes,
    answering each with (name, PNG bytes or None, error message or None) on stdout."""
    replies, sys.stdout = sys.stdout.buffer, sys.stderr  # stray prints must not corrupt the replies
    jobs = sys.stdin.buffer
    for job in _warm_up_jobs():
        render(job)
    while True:
        try:
            job: Any = pickle.load(jobs)
        except EOFError:  # every reply is flushed: end now, without tearing matplotlib down
            os._exit(0)
        try:
            reply = (job.name, render(job), None)
        except Exception as err:  # one line for the run to report; the painter goes on
            reply = (job.name, None, f"{type(err).__name__}: {str(err).strip()}".splitlines()[0])
        pickle.dump(reply, replies)
        replies.flush()


def _warm_up_jobs() -> list[Job]:
    """A miniature of every run-folder figure, drawn once by the painter while the script loads JAX
    and trains: what a first figure costs (modules matplotlib loads on first use, fonts, the
    renderer) is then paid off the run's critical path."""
    import numpy as np

    from logreg_jax.report.grids import ProbabilityGrid

    x, y = np.linspace(0.1, 0.9, 4), np.array([0, 1, 0, 1])
    curves = [("train", y, x)]
    grid = ProbabilityGrid(x, x, np.outer(x, x))
    figures, classes = "logreg_jax.report.fit_figures:", "logreg_jax.report.class_figures:"
    block = {"coef": x, "ci_low": x - 0.1, "ci_high": x + 0.1}
    return [
        Job("", figures + "training_figure", (x, x, "t")),
        Job("", figures + "decision_boundary_figure", (grid, np.column_stack([x, x]), y, "t")),
        Job("", figures + "coefficients_figure", (block, ["a", "b", "c", "d"], "t")),
        Job("", classes + "confusion_figure", (np.eye(2, dtype=int), ["0", "1"], "t")),
        Job("", classes + "roc_figure", (curves, "t")),
        Job("", classes + "calibration_figure", (curves,)),
    ]
