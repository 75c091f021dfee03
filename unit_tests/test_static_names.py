"""Every tracked Python file passes pyflakes: a name a test uses but never defines (or a leftover
import) otherwise shows only when that test runs, which for the server tests is in CI, half an hour
later. A line may opt out with ``# noqa`` when the import is the point (a re-exported API, a pytest
hook)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pyflakes import api, reporter

ROOT = Path(__file__).resolve().parent.parent


class _Collect(reporter.Reporter):
    def __init__(self) -> None:
        self.found: list[str] = []

    def unexpectedError(self, filename, msg):  # noqa: N802 - pyflakes's callback names
        self.found.append(f"{filename}: {msg}")

    def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802
        self.found.append(f"{filename}:{lineno}: {msg}")

    def flake(self, message):
        line = Path(message.filename).read_text(encoding="utf-8").splitlines()[message.lineno - 1]
        if "# noqa" not in line:
            self.found.append(str(message))


def _tracked_python_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split()]


def test_every_tracked_python_file_is_checked():
    files = _tracked_python_files()
    assert ROOT / "integration_tests" / "test_write.py" in files and len(files) > 100


def test_no_undefined_names_or_unused_imports():
    collect = _Collect()
    for path in _tracked_python_files():
        api.checkPath(str(path), collect)
    assert collect.found == [], "\n".join(collect.found)
