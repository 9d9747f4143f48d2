"""The span attributes the library and Cruddur publish are the ones they set, and the X-Ray SDK path annotates each
under the key the collector's awsxray exporter would give it: what ``telemetry.xray_indexed_attributes`` is checked
against (tests/infra/test_xray_paths.py) is what the service does.
"""

from __future__ import annotations

import ast

from cruddur import contract
from flask_aws_telemetry import contract as telemetry_contract
from tests.service.conftest import flush
from testsupport import REPO_ROOT
from testsupport.waiting import wait_until

PUBLISHED = (*telemetry_contract.SPAN_ATTRIBUTES, *contract.SPAN_ATTRIBUTES)
# Requests whose service functions record operations: each of Cruddur's attributes is set by at least one.
REQUESTS = ("/api/activities/home", "/api/activities/@worf", "/api/message_groups", "/api/messages/@worf")
INTERNAL = 1  # the OTLP Span.SpanKind number of an operation's span


def test_an_operations_attributes_are_the_published_ones_and_the_segment_annotates_them(
    traced_app, otlp_receiver, xray_daemon
):
    """Every attribute on an operation's span is published; every annotation on its subsegment is one of theirs,
    keyed as the exporter keys an indexed attribute (``app.result_length`` -> ``app_result_length``).
    """
    client = traced_app.test_client()
    for path in REQUESTS:
        assert client.get(path).status_code < 500, path
    flush(traced_app)
    assert wait_until(lambda: len(xray_daemon.segments) >= len(REQUESTS))
    operations = [span for span in otlp_receiver.spans if span.kind == INTERNAL]
    assert operations
    set_names = {name for span in operations for name in span.attributes}
    assert set_names <= set(PUBLISHED), sorted(set_names - set(PUBLISHED))
    keys = {telemetry_contract.xray_annotation_key(name) for name in PUBLISHED}
    annotated = {
        key
        for segment in xray_daemon.segments
        for subsegment in segment.get("subsegments", [])
        for key in subsegment.get("annotations", {})
    }
    assert annotated and annotated <= keys, sorted(annotated - keys)
    assert {"app_now", "app_result_length", "app_user_handle"} <= annotated


def test_every_published_cruddur_attribute_is_set_by_a_service_function():
    """Each name in cruddur.contract.SPAN_ATTRIBUTES is passed to an operation's ``set`` somewhere in the services."""
    used = set()
    for source in (REPO_ROOT / "service/cruddur/services").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "set":
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name):
                    used.add(getattr(contract, first.attr))
                elif isinstance(first, ast.Constant):
                    used.add(first.value)
    assert used == set(contract.SPAN_ATTRIBUTES)


def test_the_annotation_key_is_xrays_letters_digits_and_underscores():
    """What X-Ray accepts in an annotation's key; the SDK path and the exporter map a name the same way."""
    assert telemetry_contract.xray_annotation_key("anomaly.captured") == "anomaly_captured"
    assert telemetry_contract.xray_annotation_key("app.user-id") == "app_user_id"
