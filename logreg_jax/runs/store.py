"""Run folders: written complete or not at all, and read back for re-plotting.

A run folder holds ``config.json`` (the resolved config), ``metrics.json``, ``history.csv``
(epoch, loss, grad_norm), ``params.npz`` (parameters and the fitted feature map) and figures.
Everything is first written to a hidden sibling folder that is renamed into place at the end,
so an error half-way leaves no partial run behind.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from logreg_jax.config import Config, config_from_dict, config_to_dict, reads_a_source
from logreg_jax.data.features import FeatureMap, Standardizer, n_inputs
from logreg_jax.errors import DataError, LogregError, raise_pending
from logreg_jax.fit import Fit, n_classes, predict_proba, split_data
from logreg_jax.models.registry import get_model
from logreg_jax.report.fit_figures import coefficients_figure, decision_boundary_figure, training_figure
from logreg_jax.route import load_data
from logreg_jax.runs.folder import check_out, is_run_folder, require_run_folder, run_files, run_kind, write_marker
from logreg_jax.train import History


@contextlib.contextmanager
def staged_folder(out: str | Path, kind: str) -> Iterator[Path]:
    """Yields an empty staging folder that replaces ``out`` only if the block succeeds.

    The staging folder sits beside ``out`` (same file system, so the final rename is atomic) and
    gets the run-folder marker (:mod:`logreg_jax.runs.folder`, ``kind`` names the script). ``out``
    is first checked by :func:`~logreg_jax.runs.folder.check_out`: only a marked run folder is
    replaced. On any error (or interrupt) the staging folder is deleted and ``out`` is left as it was.
    """
    out = check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=out.parent))
    except OSError as err:
        raise LogregError(f"{out}: cannot create the run folder ({err.strerror})") from None
    try:
        stage.chmod(0o755)  # mkdtemp makes it private; a run folder is an ordinary folder
        write_marker(stage, kind)
        yield stage
        _replace(stage, out)
    except OSError as err:
        where = f": {err.filename}" if err.filename is not None else ""
        raise LogregError(f"{out}: cannot write the run folder ({err.strerror or err}{where})") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def remove_stale_stages(out: Path) -> list[Path]:
    """Deletes the staging (``.partial``) and moved-aside (``.old``) folders of ``out`` that a
    process killed outright (``kill -9``) left behind: those whose name carries the id of a
    process that no longer runs. Returns what was deleted."""
    removed = []
    for path in out.parent.glob(f".{glob.escape(out.name)}.*"):
        pid = path.name[len(out.name) + 2 :].split(".", 1)[0]
        if path.is_dir() and path.name.endswith((".partial", ".old")) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextlib.contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` that is renamed to ``path`` only if the block succeeds."""
    path = Path(path)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    os.chmod(partial, 0o644)  # mkstemp makes it private; the result is an ordinary file
    try:
        yield Path(partial)
        raise_pending()
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _replace(stage: Path, out: Path) -> None:
    """Renames ``stage`` to ``out``, checking ``out`` again now: something created there while the
    script ran is refused (never replaced). An existing run folder is moved aside first; entries
    in it that its script did not write (the user's notes, plots) are carried into the new one;
    if the rename fails everything is put back, and no ``.old`` folder is left either way. An
    interrupt a callback swallowed while the run was written stops it here, before anything moves."""
    raise_pending()
    write_marker(stage, run_kind(stage) or "run", [p.name for p in stage.iterdir()])
    if not out.exists() and not out.is_symlink():
        try:
            os.rename(stage, out)  # refuses (ENOTEMPTY) a non-empty folder created since the check
        except OSError:
            if not out.exists():
                raise
            raise LogregError(_appeared(out)) from None
        return
    if out.is_symlink() or not out.is_dir() or (not is_run_folder(out) and any(out.iterdir())):
        raise LogregError(_appeared(out))
    written = run_files(out)
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".old", dir=out.parent))
    carried: list[str] = []
    try:
        os.replace(out, old / out.name)
        try:
            for entry in (old / out.name).iterdir():
                if entry.name not in (written if written is not None else set()) and not (stage / entry.name).exists():
                    os.replace(entry, stage / entry.name)
                    carried.append(entry.name)
            os.replace(stage, out)
        except BaseException:
            for name in carried:
                os.replace(stage / name, old / out.name / name)
            os.replace(old / out.name, out)
            raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _appeared(out: Path) -> str:
    return (
        f"{out}: something that is not a run folder of these scripts appeared there while this ran; "
        "nothing there was changed and the new run was not written. Move it away and run again"
    )


def write_json(path: Path, obj: Any) -> None:
    """Strict JSON (``allow_nan=False``): JSON has no NaN or infinity, so a non-finite float is
    written as ``null``."""
    path.write_text(json.dumps(_finite(obj), indent=2, allow_nan=False) + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def write_csv(path: Path, rows: list[dict], columns: Sequence[str] | None = None) -> None:
    """One CSV for every table a script writes: a header, then one line per row.

    Floats are written with ``repr`` (the shortest string that reads back to the same float64),
    bools as ``true``/``false``, None as an empty field, anything else with ``str``.

    Args:
        rows: dicts with at least ``columns`` as keys.
        columns: the columns in order; default the keys of the first row.
    """
    columns = list(rows[0]) if columns is None and rows else list(columns or [])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([_csv_field(row[c]) for c in columns] for row in rows)


def _csv_field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


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


def write_figures(folder: Path, fitted: Fit) -> list[str]:
    """Writes ``loss.png``, the evaluation figures (:func:`~logreg_jax.report.class_figures.evaluation_figures`:
    ``confusion.png``; binary: ``roc.png``, ``calibration.png``) and, for two raw features,
    ``decision_boundary.png`` (for K classes: the most likely class, shaded by its probability).

    Returns:
        Notes on figures that were skipped, for the script to print.
    """
    cfg, data, rows = fitted.cfg, fitted.data, fitted.rows
    title = f"{cfg.name}: {cfg.model.name}, {cfg.optimizer.name} (lr {cfg.optimizer.learning_rate:g})"
    save_figure(training_figure(fitted.history.loss, fitted.history.grad_norm, title), folder / "loss.png")
    if rows is not None:  # in memory (data at scale are not re-read for figures)
        from logreg_jax.report.class_figures import class_map_figure, evaluation_figures

        for name, fig in evaluation_figures(fitted, predict_proba).items():
            save_figure(fig, folder / name)
    n_features = len(data.feature_names)  # not data.X: for a .npy or synthetic source that reads every row
    if n_features != 2:
        return [f"decision_boundary.png skipped: the data have {n_features} features, the plot needs 2"]
    names = cfg.plot.axis_labels or data.feature_names
    if fitted.model.n_classes > 2:
        probability = lambda pts: predict_proba(fitted, pts)
        fig = class_map_figure(probability, data.X, data.y, cfg.plot, title, names)
    else:
        probability = lambda pts: predict_proba(fitted, pts)[:, 1]
        fig = decision_boundary_figure(probability, data.X, data.y, cfg.plot, title, names, cfg.plot.class_names)
    save_figure(fig, folder / "decision_boundary.png")
    return []


def save_figure(fig, path: Path) -> None:
    """Saves a PNG under a temporary name, then renames it, so a re-plot never leaves half a file.

    PNG is lossless at every zlib level: the fastest level writes the same pixels in larger files,
    and encoding at the default level was a large share of a short run's figure time.
    """
    partial = path.with_name(f".{path.name}.partial")
    fig.savefig(partial, dpi=120, format="png", pil_kwargs={"compress_level": 1})
    os.replace(partial, path)


def write_run(out: str | Path, fitted: Fit, metrics: dict) -> list[str]:
    """Writes the complete run folder ``out`` atomically; returns notes on skipped figures."""
    with staged_folder(out, "train") as folder:
        write_config(folder / "config.json", fitted.cfg)
        write_json(folder / "metrics.json", metrics)
        write_history(folder / "history.csv", fitted.history)
        save_params(folder / "params.npz", fitted.params, fitted.feature_map)
        write_coefficients(folder, fitted, metrics)
        return write_figures(folder, fitted)


def write_coefficients(folder: Path, fitted: Fit, metrics: dict) -> None:
    """``coefficients.png`` from the ``inference`` block of ``metrics`` (none when it was refused),
    its title saying its units (standardized when the features were; the printed table is raw)."""
    block = metrics.get("inference", {}) if isinstance(metrics, dict) else {}
    if "coef" not in block:
        return
    scaled = fitted.feature_map.standardizer is not None
    fig = coefficients_figure(
        block["standardized"],
        block["names"],
        f"{fitted.cfg.name}: coefficients"
        + (" in standardized units\n(the printed table is in raw units)" if scaled else ""),
        *(() if scaled else ("coefficient (log-odds per unit of the feature)",)),
    )
    save_figure(fig, folder / "coefficients.png")


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
