"""X-Ray's segment document schema, as AWS's "X-Ray segment documents" page gives it, checked field by field.

Both places a segment document arrives in the tests use it: the daemon's UDP
port (``xray_daemon.XRayDaemon``, the X-Ray SDK's frames) and X-Ray's
``PutTraceSegments`` (``xray_api.XRayApi``, the real daemon's and the
collector's batches). botocore's model only says a document is a string;
what X-Ray requires inside it is written on that page, and here:

* a segment: ``name`` (1 to 200 characters), ``id`` (16 hexadecimal
  digits), ``trace_id`` (``1-`` 8 hexadecimal digits ``-`` 24), ``start_time``
  (epoch seconds), and ``end_time`` or ``in_progress: true``;
* a subsegment inside it: ``name``, ``id``, ``start_time``, and ``end_time``
  or ``in_progress``; ``namespace`` a string when present (the page names
  ``aws`` and ``remote``; the X-Ray SDKs also send ``local`` for work done
  in the process, which X-Ray accepts, so the value is not restricted);
* a subsegment sent on its own: also ``type: "subsegment"``, the
  ``trace_id`` and the ``parent_id`` (16 hexadecimal digits) of its parent;
* ``parent_id`` wherever present is 16 hexadecimal digits; ``error``,
  ``throttle``, ``fault`` and ``in_progress`` are booleans; an annotation's
  key is letters, digits and underscores, its value a string, number or boolean;
* every subsegment, at any depth, by the same rules.

``segment_problems(document)`` returns one sentence per problem, naming the
field by its path (``subsegments[0].id``); an empty list is a valid document.
"""

from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"[0-9a-f]{16}")
_TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")
_ANNOTATION_KEY = re.compile(r"[A-Za-z0-9_]+")
_NAME_LIMIT = 200
_BOOLEANS = ("error", "throttle", "fault", "in_progress")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _entity_problems(entity: Any, path: str, *, subsegment: bool) -> list[str]:
    """The problems of one segment or subsegment, and of every subsegment under it."""
    where = f"{path}." if path else ""
    if not isinstance(entity, dict):
        return [f"{path or 'the document'} is {type(entity).__name__}, not a JSON object"]
    problems = []
    name = entity.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= _NAME_LIMIT:
        problems.append(f"{where}name = {name!r}: required, a string of 1 to {_NAME_LIMIT} characters")
    if not isinstance(entity.get("id"), str) or not _ID.fullmatch(entity["id"]):
        problems.append(f"{where}id = {entity.get('id')!r}: required, 16 hexadecimal digits")
    if not _is_number(entity.get("start_time")):
        problems.append(f"{where}start_time = {entity.get('start_time')!r}: required, epoch seconds")
    if "end_time" in entity:
        if not _is_number(entity["end_time"]):
            problems.append(f"{where}end_time = {entity['end_time']!r}: epoch seconds")
        elif _is_number(entity.get("start_time")) and entity["end_time"] < entity["start_time"]:
            problems.append(f"{where}end_time = {entity['end_time']!r}: before start_time {entity['start_time']!r}")
    elif entity.get("in_progress") is not True:
        problems.append(f"{where}end_time: required unless in_progress is true")
    if not subsegment or "trace_id" in entity:
        trace_id = entity.get("trace_id")
        if not isinstance(trace_id, str) or not _TRACE_ID.fullmatch(trace_id):
            problems.append(
                f"{where}trace_id = {trace_id!r}: required, 1-<8 hexadecimal digits>-<24 hexadecimal digits>"
            )
    if "parent_id" in entity and (not isinstance(entity["parent_id"], str) or not _ID.fullmatch(entity["parent_id"])):
        problems.append(f"{where}parent_id = {entity['parent_id']!r}: 16 hexadecimal digits")
    for flag in _BOOLEANS:
        if flag in entity and not isinstance(entity[flag], bool):
            problems.append(f"{where}{flag} = {entity[flag]!r}: a boolean")
    if subsegment and "namespace" in entity and not isinstance(entity["namespace"], str):
        problems.append(f"{where}namespace = {entity['namespace']!r}: a string")
    for key, value in (entity.get("annotations") or {}).items():
        if not _ANNOTATION_KEY.fullmatch(key):
            problems.append(f"{where}annotations.{key}: a key of letters, digits and underscores only")
        if not isinstance(value, (str, int, float, bool)):
            problems.append(f"{where}annotations.{key} = {value!r}: a string, number or boolean")
    children = entity.get("subsegments", [])
    if not isinstance(children, list):
        return [*problems, f"{where}subsegments: a list of subsegments"]
    for index, child in enumerate(children):
        problems.extend(_entity_problems(child, f"{where}subsegments[{index}]", subsegment=True))
    return problems


def segment_problems(document: Any) -> list[str]:
    """Each way ``document`` (a decoded segment document) breaks X-Ray's schema, naming the field; [] when valid."""
    if isinstance(document, dict) and document.get("type") == "subsegment":
        problems = _entity_problems(document, "", subsegment=False)  # sent on its own: trace_id required as well
        if "parent_id" not in document:
            problems.append("parent_id: required in a subsegment sent on its own (type 'subsegment')")
        return problems
    if isinstance(document, dict) and "type" in document:
        return [f"type = {document['type']!r}: only 'subsegment' (a subsegment sent on its own) is allowed"]
    return _entity_problems(document, "", subsegment=False)
