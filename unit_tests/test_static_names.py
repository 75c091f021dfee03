"""Every Python file of the project passes pyflakes: a name a test uses but never defines (or a leftover
import) otherwise shows only when that test runs, which for the server tests is in CI, half an hour
later. A line may opt out with ``# noqa`` when the import is the point (a re-exported API, a pytest
hook)."""

from __future__ import annotations

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


def _project_python_files() -> list[Path]:
    """The project's own files: hidden folders (.venv, .git) and build output are someone else's."""
    return sorted(path for path in ROOT.rglob("*.py") if not any(
        part.startswith(".") or part in ("build", "__pycache__") or part.endswith(".egg-info")
        for part in path.relative_to(ROOT).parts[:-1]))


def test_every_project_python_file_is_checked():
    files = _project_python_files()
    assert ROOT / "integration_tests" / "test_write.py" in files and len(files) > 100


def test_no_undefined_names_or_unused_imports():
    collect = _Collect()
    for path in _project_python_files():
        api.checkPath(str(path), collect)
    assert collect.found == [], "\n".join(collect.found)
