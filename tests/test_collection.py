"""The suite collects every app's tests: a folder left out of pyproject's `testpaths` is never
run by `make test` or CI (audit/'s tests were left out until December 2026)."""

import tomllib
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
NOT_PROJECT = {".venv", "node_modules", ".git", "var", "static", "staticfiles"}


def _testpaths() -> list[str]:
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())
    return config["tool"]["pytest"]["ini_options"]["testpaths"]


def test_every_top_level_folder_with_tests_is_in_testpaths():
    testpaths = set(_testpaths())
    with_tests = {
        folder.name
        for folder in BASE_DIR.iterdir()
        if folder.is_dir()
        and folder.name not in NOT_PROJECT
        and (
            (folder / "tests" / "__init__.py").exists()
            or any((folder / "tests").glob("test_*.py"))
            or (folder.name == "tests" and any(folder.glob("test_*.py")))
        )
    }
    assert "audit" in with_tests
    assert sorted(with_tests - testpaths) == []


def test_every_test_file_lies_under_a_testpath():
    roots = [BASE_DIR / path for path in _testpaths()]
    assert all(root.is_dir() for root in roots), roots
    stray = [
        str(path.relative_to(BASE_DIR))
        for path in BASE_DIR.rglob("test_*.py")
        if not NOT_PROJECT & set(path.relative_to(BASE_DIR).parts)
        and not any(root in path.parents for root in roots)
    ]
    assert stray == []
