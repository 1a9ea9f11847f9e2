"""Shared fixtures: float64 on demand, the bundled data, and in-process experiment scripts."""

import contextlib
import importlib.util
import os
from pathlib import Path

import jax
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch):
    """Configs name data paths relative to the repository root, as the README runs them."""
    monkeypatch.chdir(ROOT)


@pytest.fixture
def x64():
    """float64 for this test only (never flipped globally for the session)."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(20261128)


def load_script(name: str):
    """Imports experiments/<name>.py as a module, so tests call its ``main(argv)`` in-process."""
    path = ROOT / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN_FILES = {
    ".logreg_jax_run",
    "config.json",
    "metrics.json",
    "history.csv",
    "params.npz",
    "decision_boundary.png",
    "loss.png",
    "confusion.png",
    "roc.png",
    "calibration.png",
}
LOGISTIC_RUN_FILES = RUN_FILES | {"coefficients.png"}  # the forest plot of the inference


def train_run(tmp_path_factory, config: str, name: str) -> Path:
    """Runs experiments/train.py on ``config`` into a fresh folder; returns the run folder."""
    out = tmp_path_factory.mktemp("runs") / name
    load_script("train").main([config, "--out", str(out)])
    return out


def rel_err(a, b) -> float:
    """max |a − b| / max |b|, the relative error used throughout the tests."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(np.float64).tiny))


def write_text(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


os.environ.setdefault("MPLBACKEND", "Agg")


@contextlib.contextmanager
def programs_lowered():
    """The names of the programs lowered inside the block (``jit(f)`` → ``f``), after emptying JAX's
    in-memory caches, as in a new process where every program is compiled anew."""
    jax.clear_caches()
    names = []

    def record(event, secs, fun_name="", **kw):
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            names.append(fun_name.removeprefix("jit").strip("_()"))  # jit(f) or jit_f

    jax.monitoring.register_event_duration_secs_listener(record)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(record)
