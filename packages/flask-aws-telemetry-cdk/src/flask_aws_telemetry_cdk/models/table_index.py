"""A global secondary index of the app's table: a plain value the configuration checks and the table construct builds.

No CDK import: the configuration (``config/sections.py`` ``TableConfig``) holds it, ``components/table.py`` deploys it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableIndex:
    """A global secondary index: its name and its string keys; every attribute is projected into it."""

    name: str
    partition_key: str
    sort_key: str | None = None
