"""The manual's shape: a short README that leads to every docs/ page, links that resolve, paths that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.test_snippets import MANUAL
from testsupport import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
README_MAX_LINES = 200
LINK = re.compile(r"\]\((?!https?://)(?P<target>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")
CODE = re.compile(r"`([^`\n]+)`")
# A code span starting with one of these names a file or folder of this repository (the packages' modules by
# their import path); other code spans (log groups, URLs, other repositories' files) are not checked.
PACKAGE_SOURCES = {
    "flask_aws_telemetry_cdk/": REPO_ROOT / "packages/flask-aws-telemetry-cdk/src",
    "flask_aws_telemetry/": REPO_ROOT / "packages/flask-aws-telemetry/src",
}
TOP_LEVEL = (
    "app.py",
    "infra/",
    "packages/",
    "service/",
    "cost/",
    "tests/",
    "testsupport/",
    "scripts/",
    "bench/",
    "frontend/",
    "honeycomb/",
    "sidecars/",
    "examples/",
    "docs/",
    ".github/",
)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_the_readme_is_the_front_door():
    """At most ~200 lines, and it links every docs/ page."""
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    linked = {match["target"] for match in LINK.finditer(text)}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert pages and pages <= linked, f"docs pages the README does not lead to: {sorted(pages - linked)}"


@pytest.mark.parametrize("page", [pytest.param(path, id=path.name) for path in MANUAL])
def test_every_link_resolves(page: Path):
    """Each relative link names a file that exists, and each #anchor a heading of it."""
    for match in LINK.finditer(page.read_text()):
        target = (page.parent / match["target"]).resolve() if match["target"] else page
        assert target.exists(), f"{page.name}: link to {match['target']} which does not exist"
        if match["anchor"] and target.suffix == ".md":
            assert match["anchor"] in anchors(target), f"{page.name}: no heading #{match['anchor']} in {target.name}"


def repository_paths(text: str) -> list[str]:
    """The code spans that name a path of this repository."""
    found = []
    for span in CODE.findall(text):
        word = span.split()[0] if span.split() else ""
        if word.startswith((*TOP_LEVEL, *PACKAGE_SOURCES)) and "<" not in word and "{" not in word:
            found.append(word.rstrip(".,:;"))
    return found


def resolve(path: str) -> list[Path]:
    """The files a path names (a glob may name several), under the repository or a package's sources."""
    for prefix, root in PACKAGE_SOURCES.items():
        if path.startswith(prefix):
            return list(root.glob(path)) if "*" in path else [root / path]
    return list(REPO_ROOT.glob(path)) if "*" in path else [REPO_ROOT / path]


@pytest.mark.parametrize("page", [pytest.param(path, id=path.name) for path in MANUAL])
def test_every_repository_path_the_manual_names_exists(page: Path):
    """`infra/environments.py`, `flask_aws_telemetry_cdk/components/sidecars.py`, ...: moved files break the manual."""
    missing = [path for path in repository_paths(page.read_text()) if not any(p.exists() for p in resolve(path))]
    assert missing == []
