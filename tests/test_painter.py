"""The figure painter: a second process draws a run's figures while the run goes on, byte for byte
what this process would draw; the run's process never loads matplotlib, the painter never JAX."""

import pickle
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT

import logreg_jax as lj
from logreg_jax.report.grids import probability_grid
from logreg_jax.runs.painter import Job, Painter, render
from logreg_jax.runs.run_figures import fit_figure_jobs


@pytest.fixture(scope="module")
def exam_jobs():
    fitted = lj.fit(lj.load_config(ROOT / "configs" / "exam_scores.toml"))
    jobs, notes = fit_figure_jobs(fitted)
    assert notes == [] and [job.name for job in jobs] == [
        "loss.png", "confusion.png", "roc.png", "calibration.png", "decision_boundary.png"
    ]  # fmt: skip
    return jobs


def test_a_probability_grid_holds_the_function_at_every_grid_point():
    cfg = lj.load_config(ROOT / "configs" / "exam_scores.toml").plot
    X = np.array([[30.0, 40.0], [90.0, 100.0]])
    grid = probability_grid(lambda pts: 1 / (1 + np.exp(-(pts[:, 0] - 2 * pts[:, 1]) / 50)), X, cfg)
    assert grid.probs.shape == (grid.x2.size, grid.x1.size) and grid.x1[0] < 30 < 90 < grid.x1[-1]
    i, j = 7, 123
    assert grid.probs[i, j] == 1 / (1 + np.exp(-(grid.x1[j] - 2 * grid.x2[i]) / 50))
    three = probability_grid(lambda pts: np.stack([pts[:, 0], pts[:, 1], pts[:, 0] * 0], axis=1), X, cfg)
    assert three.probs.shape == (grid.x2.size, grid.x1.size, 3) and three.probs[i, j, 1] == grid.x2[i]


@pytest.mark.slow  # starts a Python process
def test_the_painter_draws_the_same_bytes_as_this_process(exam_jobs):
    painter = Painter.start()
    for job in exam_jobs:
        painter.draw(job)
    drawn = painter.finish()
    assert list(drawn) == [job.name for job in exam_jobs]  # in the order given
    assert all(drawn[job.name] == render(job) for job in exam_jobs)
    assert all(png.startswith(b"\x89PNG") for png in drawn.values())


@pytest.mark.slow
def test_a_figure_that_cannot_be_drawn_is_one_line_naming_it(exam_jobs):
    painter = Painter.start()
    painter.draw(exam_jobs[0])
    painter.draw(Job("broken.png", "logreg_jax.report.fit_figures:training_figure", ("not an array", None)))
    with pytest.raises(lj.LogregError) as err:
        painter.finish()
    message = str(err.value)
    assert message.startswith("broken.png: the figure could not be drawn (AttributeError: ") and "\n" not in message


@pytest.mark.slow
def test_a_painter_that_dies_loses_no_figure(exam_jobs):
    painter = Painter.start()
    painter._process.kill()
    for job in exam_jobs:
        painter.draw(job)
    assert painter.finish() == {job.name: render(job) for job in exam_jobs}  # drawn here instead


@pytest.mark.slow  # starts a Python process
def test_a_job_carries_numpy_and_plain_values_only(exam_jobs):
    painter = Painter.start()
    try:
        with pytest.raises(TypeError, match="jax"):  # the painter would have to import JAX to read it
            painter.draw(Job("x.png", exam_jobs[0].draw, (jnp.ones(3), np.ones(3))))
        painter.draw(exam_jobs[0])  # its grid, arrays and strings pass
    finally:
        painter.close()


@pytest.mark.slow
def test_the_run_never_loads_matplotlib_and_the_painter_never_loads_jax(tmp_path, exam_jobs):
    proc = subprocess.run(  # -X importtime: every module the run's own process loads, on stderr
        [sys.executable, "-X", "importtime", "experiments/train.py", "configs/exam_scores.toml", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "jax" in loaded and "matplotlib" not in loaded
    assert {p.name for p in tmp_path.iterdir()} >= {"loss.png", "decision_boundary.png", "coefficients.png"}
    # The real jobs (and a K-class map), read and drawn by a fresh process: it loads no JAX.
    cfg = lj.load_config(ROOT / "configs" / "iris_softmax.toml", ["data.test_fraction=0.0"])
    data = lj.load_data(cfg)
    petals = lj.fit(cfg, lj.Dataset(data.X[:, 2:], data.y, data.feature_names[2:]))
    jobs = exam_jobs + [job for job in fit_figure_jobs(petals)[0] if job.name == "decision_boundary.png"]
    assert "class_map_figure" in jobs[-1].draw
    code = (
        "import pickle, sys\n"
        "from logreg_jax.runs.painter import render\n"
        "for job in pickle.load(sys.stdin.buffer): render(job)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, input=pickle.dumps(jobs), capture_output=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.decode().strip() == "[]", done.stderr[-2000:]


@pytest.mark.slow
def test_a_run_that_fails_ends_its_painter_at_once(tmp_path):
    """A diverging run: one error line, exit 2, no run folder, and no painter left behind."""
    marker = "logreg_jax.runs.painter_process"
    proc = subprocess.run(
        [sys.executable, "experiments/train.py", "configs/exam_scores.toml", "--out", str(tmp_path / "r"),
         "--set", "optimizer.learning_rate=1e6", "--set", "features.standardize=false"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("epoch ")]  # progress
    assert proc.returncode == 2 and len(errors) == 1 and errors[0].startswith("error: training diverged")
    assert not (tmp_path / "r").exists()
    painters = [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker in _read(p)]
    assert painters == []


def _read(path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:  # the process ended while we looked
        return ""
