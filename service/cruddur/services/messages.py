"""Message groups: the conversations of the current user."""

from __future__ import annotations

import copy
from typing import Any

from ..store import Store
from ..telemetry import operation


def message_groups(store: Store) -> list[dict[str, Any]]:
    """Every message group, most recent first."""
    with operation("message-groups") as op:
        with store.lock:
            groups = copy.deepcopy(store.message_groups)
        groups.sort(key=lambda group: group["created_at"], reverse=True)
        op.set("app.result_length", len(groups))
        return groups
