"""Run folders side by side: the config keys that differ between them, their metrics, their curves.

:func:`collect` reads the run folders among many paths (a shell glob such as ``runs/*``),
noting the paths that are not run folders; :func:`comparison_rows` makes one row per run of its
name, the dotted config keys whose values differ between the runs (only those), and the main
metrics; :func:`curves_figure` draws every run's loss and gradient-norm history on shared axes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from matplotlib.figure import Figure

from logreg_jax.errors import DataError
from logreg_jax.runs.folder import MARKER, run_kind
from logreg_jax.runs.store import read_history
from logreg_jax.train import History

# The metrics.json entries shown for each run, in this order, where a run has them.
MAIN_METRICS = ("final_loss", "train_accuracy", "test_accuracy", "epochs", "converged")
# Config keys never shown as differences: the run column already names each run.
IGNORED_KEYS = ("name",)


class RunInfo(NamedTuple):
    """What a run folder says about itself.

    Attributes:
        folder: the run folder. name: its label in the table and the legend.
        kind: the script that wrote it (its marker, :func:`logreg_jax.runs.folder.run_kind`).
        config: the config as {dotted key: value}. metrics: the :data:`MAIN_METRICS` it has.
        history: its ``history.csv`` (loss and gradient norm per iteration), or None.
    """

    folder: Path
    name: str
    kind: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: History | None


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → {dotted key: leaf}: ``{"optimizer": {"name": "sgd"}}`` → ``{"optimizer.name": "sgd"}``."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _read_run(folder: Path, kind: str) -> RunInfo:
    config = json.loads((folder / "config.json").read_text())
    metrics_path = folder / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    history = read_history(folder / "history.csv") if (folder / "history.csv").is_file() else None
    main = {k: metrics[k] for k in MAIN_METRICS if isinstance(metrics.get(k), (int, float, bool))}
    return RunInfo(folder, folder.name, kind, flatten(config), main, history)


def collect(paths: Sequence[str | Path]) -> tuple[list[RunInfo], list[str]]:
    """The run folders among ``paths``, and a note for each path that is not one (skipped).

    Raises:
        DataError: no path is a run folder, or runs of different kinds cannot share a metric
            column (one kind has it, another never does).
    """
    runs, notes = [], []
    for path in map(Path, paths):
        if not path.exists() and not path.is_symlink():  # a typo, not a folder to skip
            raise DataError(f"{path}: no such run folder; nothing was written")
        kind = run_kind(path)
        if kind is None:
            notes.append(f"{path}: skipped, not a run folder (no {MARKER})")
            continue
        try:
            runs.append(_read_run(path, kind))
        except (ValueError, OSError, IndexError) as err:  # json and np.loadtxt errors on a damaged file
            notes.append(f"{path}: skipped, a file of the run cannot be read ({err.__class__.__name__}: {err})")
    if not runs:
        raise DataError(f"none of the {len(paths)} path(s) is a run folder (a folder with {MARKER})")
    names = [r.name for r in runs]
    if len(set(names)) < len(names):  # same folder name under different parents: show the paths
        runs = [r._replace(name=str(r.folder)) for r in runs]
    _check_kinds(runs)
    return runs, notes


def _check_kinds(runs: list[RunInfo]) -> None:
    """Runs of different kinds may share a table unless a metric column exists for one kind only."""
    by_kind = {}
    for r in runs:
        by_kind.setdefault(r.kind, []).append(r)
    if len(by_kind) < 2:
        return
    for column in MAIN_METRICS:
        has = {kind: any(column in r.metrics for r in rs) for kind, rs in by_kind.items()}
        if any(has.values()) and not all(has.values()):
            a = next(rs[0] for kind, rs in by_kind.items() if has[kind])
            b = next(rs[0] for kind, rs in by_kind.items() if not has[kind])
            raise DataError(
                f"cannot compare {a.folder} (a {a.kind}.py run) with {b.folder} (a {b.kind}.py run): "
                f"{b.kind}.py runs have no {column} to put beside theirs; compare runs of one kind"
            )


def _comparable(value) -> str:
    return json.dumps(value, sort_keys=True)


def differing_keys(runs: Sequence[RunInfo]) -> list[str]:
    """The dotted config keys whose values are not the same in every run (absent counts as a value)."""
    keys = sorted({k for r in runs for k in r.config} - set(IGNORED_KEYS))
    missing = object()
    return [k for k in keys if len({_comparable(r.config[k]) if k in r.config else missing for r in runs}) > 1]


def comparison_rows(runs: Sequence[RunInfo]) -> tuple[list[dict], list[str]]:
    """One row per run: ``run`` (its name), ``kind`` when kinds differ, the differing config keys,
    and the main metrics any run has; a value a run lacks is None. Also returns the columns."""
    keys = differing_keys(runs)
    metrics = [m for m in MAIN_METRICS if any(m in r.metrics for r in runs)]
    columns = ["run"] + (["kind"] if len({r.kind for r in runs}) > 1 else []) + keys + metrics
    rows = []
    for r in runs:
        row = {"run": r.name, "kind": r.kind}
        for k in keys:
            value = r.config.get(k)
            row[k] = json.dumps(value) if isinstance(value, (list, dict)) else value
        row.update({m: r.metrics.get(m) for m in metrics})
        rows.append(row)
    return rows, columns


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")


def markdown_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """The rows as a Markdown table (floats to 6 significant digits; a missing value is blank)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def curves_figure(runs: Sequence[RunInfo], title: str = "runs compared") -> Figure | None:
    """Loss and gradient norm against iteration, one line per run with a history (None if none has)."""
    runs = [r for r in runs if r.history is not None and r.history.loss.size]
    if not runs:
        return None
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_loss, ax_grad = fig.subplots(1, 2, sharex=True)
    colors = [f"C{i % 10}" for i in range(len(runs))]
    styles = ["-", "--", ":", "-."]  # with more than 10 runs, colours repeat with another dash
    for i, (r, color) in enumerate(zip(runs, colors)):
        it = np.arange(1, r.history.loss.size + 1)
        style = dict(color=color, linestyle=styles[i // 10 % len(styles)], linewidth=1.6)
        ax_loss.plot(it, r.history.loss, label=r.name, **style)
        ax_grad.plot(it, r.history.grad_norm, label=r.name, **style)
    ax_loss.set(xlabel="iteration", ylabel="training loss", title="loss")
    ax_grad.set(xlabel="iteration", ylabel="‖gradient‖", yscale="log", title="gradient norm (log scale)")
    lengths = [r.history.loss.size for r in runs]
    if max(lengths) > 10 * min(lengths):  # a short run would be squeezed against the axis
        ax_loss.set_xscale("log")
        ax_loss.set_xlabel("iteration (log scale)")
        ax_grad.set_xlabel("iteration (log scale)")
    for ax in (ax_loss, ax_grad):
        ax.grid(alpha=0.3)
    ax_grad.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), title="run")
    fig.suptitle(title)
    return fig
