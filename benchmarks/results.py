"""benchmarks/RESULTS.md is written by several scripts, each owning some ``## `` sections of it."""

import re
from pathlib import Path


def _parts(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n(?=## )", text.strip("\n")) if p.strip()]


def write_sections(path: Path, text: str) -> None:
    """Writes ``text`` into ``path``: each of its ``## `` sections replaces the section of the same
    title where it stands (or is appended), a preamble before its first section replaces the
    file's, and every other section (another benchmark's) is kept."""
    new, old = _parts(text), _parts(path.read_text()) if path.exists() else []
    title = lambda part: part.splitlines()[0] if part.startswith("## ") else ""  # noqa: E731
    by_title = {title(p): p for p in new}
    merged = [by_title.pop(title(p), p) for p in old]
    if "" in by_title and not (merged and title(merged[0]) == ""):
        merged.insert(0, by_title.pop(""))
    path.write_text("\n\n".join(merged + list(by_title.values())) + "\n")
