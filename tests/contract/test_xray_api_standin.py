"""The X-Ray API stand-in refuses what X-Ray refuses: off-model requests, bad signatures, segments off the schema.

The real sidecars are trusted only as far as the stand-in they talk to, so
it is checked here with botocore's own client (which signs as AWS expects)
and with documents and signatures that are wrong in one field each.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from testsupport.standins.segment_document import segment_problems
from testsupport.standins.xray_api import XRayApi

REGION = "us-east-1"
KEY, SECRET = "AKIDSTANDINTEST", "stand-in-secret"
RULE = {
    "RuleName": "catch-all",
    "Priority": 100,
    "FixedRate": 0.1,
    "ReservoirSize": 5,
    "ServiceName": "*",
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "ResourceARN": "*",
    "Version": 1,
    "Attributes": {},
}
SEGMENT = {
    "name": "cruddur-backend-flask", "id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979",
    "start_time": 1478293361.271, "end_time": 1478293361.449,
}  # fmt: skip


@pytest.fixture
def xray():
    """The stand-in for us-east-1 and the test's credentials."""
    with XRayApi([RULE], region=REGION, access_key=KEY, secret_key=SECRET) as api:
        api.assert_clean_on_exit = False  # these tests send refused requests on purpose and assert each refusal
        yield api


def _client(api: XRayApi, *, region: str = REGION, secret: str = SECRET):
    return boto3.client(
        "xray", endpoint_url=api.url, region_name=region, aws_access_key_id=KEY, aws_secret_access_key=secret
    )


def test_a_valid_batch_is_accepted_and_its_segments_kept(xray):
    """botocore's PutTraceSegments with a minimal complete segment: accepted, nothing unprocessed."""
    answer = _client(xray).put_trace_segments(TraceSegmentDocuments=[json.dumps(SEGMENT)])
    assert answer["UnprocessedTraceSegments"] == []
    assert xray.segments_of(SEGMENT["trace_id"]) == [SEGMENT]
    xray.assert_clean()


def test_a_segment_off_the_schema_comes_back_unprocessed_and_fails_the_test_naming_the_field(xray):
    """An id of 15 digits is returned in UnprocessedTraceSegments, and assert_clean names it."""
    answer = _client(xray).put_trace_segments(TraceSegmentDocuments=[json.dumps({**SEGMENT, "id": "70de5b6f19ff9a0"})])
    assert [u["Id"] for u in answer["UnprocessedTraceSegments"]] == ["70de5b6f19ff9a0"]
    with pytest.raises(AssertionError, match=r"TraceSegmentDocuments\[0\]: id = '70de5b6f19ff9a0'"):
        xray.assert_clean()


def test_an_off_model_statistics_document_is_refused_as_x_ray_refuses_it(xray):
    """SampleCount (not in X-Ray's model) is a 400 ValidationException naming the member."""
    document = {
        "RuleName": "catch-all",
        "ClientID": "0" * 24,
        "Timestamp": 1,
        "RequestCount": 1,
        "SampleCount": 1,
        "BorrowCount": 0,
    }
    body = json.dumps({"SamplingStatisticsDocuments": [document]}).encode()
    request = AWSRequest(
        method="POST", url=f"{xray.url}/SamplingTargets", data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(KEY, SECRET), "xray", REGION).add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(request.url, data=body, headers=dict(request.headers)), timeout=5)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["__type"] == "ValidationException"
    with pytest.raises(AssertionError, match="SampleCount"):
        xray.assert_clean()


@pytest.mark.parametrize(
    ("region", "secret", "expected"),
    [("eu-west-1", SECRET, "region is 'eu-west-1'"), (REGION, "another-secret", "signature does not match")],
    ids=["wrong-region", "wrong-secret"],
)
def test_a_request_not_signed_for_xray_in_the_region_with_the_credentials_is_403(xray, region, secret, expected):
    """A signature for another region, or from another secret key, is refused with InvalidSignatureException."""
    with pytest.raises(_client(xray).exceptions.ClientError) as refused:
        _client(xray, region=region, secret=secret).get_sampling_rules()
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(AssertionError, match=expected):
        xray.assert_clean()


def test_the_sampling_api_answers_through_the_model(xray):
    """GetSamplingRules answers the rules as X-Ray's model shapes them (botocore parses the answer)."""
    records = _client(xray).get_sampling_rules()["SamplingRuleRecords"]
    assert [r["SamplingRule"]["RuleName"] for r in records] == ["catch-all"]
    assert xray.received("GetSamplingRules") == 1
    xray.assert_clean()


def test_otlp_traces_are_decoded_when_signed_for_xray(xray):
    """A SigV4-signed OTLP protobuf POST to /v1/traces is decoded into its spans."""
    export = ExportTraceServiceRequest()
    span = export.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = (
        bytes.fromhex("581cf771a006649127e371903a2de979"),
        bytes.fromhex("70de5b6f19ff9a0a"),
        "GET /",
    )
    body = export.SerializeToString()
    request = AWSRequest(
        method="POST", url=f"{xray.url}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
    )
    SigV4Auth(Credentials(KEY, SECRET), "xray", REGION).add_auth(request)
    with urllib.request.urlopen(
        urllib.request.Request(request.url, data=body, headers=dict(request.headers)), timeout=5
    ) as answer:
        assert answer.status == 200
    assert [(s.trace_id, s.name) for s in xray.otlp_spans] == [("581cf771a006649127e371903a2de979", "GET /")]
    xray.assert_clean()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name = ''"),
        ({"id": "XYZ"}, "id = 'XYZ'"),
        ({"trace_id": "1-581cf771-a00664"}, "trace_id = '1-581cf771-a00664'"),
        ({"start_time": "now"}, "start_time = 'now'"),
        ({"end_time": None}, "end_time: required unless in_progress"),
        ({"end_time": 1.0}, "end_time = 1.0: before start_time"),
        ({"fault": "yes"}, "fault = 'yes'"),
        ({"parent_id": "123"}, "parent_id = '123'"),
        ({"annotations": {"bad key": 1}}, "annotations.bad key"),
        (
            {"subsegments": [{"name": "dynamodb", "id": "1234", "start_time": 1.0, "end_time": 2.0}]},
            "subsegments[0].id = '1234'",
        ),
        (
            {"subsegments": [{"name": "x", "id": "70de5b6f19ff9a0b", "start_time": 1.0}]},
            "subsegments[0].end_time: required",
        ),
        ({"type": "subsegment"}, "parent_id: required"),
    ],
    ids=lambda value: None if isinstance(value, dict) else value.split(" ")[0],
)
def test_each_schema_rule_names_its_field(change, field):
    """One wrong field, one sentence that names it."""
    document = {key: value for key, value in {**SEGMENT, **change}.items() if value is not None or key != "end_time"}
    problems = segment_problems(document)
    assert len(problems) == 1 and field in problems[0], problems


def test_in_progress_segments_and_local_subsegments_are_valid():
    """in_progress instead of end_time, and the SDK's 'local' namespace, are what X-Ray accepts."""
    in_progress = {key: value for key, value in SEGMENT.items() if key != "end_time"} | {"in_progress": True}
    local = {
        **SEGMENT,
        "subsegments": [
            {"name": "home", "id": "70de5b6f19ff9a0b", "start_time": 1.0, "end_time": 2.0, "namespace": "local"}
        ],
    }
    assert segment_problems(in_progress) == segment_problems(local) == []


class _SignsEveryHeader(SigV4Auth):
    """A signer like the AWS SDK for Go's: it signs traceparent too, which botocore's own signer never does."""

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        headers["traceparent"] = request.headers["traceparent"]
        return headers


def test_a_chunked_body_signed_with_a_trace_header_is_accepted_as_x_ray_accepts_it(xray):
    """What the collector's awsproxy forwards: Transfer-Encoding chunked, traceparent among the signed headers."""
    body = b"{}"
    headers = {"Content-Type": "application/json", "traceparent": f"00-{'a' * 32}-{'b' * 16}-00"}
    request = AWSRequest(method="POST", url=f"{xray.url}/GetSamplingRules", data=body, headers=headers)
    _SignsEveryHeader(Credentials(KEY, SECRET), "xray", REGION).add_auth(request)
    assert "traceparent" in request.headers["Authorization"]
    chunked = iter([body])  # urllib sends an iterable body chunked
    sent = urllib.request.Request(
        request.url, data=chunked, headers={**dict(request.headers), "Transfer-Encoding": "chunked"}
    )
    with urllib.request.urlopen(sent, timeout=5) as answer:
        assert answer.status == 200
    xray.assert_clean()
