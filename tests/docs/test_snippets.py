"""Every snippet of README.md and docs/*.md: Python run (a config synthesized), shell lines checked, nothing else.

A Python snippet is executed as a reader would paste it, from the repository root (or the folder its
``<!-- snippet: cwd=DIR -->`` marker names). What it builds is then proved:

* an ``EnvironmentConfig`` is synthesized in-process (``synthesize``, as ``app.py`` would: cdk-nag included), once
  per distinct snippet in the session;
* a CDK ``App`` it made is synthesized;
* a ``create_app`` it defines is called, and every GET route without parameters answers below 500.

A snippet that builds none of these fails: it would prove nothing. Snippets marked
``<!-- snippet: compile-only: REASON -->`` are compiled and their imports resolved instead; the reason says what
running them needs (a deployed account).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from cost.render import RENDERERS
from flask_aws_telemetry_cdk import XRayPath
from infra.environments import ENVIRONMENTS
from tests.docs.snippets import (
    DOCKERFILE,
    JS,
    JSON,
    PYTHON,
    SHELLS,
    TEXT,
    Project,
    Snippet,
    fence_errors,
    import_errors,
    json_errors,
    quote_errors,
    run_python,
    shell_errors,
    snippets,
    text_errors,
)
from testsupport import REPO_ROOT

# The manual. The packages' READMEs are their own (tests/infra/test_package_readme_app.py runs the constructs' example).
MANUAL = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
ALL = [snippet for path in MANUAL for snippet in snippets(path)]
FRONTEND_SOURCES = [*sorted((REPO_ROOT / "frontend/src").rglob("*.js")), *(REPO_ROOT / "tests/browser/page").glob("*")]
DOCKERFILES = sorted(path for path in REPO_ROOT.glob("**/Dockerfile") if "node_modules" not in path.parts)
# The environment a snippet runs in: what the task would set for a Flask app, the telemetry's parts off.
SNIPPET_ENVIRONMENT = {"OTEL_SERVICE_NAME": "docs-snippet"}


def of(language: str | frozenset[str]) -> list[Any]:
    """The snippets of one language (or family), as parameters named by their file and line."""
    languages = {language} if isinstance(language, str) else language
    return [pytest.param(s, id=s.where) for s in ALL if s.language in languages]


def project() -> Project:
    """What this repository lets a snippet name."""
    return Project(
        REPO_ROOT,
        environments=frozenset(ENVIRONMENTS),
        variable_values={
            "ENV": frozenset(ENVIRONMENTS),
            "FORMAT": frozenset(RENDERERS),
            "XRAY_PATH": frozenset(path.value for path in XRayPath),
        },
    )


PROJECT = project()


def test_the_manual_has_snippets_of_each_kind_it_checks():
    """The discovery works: README and docs/ hold Python and shell snippets (a parser finding none passes all)."""
    languages = {snippet.language for snippet in ALL}
    assert PYTHON in languages and languages & SHELLS
    assert len(ALL) >= 20


@pytest.mark.parametrize("snippet", [pytest.param(s, id=s.where) for s in ALL])
def test_every_fence_is_a_kind_the_checks_know(snippet: Snippet):
    """A fence without a language, or in one no check covers, would escape: it is refused."""
    assert fence_errors(snippet) == []


@pytest.mark.parametrize("snippet", of(SHELLS))
def test_shell_lines_name_what_exists(snippet: Snippet):
    """make targets and variables, cdk keys and stacks, python -m modules and environments all exist."""
    assert shell_errors(snippet, PROJECT) == []


@pytest.mark.parametrize("snippet", of(TEXT))
def test_printed_output_holds_no_command(snippet: Snippet):
    """What a command prints is text; a command in it would escape the shell checks."""
    assert text_errors(snippet) == []


@pytest.mark.parametrize("snippet", of(JSON))
def test_json_parses(snippet: Snippet):
    """A JSON example is JSON."""
    assert json_errors(snippet) == []


@pytest.mark.parametrize("snippet", of(JS))
def test_javascript_is_quoted_from_the_frontend(snippet: Snippet):
    """Each JavaScript line is in frontend/src or the browser test's page, which the browser test runs."""
    assert quote_errors(snippet, FRONTEND_SOURCES) == []


@pytest.mark.parametrize("snippet", of(DOCKERFILE))
def test_dockerfile_lines_are_quoted_from_a_dockerfile(snippet: Snippet):
    """Each Dockerfile line is in one of the repository's Dockerfiles, which the image and example tests build."""
    assert quote_errors(snippet, DOCKERFILES) == []


@pytest.fixture(scope="session")
def synthesized_snippets() -> dict[str, list[str]]:
    """Snippet digest -> what running it proved: one synthesis per distinct snippet in the session."""
    return {}


@pytest.mark.parametrize("snippet", of(PYTHON))
def test_python_snippet_runs(snippet: Snippet, tmp_path: Path, synthesized_snippets):
    """Given the snippet as a reader pastes it, when it runs, what it builds synthesizes or serves."""
    if snippet.marker.startswith("compile-only"):
        reason = snippet.marker.removeprefix("compile-only").strip(" :")
        assert reason, f"{snippet.where}: say why it cannot run (compile-only: REASON)"
        compile(snippet.text, snippet.where, "exec")
        assert import_errors(snippet.text) == []
        return
    digest = hashlib.sha256(f"{snippet.marker}\n{snippet.text}".encode()).hexdigest()
    if digest not in synthesized_snippets:
        synthesized_snippets[digest] = run_python(snippet, REPO_ROOT, tmp_path, SNIPPET_ENVIRONMENT)
    assert synthesized_snippets[digest], (
        f"{snippet.where}: builds no config, CDK app or Flask app, so running it proves nothing; "
        "make it build one, or mark it <!-- snippet: compile-only: REASON -->"
    )
