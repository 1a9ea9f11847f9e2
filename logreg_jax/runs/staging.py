"""Writing complete or not at all: a run folder or a file is staged beside its place and renamed
into it only when every part is written; strict JSON and the one CSV writer of every table.

A folder at ``out`` is replaced only if it is a run folder these scripts wrote
(:mod:`logreg_jax.runs.folder`); the user's own files in it are carried into the new one, and an
interrupt a callback swallowed stops the commit (:func:`logreg_jax.errors.raise_pending`).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from logreg_jax.errors import LogregError, raise_pending
from logreg_jax.runs.folder import check_out, is_run_folder, run_files, run_kind, write_marker


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
