"""The manual's snippets: read from Markdown, and each shell line checked against what the project has.

A fenced block's language says how it is held to the project:

* ``python``: run by ``tests/docs/test_snippets.py`` (a config it builds is synthesized); a comment
  ``<!-- snippet: compile-only: REASON -->`` on the line before the fence, where running needs something the tests
  cannot have (a deployed account), has it compiled and its imports resolved instead; ``<!-- snippet: cwd=DIR -->``
  runs it in ``DIR`` (an example's repository);
* ``sh``, ``bash``, ``shell``, ``console`` (``$ `` lines): every command line checked here
  (``shell_errors``): make targets and variables, cdk subcommands, context keys and stacks, ``python -m`` modules,
  environment names, the variables set before a command, directories, pinned npm packages;
* ``text`` (what a command prints) may hold no command line; ``json`` must parse; ``js`` and ``dockerfile`` are
  quoted, line by line, from the frontend's sources and the repository's Dockerfiles.

Any other fence, or one without a language, is refused (``fence_errors``): nothing a reader copies escapes a check.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import json
import os
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

PYTHON = "python"
SHELLS = frozenset({"sh", "bash", "shell", "console"})
TEXT, JSON, JS, DOCKERFILE = "text", "json", "js", "dockerfile"
KNOWN_LANGUAGES = frozenset({PYTHON, TEXT, JSON, JS, DOCKERFILE}) | SHELLS

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
MARKER = re.compile(r"<!--\s*snippet:\s*(?P<marker>.*?)\s*-->")
# The commands a shell snippet may use; each has a check below (or, for the harmless ones, none is needed).
PYTHONS = frozenset({"python", "python3", ".venv/bin/python"})
COMMANDS = frozenset({"make", "cdk", "cd", "export", "curl", "npm", "git", "gunicorn", "pip"}) | PYTHONS
CDK_SUBCOMMANDS = frozenset({"synth", "diff", "deploy", "destroy", "bootstrap", "list", "ls"})
CDK_OPTIONS_WITH_VALUES = frozenset({"--require-approval", "--profile", "--output", "-o", "--app", "-a"})
SEPARATORS = frozenset({"&&", "||", ";", "|"})


@dataclass(frozen=True)
class Snippet:
    """One fenced block: where it is, its language, its text and the marker comment before it."""

    path: Path
    line: int
    language: str
    text: str
    marker: str = ""

    @property
    def where(self) -> str:
        """``docs/cost.md:12``, for messages and test ids."""
        return f"{self.path.name}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    """Every fenced block of the Markdown file ``path``, in order."""
    found = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        previous = lines[index - 1] if index else ""
        marker = MARKER.search(previous)
        body = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            line = lines[index]
            body.append(line[indent:] if indent and line[:indent].isspace() else line)
            index += 1
        start = index - len(body) + 1  # the first line of the body, counted from 1
        found.append(
            Snippet(path, start, opening["info"].strip().lower(), "\n".join(body), marker["marker"] if marker else "")
        )
        index += 1
    return found


def fence_errors(snippet: Snippet) -> list[str]:
    """A fence with no language, or one the checks do not know, is refused."""
    if not snippet.language:
        return [f"{snippet.where}: a fenced block without a language; name one of {', '.join(sorted(KNOWN_LANGUAGES))}"]
    if snippet.language not in KNOWN_LANGUAGES:
        return [
            f"{snippet.where}: ```{snippet.language} is not checked by tests/docs; use one of "
            f"{', '.join(sorted(KNOWN_LANGUAGES))} (or teach tests/docs/snippets.py the language)"
        ]
    return []


@dataclass
class Project:
    """What a snippet may name: the Makefile's targets and variables, the CDK apps' context keys, the environments."""

    root: Path
    environments: frozenset[str]
    # Values a make variable accepts, where the project knows them (ENV, FORMAT, XRAY_PATH).
    variable_values: dict[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def makefile(self) -> str:
        """The Makefile's text."""
        return (self.root / "Makefile").read_text()

    @cached_property
    def make_targets(self) -> frozenset[str]:
        """Every target the Makefile defines (not the file targets it builds)."""
        return frozenset(re.findall(r"^([a-z][a-z0-9-]*):(?!=)", self.makefile, flags=re.MULTILINE))

    @cached_property
    def make_variables(self) -> frozenset[str]:
        """Every variable the Makefile reads: ``$(NAME)``."""
        return frozenset(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", self.makefile))

    @cached_property
    def source_text(self) -> str:
        """The project's own sources, where a variable set before a command must be read."""
        roots = ["Makefile", "app.py", "scripts", "packages", "service", "cost", "infra", "frontend/src", "examples"]
        texts = []
        for name in roots:
            path = self.root / name
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in (".py", ".js", ".sh")]
            texts += [p.read_text(errors="replace") for p in files if p.is_file()]
        return "\n".join(texts)

    def cdk_app(self, directory: Path) -> Path | None:
        """The CDK app ``cdk`` runs in ``directory``: the script cdk.json's ``app`` command names."""
        cdk_json = directory / "cdk.json"
        if not cdk_json.is_file():
            return None
        command = shlex.split(json.loads(cdk_json.read_text())["app"])
        scripts = [word for word in command if word.endswith(".py")]
        return directory / scripts[0] if scripts else None

    def context_keys(self, app: Path) -> frozenset[str]:
        """Every ``try_get_context("KEY")`` / ``get_context("KEY")`` key the CDK app reads."""
        keys = set()
        for node in ast.walk(ast.parse(app.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("try_get_context", "get_context")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add(str(node.args[0].value))
        return frozenset(keys)

    def stack_name_patterns(self, app: Path) -> list[re.Pattern[str]]:
        """Stack names the CDK app builds: its f-strings ending in a literal suffix, placeholders as name parts, and
        the three stacks of each ``short_name=`` it gives.
        """
        patterns = []
        for node in ast.walk(ast.parse(app.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[-1], ast.Constant):
                parts = [
                    re.escape(str(part.value)) if isinstance(part, ast.Constant) else "[a-z0-9][a-z0-9-]*"
                    for part in node.values
                ]
                patterns.append(re.compile("".join(parts)))
            if isinstance(node, ast.keyword) and node.arg == "short_name" and isinstance(node.value, ast.Constant):
                # FlaskAppStacks names its stacks <short_name>-<name>-network, -observability, -service
                short = re.escape(str(node.value.value))
                patterns.append(re.compile(f"{short}-[a-z0-9][a-z0-9-]*-(network|observability|service)"))
        return patterns

    @cached_property
    def npm_pins(self) -> dict[str, str]:
        """The frontend's pinned packages and their versions."""
        package = json.loads((self.root / "frontend/package.json").read_text())
        return {**package.get("dependencies", {}), **package.get("devDependencies", {})}


@dataclass
class _Session:
    """A shell snippet read top to bottom: its working directory and the checkouts it made."""

    project: Project
    cwd: Path
    external: set[str] = field(default_factory=set)


def command_lines(snippet: Snippet) -> Iterator[tuple[int, str]]:
    """The snippet's command lines (continuations joined; in ``console``, only the ``$ `` lines), with line numbers."""
    pending, start = "", 0
    for offset, raw in enumerate(snippet.text.splitlines()):
        line = raw
        if snippet.language == "console" and not pending:
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if not pending:
            start = snippet.line + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full and not full.startswith("#"):
            yield start, full


def _words(line: str) -> list[list[str]]:
    """The line's simple commands, each as its words (comments dropped, ``&&``, ``;`` and pipes split)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


def shell_errors(snippet: Snippet, project: Project, cwd: Path | None = None) -> list[str]:
    """Every shell line of ``snippet`` checked; one sentence per problem, naming the line."""
    session = _Session(project, cwd or project.root)
    errors = []
    for number, line in command_lines(snippet):
        try:
            commands = _words(line)
        except ValueError as error:
            errors.append(f"{snippet.path.name}:{number}: `{line}` does not parse as a shell line ({error})")
            continue
        for words in commands:
            errors += [f"{snippet.path.name}:{number}: `{line}`: {problem}" for problem in _check(words, session)]
    return errors


def _check(words: list[str], session: _Session) -> list[str]:
    """One simple command: its leading assignments, then the command itself."""
    project = session.project
    problems = []
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name = words[0].split("=", 1)[0]
        if not re.search(rf"\b{name}\b", project.source_text):
            problems.append(f"the variable {name} is read nowhere in the project")
        words = words[1:]
    if not words:
        return problems
    command, arguments = words[0], words[1:]
    if command not in COMMANDS:
        return [
            *problems,
            f"`{command}` is not a command tests/docs knows how to check "
            f"({', '.join(sorted(COMMANDS))}); teach tests/docs/snippets.py, or write it in prose",
        ]
    if command == "make":
        problems += _check_make(arguments, project)
    elif command == "cdk":
        problems += _check_cdk(arguments, session)
    elif command in PYTHONS:
        problems += _check_python(arguments)
    elif command == "gunicorn":
        problems += _check_gunicorn(arguments)
    elif command == "cd":
        problems += _check_cd(arguments, session)
    elif command == "git":
        problems += _check_git(arguments, session)
    elif command == "npm":
        problems += _check_npm(arguments, project)
    elif command == "pip":
        problems += _check_pip(arguments, session)
    return problems


def _check_make(arguments: list[str], project: Project) -> list[str]:
    """``make TARGET... [VAR=VALUE...]``: targets the Makefile has, variables it reads, values they accept."""
    problems = []
    targets = [word for word in arguments if "=" not in word and not word.startswith("-")]
    if not targets:
        problems.append("name the make target (the default only prints help)")
    for target in targets:
        if target not in project.make_targets:
            problems.append(f"the Makefile has no target {target!r} (it has {', '.join(sorted(project.make_targets))})")
    for assignment in (word for word in arguments if "=" in word):
        name, value = assignment.split("=", 1)
        if name not in project.make_variables:
            problems.append(f"the Makefile reads no variable {name}")
        elif name in project.variable_values and value not in project.variable_values[name]:
            allowed = ", ".join(sorted(project.variable_values[name]))
            problems.append(f"{name}={value} is not one the project accepts ({allowed})")
    return problems


def _check_cdk(arguments: list[str], session: _Session) -> list[str]:
    """``cdk SUBCOMMAND [STACK...] [-c KEY=VALUE...]``: a subcommand, context keys and stacks the app in cwd has."""
    project = session.project
    if not arguments or arguments[0] not in CDK_SUBCOMMANDS:
        return [f"cdk's subcommand must be one of {', '.join(sorted(CDK_SUBCOMMANDS))}"]
    subcommand, rest = arguments[0], arguments[1:]
    app = project.cdk_app(session.cwd)
    if app is None:
        return [f"{session.cwd} has no cdk.json naming a Python CDK app"]
    keys = project.context_keys(app)
    problems, stacks, index = [], [], 0
    while index < len(rest):
        word = rest[index]
        if word in ("-c", "--context"):
            index += 1
            key, _, value = rest[index].partition("=") if index < len(rest) else ("", "", "")
            if key not in keys:
                problems.append(f"{_shown(app, project.root)} reads no context key {key!r}")
            elif key == "env" and value not in project.environments | {"all"}:
                problems.append(f"env={value} is not an environment ({', '.join(sorted(project.environments))}, all)")
        elif word in CDK_OPTIONS_WITH_VALUES:
            index += 1
        elif not word.startswith("-"):
            stacks.append(word)
        index += 1
    if subcommand == "bootstrap":
        return problems + [f"{s!r} is not aws://ACCOUNT/REGION" for s in stacks if not s.startswith("aws://")]
    patterns = project.stack_name_patterns(app)
    for stack in stacks:  # a glob ('notes-dev-*') names at least the service stack
        if not any(pattern.fullmatch(stack.replace("*", "service")) for pattern in patterns):
            problems.append(f"{_shown(app, project.root)} builds no stack named like {stack!r}")
    return problems


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository where it is inside it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _check_python(arguments: list[str]) -> list[str]:
    """``python -m MODULE ...``: the module exists in this environment."""
    if len(arguments) < 2 or arguments[0] != "-m":
        return ["run Python code as a module (`python -m MODULE`), which the check can resolve"]
    return _module_problems(arguments[1])


def _check_gunicorn(arguments: list[str]) -> list[str]:
    """``gunicorn --config python:MODULE APP``: the configuration module exists."""
    problems = []
    for index, word in enumerate(arguments):
        if word in ("-c", "--config") and index + 1 < len(arguments) and arguments[index + 1].startswith("python:"):
            problems += _module_problems(arguments[index + 1].removeprefix("python:"))
    return problems


def _module_problems(module: str) -> list[str]:
    """A module that does not import is named."""
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        found = None
    return [] if found is not None else [f"no module {module!r} is installed"]


def _check_cd(arguments: list[str], session: _Session) -> list[str]:
    """``cd DIR``: a folder of the repository, or of a checkout the snippet made; later lines run there."""
    if len(arguments) != 1:
        return ["cd takes one folder"]
    target = session.cwd / arguments[0]
    if arguments[0].split("/")[0] in session.external:
        return []
    if not target.is_dir():
        return [f"{arguments[0]!r} is not a folder of the repository"]
    session.cwd = target.resolve()
    return []


def _check_git(arguments: list[str], session: _Session) -> list[str]:
    """``git clone URL [DIR]``: noted, so that ``cd`` into the checkout is known."""
    if not arguments or arguments[0] != "clone":
        return ["only `git clone` is checked"]
    urls = [word for word in arguments[1:] if not word.startswith("-")]
    if not urls or not urls[0].startswith("https://"):
        return ["git clone needs an https:// URL"]
    session.external.add(urls[1] if len(urls) > 1 else urls[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
    return []


def _check_npm(arguments: list[str], project: Project) -> list[str]:
    """``npm install PACKAGE@VERSION``: the version the frontend pins."""
    problems = []
    for word in arguments[1:]:
        if word.startswith("-"):
            continue
        name, _, version = word.rpartition("@")
        if not name or name not in project.npm_pins:
            problems.append(f"{word!r}: frontend/package.json pins no such package")
        elif project.npm_pins[name] != version:
            problems.append(f"{word!r}: frontend/package.json pins {name}@{project.npm_pins[name]}")
    return problems


def _check_pip(arguments: list[str], session: _Session) -> list[str]:
    """``pip install PATH``: a path argument (with a slash) exists; the folders of ``--find-links`` are the reader's."""
    problems = []
    for previous, word in zip(["", *arguments], arguments, strict=False):
        if previous in ("-f", "--find-links") or word.startswith("-") or "/" not in word:
            continue
        if not (session.cwd / word.split("[")[0]).exists():
            problems.append(f"{word!r} does not exist")
    return problems


def text_errors(snippet: Snippet) -> list[str]:
    """A ``text`` block shows what a command printed: a command in it would escape the shell checks."""
    return [
        f"{snippet.where}: `{line.strip()}` looks like a command; put commands in a ```sh block"
        for line in snippet.text.splitlines()
        if line.split(" ", 1)[0] in COMMANDS | {"$"}
    ]


def json_errors(snippet: Snippet) -> list[str]:
    """A ``json`` block parses."""
    try:
        json.loads(snippet.text)
    except json.JSONDecodeError as error:
        return [f"{snippet.where}: not JSON ({error})"]
    return []


def quote_errors(snippet: Snippet, sources: Iterable[Path]) -> list[str]:
    """A ``js`` or ``dockerfile`` block quotes files the tests run: each of its lines is in one of ``sources``."""
    texts = [path.read_text() for path in sources]
    return [
        f"{snippet.where}: `{line.strip()}` is in none of {', '.join(sorted({p.name for p in sources}))}"
        for line in snippet.text.splitlines()
        if line.strip() and not any(line.strip() in text for text in texts)
    ]


def import_errors(source: str) -> list[str]:
    """Every import of ``source`` resolves: its module exists and has the names taken from it."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            problems += [problem for alias in node.names for problem in _module_problems(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            missing = _module_problems(node.module)
            if missing:
                problems += missing
                continue
            module = importlib.import_module(node.module)
            problems += [
                f"{node.module} has no name {alias.name!r}"
                for alias in node.names
                if alias.name != "*" and not hasattr(module, alias.name) and not _module_problems_ok(node, alias)
            ]
    return problems


def _module_problems_ok(node: ast.ImportFrom, alias: ast.alias) -> bool:
    """``from package import submodule`` is a name too."""
    return not _module_problems(f"{node.module}.{alias.name}")


def run_python(snippet: Snippet, root: Path, workdir: Path, environment: Mapping[str, str]) -> list[str]:
    """Run ``snippet`` as a reader would (from ``root``, or its ``cwd=`` marker's folder) and prove what it built.

    Each ``EnvironmentConfig`` it leaves is synthesized; each CDK ``App`` synthesized; a ``create_app`` it defines is
    called and its parameterless GET routes answer below 500. Returns what was proved (empty: nothing was built).
    """
    from aws_cdk import App
    from flask import Flask

    from flask_aws_telemetry_cdk import EnvironmentConfig, synthesize

    cwd = root / snippet.marker.removeprefix("cwd=") if snippet.marker.startswith("cwd=") else root
    namespace: dict[str, object] = {"__name__": "docs_snippet"}
    with contextlib.chdir(cwd), _environment({**environment, "CDK_OUTDIR": str(workdir / "cdk.out")}):
        exec(compile(snippet.text, snippet.where, "exec"), namespace)  # running it as a reader would is the point
        proved = []
        apps = [value for value in namespace.values() if isinstance(value, App)]
        # A CDK app holds its configs' stacks already: synthesizing them again would be a second synthesis.
        configs = [] if apps else [value for value in namespace.values() if isinstance(value, EnvironmentConfig)]
        for index, config in enumerate(configs):
            synthesized = synthesize(config, workdir / f"config-{index}")
            if len(synthesized.templates) != 3:
                raise AssertionError(f"{snippet.where}: {config.name} gave stacks {sorted(synthesized.stack_names)}")
            proved.append(f"config {config.name}: {', '.join(synthesized.stack_names.values())}")
        for app in apps:
            assembly = app.synth()
            if not assembly.stacks:
                raise AssertionError(f"{snippet.where}: the CDK app it builds has no stack")
            proved.append(f"cdk app: {', '.join(stack.stack_name for stack in assembly.stacks)}")
        factory = namespace.get("create_app")
        if callable(factory):
            flask_app = factory()
            if not isinstance(flask_app, Flask):
                raise AssertionError(f"{snippet.where}: create_app() returned {flask_app!r}, not a Flask app")
            client = flask_app.test_client()
            for rule in flask_app.url_map.iter_rules():
                if "GET" in (rule.methods or ()) and not rule.arguments and rule.endpoint != "static":
                    status = client.get(rule.rule).status_code
                    if status >= 500:
                        raise AssertionError(f"{snippet.where}: GET {rule.rule} answered {status}")
            proved.append(f"flask app: {', '.join(sorted(str(rule) for rule in flask_app.url_map.iter_rules()))}")
    return proved


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in os.environ for the block, and the previous values put back after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
