"""CloudWatch Logs' JSON filter patterns, the one form the constructs' metric filters use, applied to a log line.

The form is ``{ $.field = "value" }`` (CDK's ``FilterPattern.string_value``),
with ``*`` matching any run of characters in the value, as CloudWatch's
"Using filter patterns to match terms in JSON log events" describes it: an
event matches when it is a JSON object whose field (``$.a.b`` for nested
objects) is a string equal to the value. moto does not evaluate JSON
patterns (it lets every event through), so this does; any other pattern is
refused with ``ValueError`` rather than guessed at, so a test on a pattern
this cannot read fails instead of passing.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING_EQUALS = re.compile(r'^\{\s*\$\.(?P<selector>[A-Za-z0-9_.]+)\s*=\s*"(?P<value>[^"]*)"\s*\}$')


def matches(pattern: str, line: str) -> bool:
    """True when CloudWatch counts ``line`` (one log event's message) for the metric filter ``pattern``."""
    parsed = _STRING_EQUALS.match(pattern)
    if parsed is None:
        raise ValueError(f'not a single string comparison {{ $.field = "value" }}: {pattern!r}')
    try:
        event: Any = json.loads(line)
    except ValueError:
        return False  # a JSON pattern never matches an event that is not JSON
    for key in parsed["selector"].split("."):
        if not isinstance(event, dict) or key not in event:
            return False
        event = event[key]
    if not isinstance(event, str):
        return False
    wanted = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", parsed["value"]))
    return re.fullmatch(wanted, event, re.DOTALL) is not None
