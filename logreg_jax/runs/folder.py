"""Where a script may write its run folder, checked before any training.

Every run folder these scripts write holds a marker file, :data:`MARKER`, a small JSON naming
what wrote it. A script may replace an existing ``--out`` only if it carries that marker (or is
an empty folder): anything else at that path (a file, a folder of someone's files, the data
folder, a run folder of a version that wrote no marker) is refused, and nothing there changes.
The parent must be a folder this process can create the run folder in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from logreg_jax.errors import ConfigError, LogregError

MARKER = ".logreg_jax_run"  # file in every run folder: {"written_by": "logreg_jax", "kind": ...}


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder that holds the run-folder marker."""
    return path.is_dir() and (path / MARKER).is_file()


def write_marker(folder: Path, kind: str = "run", files: list[str] | None = None) -> None:
    """Marks ``folder`` as a run folder written by ``kind`` (e.g. "train", "sweep"); ``files``
    lists the entries the script wrote, so that a later run can tell them from the user's own."""
    marker = {"written_by": "logreg_jax", "kind": kind, **({"files": sorted(files)} if files is not None else {})}
    (folder / MARKER).write_text(json.dumps(marker, allow_nan=False) + "\n")


def run_files(folder: Path) -> set[str] | None:
    """The entries of ``folder`` its script wrote (marker included), or None for a marker of an
    older version, which listed none."""
    try:
        files = json.loads((folder / MARKER).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    return {*files, MARKER} if isinstance(files, list) else None


def claim(folder: Path, name: str) -> None:
    """Records entry ``name``, which a script has just created inside run folder ``folder`` (e.g.
    predict.py's ``predictions/``), as the run's own: derived from the run's model, it is replaced
    with the run instead of being carried into a retrained one as a user's file would be."""
    files = run_files(folder)
    if files is not None:
        write_marker(folder, run_kind(folder) or "run", sorted(files | {name}))


def check_not_input(out: Path, inputs: list[Path], text: str) -> None:
    """Raises ConfigError if run folder ``out`` is one of ``inputs`` or holds one: replacing it
    would delete what the script reads."""
    resolved = out.resolve()
    for path in inputs:
        target = Path(path).resolve()
        if target == resolved or resolved in target.parents:
            raise ConfigError(
                f"--out {text}: is one of the inputs ({path}) or holds it; writing there would replace it. "
                "Choose another --out"
            )


def run_kind(folder: str | Path) -> str | None:
    """The ``kind`` a run folder's marker names (None for a marker that is not JSON)."""
    try:
        return json.loads((folder / MARKER).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def check_out(out: str | Path) -> Path:
    """Refuses, before anything runs, a run folder path that cannot or must not be written.

    Args:
        out: the path the user gave (``--out``) or the default ``runs/<name>``.

    Returns:
        ``out`` as a Path.

    Raises:
        ConfigError: ``out`` is empty, the current folder or one above it, an existing file, an
            existing non-empty folder without :data:`MARKER`, or its parent cannot hold it.
    """
    text = str(out)
    if text.strip() == "":
        raise ConfigError("--out '': expected the path of a run folder, e.g. --out runs/my_run")
    out = Path(out)
    if out.name in ("", ".."):
        raise ConfigError(f"run folder {text}: expected a path that ends in a folder name, e.g. --out runs/my_run")
    here = Path.cwd().resolve()
    resolved = out.resolve()
    if resolved == here or resolved in here.parents:
        raise ConfigError(
            f"run folder {text}: is the current folder or contains it; give a new folder, e.g. --out runs/my_run"
        )
    if out.is_symlink() or out.exists():
        if not out.is_dir() or out.is_symlink():
            kind = "link" if out.is_symlink() else "file"
            raise ConfigError(
                f"run folder {text}: exists and is a {kind}, not a run folder; nothing was changed. "
                "Choose another --out, or move it away yourself"
            )
        if not is_run_folder(out) and any(out.iterdir()):
            hint = (
                "it looks like a run folder of an older version, which wrote no marker: delete it or move it "
                "away yourself"
                if (out / "config.json").is_file()
                else "choose another --out, or move it away yourself"
            )
            raise ConfigError(
                f"run folder {text}: exists but these scripts did not write it (no {MARKER} file "
                f"inside); nothing was changed: {hint}"
            )
    check_creatable(out, text)
    longest = len(f".{out.name}.12345678.1234567890.partial".encode())  # the staging folder beside it
    limit = os.pathconf(_existing_parent(out), "PC_NAME_MAX")
    if longest > limit:
        raise ConfigError(
            f"run folder {text[:60]}…: its name is {len(out.name.encode())} bytes; expected at most "
            f"{limit - (longest - len(out.name.encode()))} (the file system allows {limit}, and the run is first "
            "written beside it under a longer name)"
        )
    return out


def _existing_parent(out: Path) -> Path:
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    return parent


def check_creatable(out: Path, text: str) -> None:
    """Raises ConfigError unless a folder can be created (or replaced) at ``out``: its nearest
    existing ancestor is a folder this process can create a folder in (tried, then removed).
    ``text`` is the path as typed."""
    parent = out.absolute().parent
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"run folder {text}: cannot be created: {parent} is a file, not a folder")
    try:  # a real probe: permissions, read-only file systems and quotas all answer here
        os.rmdir(tempfile.mkdtemp(prefix=".logreg_jax_probe.", dir=parent))
    except OSError as err:
        raise ConfigError(f"run folder {text}: cannot be created: cannot write in {parent} ({err.strerror})") from None


def require_run_folder(run_dir: Path, kind: str | None = None) -> None:
    """Raises LogregError unless ``run_dir`` is a run folder (of ``kind``, when given)."""
    if not run_dir.exists():
        raise LogregError(f"{run_dir}: no such run folder")
    if not run_dir.is_dir():
        raise LogregError(f"{run_dir}: is a file; expected a run folder such as runs/exam_scores")
    if not is_run_folder(run_dir):
        raise LogregError(
            f"{run_dir}: not a run folder written by these scripts (no {MARKER} file inside); nothing was changed"
        )
    found = run_kind(run_dir)
    if kind is not None and found != kind:
        raise LogregError(
            f"{run_dir}: written by experiments/{found}.py, expected a run folder of experiments/{kind}.py"
        )
