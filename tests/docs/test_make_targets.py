"""Every make target the README names runs here, on every environment it accepts, exactly as a reader types it.

The README names `make synth` (dev, and ENV= each of Cruddur's environments), `make test`, `make cost` and
`make help`. `make test` is the one not run here: it runs this file (`.ci/run` runs `make test` itself); its
recipe is checked with `make -n`. Targets that need AWS credentials (deploy, destroy, diff, secrets) are not named
in the README: docs/deploy.md names them, its lines are checked by test_snippets.py, and the deploy cycle runs
against moto's server in tests/emulator/.

`make synth` writes the repository's cdk.out/, as it does for a reader; the runs here take a lock so that test
processes never write it at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.environments import DEFAULT_ENVIRONMENT, ENVIRONMENTS
from tests.docs.snippets import SHELLS, command_lines, snippets
from testsupport import REPO_ROOT

README = REPO_ROOT / "README.md"
# The targets this file runs; a target the README names must be here (or be `test`, see the docstring).
RUN_HERE = {"synth", "cost", "help"}
NOT_RUN_HERE = {"test": "it runs this file; .ci/run runs it on a fresh clone"}


# Tool folders a checkout may share with another (a git worktree links them): their install stamps are older than
# this checkout's files, and make must not reinstall into the other checkout. On a clone, none is a link.
SHARED_TOOLS = ("node_modules", ".venv-checkov", "frontend/node_modules")


def make(*arguments: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``make ARGUMENTS`` in the repository root, as a reader runs it (the environment of the test run)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "PYTEST_XDIST"))}
    shared = [f"--assume-old={tool}/.installed" for tool in SHARED_TOOLS if (REPO_ROOT / tool).is_symlink()]
    return subprocess.run(
        ["make", *shared, *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def cdk_out_lock(tmp_path_factory) -> Iterator[None]:
    """One `make synth` at a time across test processes: they share the repository's cdk.out/."""
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "make-synth.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def readme_make_commands() -> list[list[str]]:
    """Every `make ...` command of the README: its shell snippets' lines and its inline code."""
    commands = []
    for snippet in snippets(README):
        if snippet.language in SHELLS:
            commands += [line.split("#")[0].split() for _, line in command_lines(snippet)]
    commands += [code.split() for code in re.findall(r"`(make [^`]+)`", README.read_text())]
    return [words[1:] for words in commands if words and words[0] == "make"]


def test_every_target_the_readme_names_is_run_here():
    """The README's make targets are the ones this file runs (and `make test`, which runs it)."""
    named = {word for words in readme_make_commands() for word in words if "=" not in word}
    assert named, "the README names no make target: the reader's two commands are missing"
    assert {"synth", "test"} <= named
    assert named <= RUN_HERE | set(NOT_RUN_HERE), f"named but never run by a test: {named - RUN_HERE}"


def test_the_readme_names_no_target_that_needs_aws_credentials():
    """deploy, destroy, diff, secrets, honeycomb-queries and honeycomb-slos live in docs/, not the README's commands."""
    named = {word for words in readme_make_commands() for word in words}
    assert not named & {"deploy", "destroy", "diff", "secrets", "honeycomb-queries", "honeycomb-slos"}


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_make_synth_synthesizes_each_environment(environment: str, cdk_out_lock):
    """`make synth` (dev) and `make synth ENV=NAME`: exit 0, the environment's three stacks listed and in cdk.out."""
    arguments = ["synth"] if environment == DEFAULT_ENVIRONMENT else ["synth", f"ENV={environment}"]
    result = make(*arguments)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((REPO_ROOT / "cdk.out/manifest.json").read_text())
    stacks = sorted(
        name for name, artifact in manifest["artifacts"].items() if artifact["type"] == "aws:cloudformation:stack"
    )
    assert len(stacks) == 3 and all(f"-{environment}-" in name for name in stacks), stacks
    for stack in stacks:
        assert stack in result.stdout, f"make synth did not list {stack}"


def test_make_synth_of_an_unknown_environment_is_one_sentence(cdk_out_lock):
    """A misspelt ENV is the config's one sentence naming the valid ones, not a traceback."""
    result = make("synth", "ENV=prd")
    assert result.returncode != 0
    assert "error: unknown environment 'prd'; valid environments are" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_cost_prices_every_environment():
    """`make cost`: a total for each environment (and dev on its schedule), nothing unpriced, no default profile."""
    result = make("cost")
    assert result.returncode == 0, result.stderr[-3000:]
    for environment in ENVIRONMENTS:
        assert re.search(rf"^{environment} \(always on\): [\d,]+\.\d\d USD/month$", result.stdout, re.MULTILINE)
    assert "default usage profile" not in result.stdout
    totals = {
        (environment, variant): figure
        for environment, variant, figure in re.findall(
            r"^(\w+) \(([^)]*)\): ([\d,]+\.\d\d) USD/month$", result.stdout, re.MULTILINE
        )
    }
    # The figures the manual quotes are the ones make cost prints today, so a change that moves a total moves them.
    quoted = [totals["dev", "always on"], totals["dev", "on schedule"], totals["staging", "always on"]]
    quoted.append(totals["prod", "always on"])
    readme_row = next(line for line in README.read_text().splitlines() if line.startswith("| USD / month"))
    assert re.findall(r"[\d,]+\.\d\d", readme_row) == quoted, readme_row
    cost_page = (REPO_ROOT / "docs" / "cost.md").read_text()
    table = cost_page[cost_page.index("| environment | USD / month |") :].split("\n\n", 1)[0]
    assert re.findall(r"\| ([\d,]+\.\d\d) \|", table) == quoted, table


def test_make_cost_formats_and_the_opentelemetry_path():
    """`make cost FORMAT=json XRAY_PATH=opentelemetry-collector`: every environment, priced on that path."""
    result = make("cost", "FORMAT=json", "XRAY_PATH=opentelemetry-collector")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout[result.stdout.index("\n{") :]  # after the recipe line make echoes
    estimates = json.loads(printed)["estimates"]
    environments = {estimate["environment"] for estimate in estimates}
    assert environments == {f"{name} on opentelemetry-collector" for name in ENVIRONMENTS}
    assert all(float(estimate["total_usd"]) > 0 for estimate in estimates)
    markdown = make("cost", "FORMAT=markdown")
    assert markdown.returncode == 0 and "\n### Monthly cost estimate\n" in markdown.stdout


def test_make_help_lists_every_target_with_its_sentence():
    """`make help`: one line per documented target, the README's among them."""
    result = make("help")
    assert result.returncode == 0
    listed = set(re.findall(r"^  make (\S+)", result.stdout, re.MULTILINE))
    documented = set(re.findall(r"^([a-z-]+):.*## ", Path(REPO_ROOT / "Makefile").read_text(), re.MULTILINE))
    assert listed == documented and {"synth", "test", "cost", "help"} <= listed


def test_make_test_runs_lint_then_the_suite():
    """`make test` (not run here: it runs this file) resolves to lint and then pytest over tests/."""
    result = make("-n", "test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("ruff check ." in line for line in lines)
    assert re.search(r"python -m pytest -n \S+", lines[-1]), lines[-1]
    assert (REPO_ROOT / ".ci/run").read_text().strip().endswith("make test")
