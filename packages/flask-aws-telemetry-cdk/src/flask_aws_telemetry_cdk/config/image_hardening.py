"""The check, at synth, that an image built from a Dockerfile runs as the task's app user.

The task runs the app container as ``app.user`` with a read-only root file
system; an image whose final stage runs as root, or as another user, starts
as that user only where nothing overrides it (``docker run``, a local test),
so it passes there and fails or differs on ECS. The Dockerfile's final stage
must therefore say ``USER <app.user>`` itself. Docker's rules are followed:
instructions are case-insensitive, ``\\`` continues a line, ``#`` starts a
comment, the last ``USER`` of the final stage (after the last ``FROM``) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its keyword (upper case), its arguments and the line it starts on."""

    keyword: str
    arguments: str
    line: int


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile's ``text``, continuation lines joined, comments and blank lines left out."""
    found: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as Docker does
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line[:-1] if continued else line)
        if continued:
            continue
        keyword, _, arguments = " ".join(pending).strip().partition(" ")
        found.append(Instruction(keyword=keyword.upper(), arguments=arguments.strip(), line=start))
        pending = []
    return found


def _user_part(user: str) -> str:
    return user.split(":", 1)[0]


def check_image_runs_as(dockerfile: Path, app_user: str) -> None:
    """Raise ConfigError, naming ``dockerfile`` and the line to add or change, unless its final stage sets
    ``USER app_user`` (non-root).
    """
    if not dockerfile.is_file():
        return  # ImagesConfig names a missing Dockerfile itself
    parsed = instructions(dockerfile.read_text())
    stages = [index for index, instruction in enumerate(parsed) if instruction.keyword == "FROM"]
    if not stages:
        raise ConfigError(
            f"{dockerfile} has no FROM instruction; it must build an image whose final stage has 'USER {app_user}'"
        )
    final_from = parsed[stages[-1]]
    users = [instruction for instruction in parsed[stages[-1] :] if instruction.keyword == "USER"]
    expected = _user_part(app_user)
    if not users:
        raise ConfigError(
            f"{dockerfile}: the final stage (FROM on line {final_from.line}) sets no USER, so the image runs as root "
            f"wherever the task's user is not applied; add the line 'USER {app_user}' after that FROM "
            "(the task runs the app as app.user)"
        )
    last = users[-1]
    given = _user_part(last.arguments.split()[0]) if last.arguments else ""
    if given in ROOT_USERS:
        raise ConfigError(
            f"{dockerfile}, line {last.line}: 'USER {last.arguments}' runs the app as root; "
            f"change it to 'USER {app_user}' (the task runs the app as app.user, a non-root user)"
        )
    if given != expected:
        raise ConfigError(
            f"{dockerfile}, line {last.line}: 'USER {last.arguments}' is not the task's app user '{app_user}'; "
            f"change it to 'USER {app_user}', or set app.user to the image's user"
        )
