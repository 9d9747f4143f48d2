"""bench/RESULTS.md is made of sections, one per benchmark; each run replaces its own section and keeps the others."""

from __future__ import annotations

import re
from pathlib import Path


def write_section(path: Path, text: str) -> None:
    """Put ``text`` (starting with its ``# Title`` line) into ``path``, replacing the section of the same title."""
    title = text.splitlines()[0]
    if not title.startswith("# "):
        raise ValueError(f"a section starts with '# Title', not {title!r}")
    existing = path.read_text() if path.exists() else ""
    sections = [s for s in re.split(r"(?m)^(?=# )", existing) if s.strip()]
    body = text.rstrip() + "\n"
    for index, section in enumerate(sections):
        if section.splitlines()[0] == title:
            sections[index] = body
            break
    else:
        sections.append(body)
    path.write_text("\n".join(s.rstrip() + "\n" for s in sections))
