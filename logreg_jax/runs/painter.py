"""Figures drawn by a second process while a run goes on, so that the run's own process never loads
matplotlib.

A script starts the painter first thing, before it imports JAX: the painter's Python and matplotlib
then load on a second core while the script loads JAX and trains. The script hands it each figure
as a :class:`Job` (a figure function named ``"module:function"`` and its NumPy arguments) as soon
as the data are there, goes on (inference, metrics), and collects the PNG bytes at the end, which it
writes into the run folder itself: the folder is staged, written and cleaned up by one process
(:mod:`logreg_jax.runs.staging`). :class:`InProcess` has the same interface and draws in the calling
process (tests, notebooks, re-plots); both draw with :func:`render`, so both give the same bytes,
and a figure the painter could not deliver (it died) is drawn here instead: a run never loses one.

    painter = Painter.start()                       # before `import jax`
    painter.draw(Job("loss.png", "logreg_jax.report.fit_figures:training_figure", (loss, grad_norm)))
    pngs = painter.finish()                         # {"loss.png": b"\\x89PNG..."}

May import: the standard library at the top (the script imports this module before JAX, and the
painter process, :mod:`logreg_jax.runs.painter_process`, loads matplotlib and NumPy only); ``errors``.
"""

from __future__ import annotations

import importlib
import io
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import NamedTuple

from logreg_jax.errors import LogregError

# What a job may carry (checked when it is given): anything else, a jax.Array or a config object,
# would make the painter import JAX to unpickle it.
ALLOWED = ("builtins", "numpy", "logreg_jax.report.grids", "logreg_jax.runs.painter")


class Job(NamedTuple):
    """One figure: ``draw(*args, **kwargs)`` returns a matplotlib Figure, written as ``name``.

    ``draw`` names a function as ``"module:function"``; the arguments are NumPy arrays, plain values
    and :class:`~logreg_jax.report.grids.ProbabilityGrid` (see :data:`ALLOWED`).
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


def describe(err: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    return f"{type(err).__name__}: {str(err).strip()}".splitlines()[0]


def failed(name: str, error: str) -> LogregError:
    return LogregError(f"{name}: the figure could not be drawn ({error})")


class InProcess:
    """The painter's interface, drawing each job at once in this process."""

    def __init__(self):
        self._pngs: dict[str, bytes] = {}

    def draw(self, job: Job) -> None:
        try:
            self._pngs[job.name] = render(job)
        except Exception as err:
            raise failed(job.name, describe(err)) from err

    def finish(self) -> dict[str, bytes]:
        """{file name: PNG bytes} of every job, in the order they were given."""
        return self._pngs

    def close(self) -> None:
        pass


class _Checked(pickle.Unpickler):
    def find_class(self, module, name):
        if not any(module == a or module.startswith(f"{a}.") for a in ALLOWED):
            raise TypeError(f"{module}.{name} (a job carries NumPy arrays and plain values only)")
        return super().find_class(module, name)


class Painter:
    """A second Python process that draws jobs while this one goes on (see the module docstring)."""

    def __init__(self, process: subprocess.Popen):
        self._process = process
        self._given: list[Job] = []  # every job, to draw here what the painter does not deliver
        self._replies: list[tuple] = []  # (name, PNG bytes or None, error or None)
        # Threads at both ends of the pipes: draw() never waits for the painter to take a job (a
        # (300, 300) grid is more than a pipe holds), and the painter never waits for a reply to be read.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._send, self._read)]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls) -> Painter | InProcess:
        """A painter process, or :class:`InProcess` where none can be started."""
        root = str(Path(__file__).resolve().parents[2])
        # sys.path[0] is the checkout, not the current folder: a stray numpy.py there cannot shadow numpy
        code = f"import sys; sys.path[0] = {root!r}; from logreg_jax.runs.painter_process import serve; serve()"
        # Its own session: Ctrl-C in the terminal reaches this process only, which ends it (close).
        # Its stderr is discarded: a figure's error comes back as its reply, and a painter that
        # fails in any other way delivers nothing, which finish() then draws here.
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except OSError:
            return InProcess()
        return cls(process)

    def draw(self, job: Job) -> None:
        """Hands ``job`` to the painter: pickled now (its arrays as they are now), sent by a thread.

        Raises:
            TypeError: the job carries something other than NumPy arrays and plain values.
        """
        data = pickle.dumps(job)
        _Checked(io.BytesIO(data)).load()
        self._given.append(job)
        self._outbox.put(data)

    def _send(self) -> None:
        try:
            while (data := self._outbox.get()) is not None:
                self._process.stdin.write(data)
                self._process.stdin.flush()
        except OSError:  # the painter is gone: finish() draws the rest here
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
        except EOFError:
            pass
        except Exception:  # a damaged reply stream: stop the painter; finish() draws the rest here
            self._process.kill()

    def finish(self) -> dict[str, bytes]:
        """Waits for every job; {file name: PNG bytes} in the order they were given. A figure the
        painter did not deliver (it ended early) is drawn in this process.

        Raises:
            LogregError: a figure could not be drawn (its name and the error, in one line).
        """
        self._outbox.put(None)  # the end of the jobs: the painter finishes them, then ends
        for thread in self._threads:
            thread.join()
        self._process.wait()
        delivered = {name: (png, error) for name, png, error in self._replies}
        pngs = {}
        for job in self._given:
            png, error = delivered.get(job.name, (None, None))
            if error is not None:
                raise failed(job.name, error)
            if png is None:
                fallback = InProcess()
                fallback.draw(job)
                png = fallback.finish()[job.name]
            pngs[job.name] = png
        return pngs

    def close(self) -> None:
        """Ends the painter now, its unfinished jobs dropped (a run that stops early does not wait
        for figures it will not write); after :meth:`finish` there is nothing left to end."""
        if self._process.poll() is None:
            self._process.kill()
        self._outbox.put(None)
        self._process.wait()
