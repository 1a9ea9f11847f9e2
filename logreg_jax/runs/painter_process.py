"""The painter process itself (:mod:`logreg_jax.runs.painter`): it draws a miniature of every
run-folder figure while the script loads JAX, then draws the script's jobs as they come.

May import: ``runs.painter`` and ``report``'s figure modules (matplotlib and NumPy; never JAX).
"""

from __future__ import annotations

import os
import pickle
import sys

from logreg_jax.runs.painter import Job, describe, render


def serve() -> None:
    """Draws jobs from stdin until it closes, answering each on stdout with (name, PNG bytes or
    None, error message or None)."""
    replies = os.fdopen(os.dup(1), "wb")  # the replies on a descriptor of their own:
    os.dup2(2, 1)  # anything else written to stdout, by Python or C code, goes to stderr
    sys.stdout = sys.stderr
    jobs = sys.stdin.buffer
    for job in warm_up_jobs():
        render(job)
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:  # every reply is flushed: end now, without tearing matplotlib down
            replies.flush()
            os._exit(0)
        try:
            reply = (job.name, render(job), None)
        except Exception as err:  # one line for the run to report; the painter goes on
            reply = (job.name, None, describe(err))
        pickle.dump(reply, replies)
        replies.flush()


def warm_up_jobs() -> list[Job]:
    """A miniature of every run-folder figure, drawn once by the painter while the script loads JAX
    and trains: what a first figure costs (modules matplotlib loads on first use, fonts, the
    renderer) is then paid off the run's critical path."""
    import numpy as np

    from logreg_jax.report.grids import ProbabilityGrid

    x, y = np.linspace(0.1, 0.9, 4), np.array([0, 1, 0, 1])
    curves = [("train", y, x)]
    grid = ProbabilityGrid(x, x, np.outer(x, x))
    classes3 = ProbabilityGrid(x, x, np.broadcast_to(np.array([0.2, 0.3, 0.5]), (4, 4, 3)))
    figures, classes = "logreg_jax.report.fit_figures:", "logreg_jax.report.class_figures:"
    block = {"coef": x, "ci_low": x - 0.1, "ci_high": x + 0.1}
    points = np.column_stack([x, x])
    return [
        Job("", figures + "training_figure", (x, x, "t")),
        Job("", figures + "decision_boundary_figure", (grid, points, y, "t")),
        Job("", figures + "coefficients_figure", (block, ["a", "b", "c", "d"], "t")),
        Job("", classes + "confusion_figure", (np.eye(2, dtype=int), ["0", "1"], "t")),
        Job("", classes + "roc_figure", (curves, "t")),
        Job("", classes + "calibration_figure", (curves,)),
        Job("", classes + "class_map_figure", (classes3, points, np.array([0, 1, 2, 0]), "t")),
    ]
