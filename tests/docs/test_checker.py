"""The snippet checker itself, on planted Markdown: each bad snippet is caught, naming what is wrong; good ones pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from flask_aws_telemetry_cdk import ConfigError
from tests.docs.snippets import (
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
from tests.docs.test_snippets import FRONTEND_SOURCES, PROJECT, SNIPPET_ENVIRONMENT
from testsupport import REPO_ROOT

SAMPLE = """# A planted page

```yaml
key: value
```

```
make synth
```

  ```sh
  make synth ENV=prod   # indented, in a list item
  ```

<!-- snippet: compile-only: needs a deployed account -->
```python
import boto3
```
"""


def sample(tmp_path: Path, text: str = SAMPLE) -> list[Snippet]:
    """The snippets of a Markdown file written into ``tmp_path``."""
    path = tmp_path / "sample.md"
    path.write_text(text)
    return snippets(path)


def shell(text: str, language: str = "sh") -> list[str]:
    """The checker's findings on one shell snippet."""
    return shell_errors(Snippet(Path("sample.md"), 1, language, text), PROJECT)


def test_fences_are_read_with_their_language_line_marker_and_indentation(tmp_path):
    """Four fences: their languages, the list item's indentation removed, the marker comment kept."""
    found = sample(tmp_path)
    assert [s.language for s in found] == ["yaml", "", "sh", "python"]
    assert found[2].text == "make synth ENV=prod   # indented, in a list item"
    assert found[3].marker == "compile-only: needs a deployed account" and found[3].line == 17


def test_a_fence_in_an_unchecked_language_or_none_is_refused(tmp_path):
    """yaml and a bare fence would escape every check: both are named."""
    yaml_block, bare, sh, python = sample(tmp_path)
    assert "```yaml is not checked by tests/docs" in fence_errors(yaml_block)[0]
    assert "a fenced block without a language" in fence_errors(bare)[0]
    assert fence_errors(sh) == fence_errors(python) == []


@pytest.mark.parametrize(
    ("line", "finding"),
    [
        ("make deploi ENV=dev", "the Makefile has no target 'deploi'"),
        ("make synth ENV=prd", "ENV=prd is not one the project accepts"),
        ("make cost FORMAT=yaml", "FORMAT=yaml is not one the project accepts"),
        ("make cost COLOUR=1", "the Makefile reads no variable COLOUR"),
        ("make", "name the make target"),
        ("NOT_READ_ANYWHERE_42=1 make synth", "the variable NOT_READ_ANYWHERE_42 is read nowhere"),
        ("cdk synth -c enviroment=dev", "app.py reads no context key 'enviroment'"),
        ("cdk synth -c env=prd", "env=prd is not an environment"),
        ("cdk deploy cruddur-nowhere -c env=dev", "app.py builds no stack named like 'cruddur-nowhere'"),
        ("cdk launch", "cdk's subcommand must be one of"),
        ("python -m cost.nowhere", "no module 'cost.nowhere' is installed"),
        ("python scripts/put_secrets.py", "run Python code as a module"),
        ("gunicorn --config python:no_such_config app:app", "no module 'no_such_config'"),
        ("cd no/such/folder", "'no/such/folder' is not a folder of the repository"),
        ("npm install --save-exact @opentelemetry/api@1.0.0", "frontend/package.json pins @opentelemetry/api@1.9.1"),
        ("rm -rf cdk.out", "`rm` is not a command tests/docs knows how to check"),
        ("make synth && make cost FORMAT=xml", "FORMAT=xml"),
        ("make synth 'unclosed", "does not parse as a shell line"),
    ],
)
def test_a_planted_bad_shell_line_is_named(line: str, finding: str):
    """Each bad line gives one finding that names the line and what is wrong."""
    findings = shell(line)
    assert len(findings) == 1, findings
    assert finding in findings[0] and f"`{line}`" in findings[0]


@pytest.mark.parametrize(
    "line",
    [
        "make synth ENV=prod",
        "make cost FORMAT=json XRAY_PATH=opentelemetry-collector",
        "HONEYCOMB_API_KEY=... ROLLBAR_ACCESS_TOKEN=... make secrets ENV=dev",
        "cdk deploy cruddur-transaction-search -c transaction_search=true",
        "cdk synth -c env=all",
        "cdk bootstrap aws://123456789012/us-east-1",
        "python -m scripts.pinned_images --references",
        "git clone https://github.com/omenking/aws-bootcamp-cruddur-2023.git && cd aws-bootcamp-cruddur-2023/x",
        'export PATH="$PWD/node_modules/.bin:$PATH"',
        "make test \\\n  PYTEST_WORKERS=0",
    ],
)
def test_a_good_shell_line_passes(line: str):
    """Lines naming what exists give no finding (continuations joined, comments and && handled)."""
    assert shell(line) == []


def test_a_console_block_checks_only_its_prompt_lines():
    """In ``console``, ``$ `` lines are commands and the rest is output."""
    assert shell("$ make synth\nmake: this is output, not checked", "console") == []
    assert "no target 'nope'" in shell("$ make nope\noutput", "console")[0]


def test_cd_into_an_example_checks_cdk_against_that_apps_context(tmp_path):
    """cdk after cd runs the app that folder's cdk.json names: a key only the root app reads is refused there."""
    app = tmp_path / "team"
    app.mkdir()
    (app / "cdk.json").write_text('{"app": "python3 app.py"}')
    (app / "app.py").write_text('stage = app.node.try_get_context("stage")\nname = f"team-{stage}-service"\n')
    snippet = Snippet(Path("sample.md"), 1, "sh", "cdk synth -c stage=beta team-beta-service\ncdk synth -c env=dev")
    findings = shell_errors(snippet, PROJECT, cwd=app)
    assert len(findings) == 1 and "reads no context key 'env'" in findings[0]


def test_printed_text_with_a_command_line_is_refused():
    """A command hidden in a text block is named."""
    block = Snippet(Path("sample.md"), 1, "text", "error: something\nmake deploy ENV=prod\n$ cdk synth")
    assert len(text_errors(block)) == 2


def test_json_and_javascript_blocks_are_held_to_their_sources():
    """Broken JSON is named; a JavaScript line not in the frontend's sources is named."""
    assert "not JSON" in json_errors(Snippet(Path("s.md"), 1, "json", '{"a": 1,}'))[0]
    assert json_errors(Snippet(Path("s.md"), 1, "json", '{"a": 1}')) == []
    quoted = "import { startTracing } from './tracing';"
    assert quote_errors(Snippet(Path("s.md"), 1, "js", quoted), FRONTEND_SOURCES) == []
    invented = Snippet(Path("s.md"), 1, "js", "startTracing({ backend: 'x' });")
    assert "is in none of" in quote_errors(invented, FRONTEND_SOURCES)[0]


def test_an_import_that_does_not_resolve_is_named():
    """compile-only snippets still resolve their imports."""
    assert import_errors("from flask_aws_telemetry_cdk import FlaskAppStack") == [
        "flask_aws_telemetry_cdk has no name 'FlaskAppStack'"
    ]
    assert import_errors("import no_such_module_here") == ["no module 'no_such_module_here' is installed"]
    assert import_errors("from flask_aws_telemetry_cdk import FlaskAppStacks\nimport boto3") == []


def test_the_formatters_one_element_tuple_fails_the_snippet_test(tmp_path):
    """The snippet the formatter broke (edge = (EdgeConfig(...),)) is a config error when run, so the test fails."""
    broken = Snippet(
        Path("sample.md"),
        1,
        "python",
        "from flask_aws_telemetry_cdk import EdgeConfig\n"
        "from infra.environments import prod\n"
        "config = prod().with_changes()\n"
        "import dataclasses\n"
        "config = dataclasses.replace(config, edge=(EdgeConfig(access_logs=True),))\n",
    )
    with pytest.raises(ConfigError, match="edge"):
        run_python(broken, REPO_ROOT, tmp_path, SNIPPET_ENVIRONMENT)


def test_a_python_snippet_that_builds_nothing_proves_nothing(tmp_path):
    """A snippet that only assigns values reports nothing proved (the snippet test then fails naming it)."""
    idle = Snippet(Path("sample.md"), 1, "python", "value = 1 + 1\n")
    assert run_python(idle, REPO_ROOT, tmp_path, SNIPPET_ENVIRONMENT) == []


def test_a_flask_app_whose_route_fails_is_named(tmp_path):
    """create_app is called and its GET routes requested: a 500 is a failure naming the route."""
    failing = Snippet(
        Path("sample.md"),
        1,
        "python",
        "from flask import Flask\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    app.add_url_rule('/boom', 'boom', lambda: 1 / 0)\n"
        "    return app\n",
    )
    with pytest.raises(AssertionError, match="GET /boom answered 500"):
        run_python(failing, REPO_ROOT, tmp_path, SNIPPET_ENVIRONMENT)
