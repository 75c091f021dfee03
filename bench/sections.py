"""docs/benchmarks.md is shared: bench/run.py writes the page, other scripts own a marked section."""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTIONS = {  # name -> (start marker, end marker), in page order
    "cpu": ("<!-- cpu:start -->", "<!-- cpu:end -->"),
    "cpu-notes": ("<!-- cpu-notes:start -->", "<!-- cpu-notes:end -->"),  # written by hand, kept
    "query-cli": ("<!-- query-cli:start -->", "<!-- query-cli:end -->"),
    "scale": ("<!-- scale:start -->", "<!-- scale:end -->"),  # bench/scale.py
    "scale-notes": ("<!-- scale-notes:start -->", "<!-- scale-notes:end -->"),  # written by hand, kept
    "partition-key": ("<!-- partition-key:start -->", "<!-- partition-key:end -->"),  # bench/partition_key.py
}


def write_section(name: str, text: str, path: Path = PAGE) -> Path:
    """Replaces the section `name` (text includes its markers), or appends it."""
    start, end = SECTIONS[name]
    current = path.read_text() if path.exists() else ""
    if start in current and end in current:
        head, rest = current.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        current = head + text + (("\n" + tail) if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current)
    return path


def kept_sections(current: str) -> str:
    """The marked sections of a page, for a rewrite of the rest."""
    kept = ""
    for start, end in SECTIONS.values():
        if start in current and end in current:
            kept += "\n" + start + current.split(start, 1)[1].split(end, 1)[0] + end + "\n"
    return kept
