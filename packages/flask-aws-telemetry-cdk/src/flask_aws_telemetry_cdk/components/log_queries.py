"""Saved CloudWatch Logs Insights queries on the app's log group: the questions people ask of the service's logs.

Each is an ``AWS::Logs::QueryDefinition`` (the console's "Saved queries",
in a folder named after the environment) reading the app's JSON lines
(``flask_aws_telemetry/logs.py``): every line carries ``trace_id``,
``span_id`` and ``xray_trace_id``; the request line of each request adds
``http_method``, ``http_route``, ``http_status`` and ``duration_ms``.

* **Every line of one trace**: all the lines a request wrote, in order. Query
  definitions have no parameters: the saved text holds the placeholder
  ``TRACE_ID``, which the user replaces with a trace id (32 hex digits, as
  Honeycomb and OpenTelemetry show it, or X-Ray's ``1-...`` form) before
  running it.
* **Errors by route**: requests answered 4xx or 5xx, counted by route and status.
* **Slowest requests**: the 50 slowest requests, with their trace ids.
"""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

# What the user replaces in the saved "every line of one trace" query.
TRACE_ID_PLACEHOLDER = "TRACE_ID"


class LogInsightsQueries(Construct):
    """The saved Logs Insights queries on ``log_group``, named ``<name_prefix>/<question>``."""

    def __init__(self, scope: Construct, construct_id: str, *, log_group: logs.ILogGroup, name_prefix: str) -> None:
        """Save the three queries, each scoped to ``log_group``; ``name_prefix`` is their console folder."""
        super().__init__(scope, construct_id)

        def saved(query_id: str, question: str, query_string: logs.QueryString) -> logs.QueryDefinition:
            return logs.QueryDefinition(
                self,
                query_id,
                query_definition_name=f"{name_prefix}/{question}",
                query_string=query_string,
                log_groups=[log_group],
            )

        self.trace_lines = saved(
            "TraceLines",
            f"Every line of one trace (replace {TRACE_ID_PLACEHOLDER})",
            logs.QueryString(
                fields=[
                    "@timestamp",
                    "level",
                    "logger",
                    "message",
                    "http_route",
                    "http_status",
                    "duration_ms",
                    "span_id",
                ],
                filter_statements=[f'trace_id = "{TRACE_ID_PLACEHOLDER}" or xray_trace_id = "{TRACE_ID_PLACEHOLDER}"'],
                sort="@timestamp asc",
                limit=1000,
            ),
        )
        self.errors_by_route = saved(
            "ErrorsByRoute",
            "Errors by route",
            logs.QueryString(
                filter_statements=["http_status >= 400"],
                stats_statements=["count(*) as requests by http_route, http_status"],
                sort="requests desc",
            ),
        )
        self.slowest_requests = saved(
            "SlowestRequests",
            "Slowest requests",
            logs.QueryString(
                fields=[
                    "@timestamp",
                    "http_method",
                    "http_route",
                    "http_status",
                    "duration_ms",
                    "trace_id",
                    "xray_trace_id",
                ],
                filter_statements=["ispresent(duration_ms)"],
                sort="duration_ms desc",
                limit=50,
            ),
        )
        self.definitions = (self.trace_lines, self.errors_by_route, self.slowest_requests)
