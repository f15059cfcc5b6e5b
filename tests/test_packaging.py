"""What `make dist` ships: every file the server reads at run time from inside the package
(templates, static files, migration templates) matches pyproject's package-data, so a wheel
installed from dist/ (the Dockerfile's runtime stage) serves what a checkout serves. Only
Markdown notes for readers of the repository stay out."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "smsgate"


def _shipped(relative: str, patterns: list[str]) -> bool:
    path = PurePosixPath(relative)
    # setuptools' "**/" spans any depth, none included; PurePosixPath.match has no "**".
    return any(
        path.match(p) or path.match(p.replace("**/", "")) or path.match(p.replace("**/", "*/"))
        for p in patterns
    )


def test_every_data_file_of_the_package_is_in_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["smsgate"]
    data = [
        f.relative_to(PACKAGE).as_posix()
        for f in PACKAGE.rglob("*")
        if f.is_file() and f.suffix not in (".py", ".pyc", ".md") and "__pycache__" not in f.parts
    ]
    assert "doors/dashboard/templates/base.html" in data  # the walk found the package's files
    missing = [f for f in data if not _shipped(f, patterns)]
    assert missing == [], f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"
