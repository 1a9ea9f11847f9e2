"""Run folders: written complete or not at all, and read back for re-plotting.

A run folder holds ``config.json`` (the resolved config), ``metrics.json``, ``history.csv``
(epoch, loss, grad_norm), ``params.npz`` (parameters and the fitted feature map) and figures.
Everything is first written to a hidden sibling folder that is renamed into place at the end
(:mod:`logreg_jax.runs.staging`), so an error half-way leaves no partial run behind.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from logreg_jax.config import Config, config_from_dict, config_to_dict, reads_a_source
from logreg_jax.data.features import FeatureMap, Standardizer, n_inputs
from logreg_jax.errors import DataError, LogregError
from logreg_jax.fit import Fit, n_classes, split_data
from logreg_jax.models.registry import get_model
from logreg_jax.route import load_data
from logreg_jax.runs.folder import require_run_folder
from logreg_jax.runs.painter import png_bytes
from logreg_jax.runs.run_figures import coefficient_job
from logreg_jax.runs.staging import staged_file, staged_folder, write_json
from logreg_jax.train import History


def write_history(path: Path, history: History) -> None:
    """``history.csv``: one row per epoch, full float64 precision."""
    rows = np.column_stack([np.arange(1, history.loss.size + 1), history.loss, history.grad_norm])
    np.savetxt(path, rows, delimiter=",", header="epoch,loss,grad_norm", comments="", fmt=["%d", "%.17g", "%.17g"])


def read_history(path: Path) -> History:
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return History(loss=table[:, 1], grad_norm=table[:, 2], final_loss=float("nan"))


def save_params(path: Path, params: Any, feature_map: FeatureMap) -> None:
    """``params.npz``: each parameter leaf under ``params/<path>``, and the feature map."""
    arrays = {
        f"params/{jax.tree_util.keystr(k)}": np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(params)[0]
    }
    arrays["features/degree"] = np.asarray(feature_map.degree)
    arrays["features/bias"] = np.asarray(feature_map.bias)
    if feature_map.standardizer is not None:
        arrays["features/mean"] = feature_map.standardizer.mean
        arrays["features/std"] = feature_map.standardizer.std
    np.savez(path, **arrays)


def load_params(path: Path, like: Any) -> tuple[Any, FeatureMap]:
    """Reads ``params.npz`` back into the pytree structure of ``like`` (e.g. a fresh init)."""
    with np.load(path) as npz:
        leaves_with_paths, treedef = jax.tree_util.tree_flatten_with_path(like)
        leaves = [npz[f"params/{jax.tree_util.keystr(k)}"] for k, _ in leaves_with_paths]
        standardizer = Standardizer(npz["features/mean"], npz["features/std"]) if "features/mean" in npz else None
        feature_map = FeatureMap(int(npz["features/degree"]), standardizer, bool(npz["features/bias"]))
    return jax.tree_util.tree_unflatten(treedef, leaves), feature_map


def read_config(run_dir: str | Path) -> Config:
    """The resolved config a run folder was written with."""
    path = Path(run_dir) / "config.json"
    return config_from_dict(_read_json(path), str(path))


def _read_json(path: Path) -> Any:
    """A JSON file of a run folder; a missing, unreadable or corrupt one is a LogregError naming it."""
    try:
        return json.loads(path.read_text())
    except OSError as err:
        raise LogregError(
            f"{path}: cannot read ({err.strerror}); the run folder is incomplete, train it again"
        ) from None
    except ValueError as err:
        raise LogregError(f"{path}: not valid JSON ({err}); the run folder is damaged, train it again") from None


def write_config(path: Path, cfg: Config) -> None:
    write_json(path, config_to_dict(cfg))


def save_figure(fig, path: Path) -> None:
    """Saves a figure as PNG (:func:`~logreg_jax.runs.painter.png_bytes`), atomically (:func:`write_png`)."""
    write_png(path, png_bytes(fig))


def write_png(path: Path, png: bytes) -> None:
    """Writes PNG bytes through :func:`~logreg_jax.runs.staging.staged_file`, so a re-plot never leaves half a file."""
    with staged_file(path) as partial:
        partial.write_bytes(png)


def write_run(out: str | Path, fitted: Fit, metrics: dict, painter) -> None:
    """Writes the complete run folder ``out`` atomically.

    Args:
        painter: a :mod:`~logreg_jax.runs.painter` that holds the jobs of the fit's figures
            (:func:`~logreg_jax.runs.run_figures.fit_figure_jobs`); ``coefficients.png`` is added
            here, and every figure it draws is written into the folder.
    """
    with staged_folder(out, "train") as folder:
        write_config(folder / "config.json", fitted.cfg)
        write_json(folder / "metrics.json", metrics)
        write_history(folder / "history.csv", fitted.history)
        save_params(folder / "params.npz", fitted.params, fitted.feature_map)
        job = coefficient_job(fitted, metrics)
        if job is not None:
            painter.draw(job)
        for name, png in painter.finish().items():
            write_png(folder / name, png)


def read_metrics(run_dir: str | Path) -> dict:
    """A run folder's ``metrics.json``."""
    return _read_json(Path(run_dir) / "metrics.json")


def load_fit(run_dir: str | Path) -> Fit:
    """Rebuilds a :class:`Fit` from a run folder (reloading its training data) without training."""
    run_dir = Path(run_dir)
    require_run_folder(run_dir, "train")
    cfg = read_config(run_dir)
    try:
        return _reload(run_dir, cfg)
    except DataError as err:  # the run's own training data, not a file the user passed, is missing
        raise DataError(
            f"{run_dir}: cannot reload the run's training data (data.path = {cfg.data.path!r} in its "
            f"config.json, relative to the folder it was trained from; run from there): {err}"
        ) from None


def _reload(run_dir: Path, cfg: Config) -> Fit:
    if reads_a_source(cfg):  # rows read lazily, as fit keeps them
        from logreg_jax.scale import open_source

        data = open_source(cfg.data)
        test, k = None, 2
    else:
        data, test = split_data(cfg, load_data(cfg))
        k = n_classes(cfg, data.y)
    model = get_model(cfg.model, k)
    n = n_inputs(len(data.feature_names), cfg.features.polynomial_degree, model.bias_column)
    like = jax.eval_shape(lambda: model.init(jax.random.key(0), n, cfg.model))
    try:
        params, feature_map = load_params(run_dir / "params.npz", like)
        history = read_history(run_dir / "history.csv")
    except OSError as err:
        raise LogregError(
            f"{err.filename}: cannot read ({err.strerror}); the run folder is incomplete, train it again"
        ) from None
    except (ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as err:
        raise LogregError(f"{run_dir}: params.npz or history.csv is damaged ({err}); train it again") from None
    metrics = _read_json(run_dir / "metrics.json")
    final_loss = metrics.get("final_loss") if isinstance(metrics, dict) else None
    if not isinstance(final_loss, (int, float)):
        raise LogregError(
            f"{run_dir / 'metrics.json'}: no number final_loss; the run folder is damaged, train it again"
        )
    return Fit(cfg, data, model, feature_map, params, history._replace(final_loss=final_loss), test=test)
