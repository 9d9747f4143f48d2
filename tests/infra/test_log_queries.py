"""The saved Logs Insights queries: one per question, on the app's log group, in the environment's folder, each
parsing.
"""

from __future__ import annotations

import re

import pytest

from flask_aws_telemetry_cdk.components.log_queries import TRACE_ID_PLACEHOLDER
from testsupport import logs_insights

QUESTIONS = {
    f"Every line of one trace (replace {TRACE_ID_PLACEHOLDER})": ("fields", "filter", "sort", "limit"),
    "Errors by route": ("filter", "stats", "sort"),
    "Slowest requests": ("fields", "filter", "sort", "limit"),
}


def _saved_queries(env) -> dict[str, dict]:
    return {
        q["Properties"]["Name"]: q["Properties"]
        for q in env.resources("service", "AWS::Logs::QueryDefinition").values()
    }


def test_each_environment_saves_the_three_questions_on_its_app_log_group(any_env):
    """Given any environment, its service stack saves each question once, named <prefix>/<question>, on the app log
    group only.
    """
    app_log_group = any_env.templates["service"]["Outputs"]["AppLogGroup"]["Value"]
    saved = _saved_queries(any_env)
    assert set(saved) == {f"{any_env.config.resource_prefix}/{question}" for question in QUESTIONS}
    for name, properties in saved.items():
        assert properties["LogGroupNames"] == [app_log_group], name
        assert len(properties["QueryString"]) <= 10_000  # PutQueryDefinition's limit


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_each_query_parses_into_the_commands_it_means(dev, question):
    """The query text is Logs Insights syntax (commands, functions, fields) with the commands of its question."""
    query = _saved_queries(dev)[f"{dev.config.resource_prefix}/{question}"]["QueryString"]
    assert logs_insights.parse(query).commands == QUESTIONS[question]


def test_the_trace_query_shows_its_placeholder_in_both_id_forms(dev):
    """Query definitions have no parameters: the one-trace query filters both id fields on the placeholder the name
    tells of.
    """
    query = _saved_queries(dev)[
        f"{dev.config.resource_prefix}/Every line of one trace (replace {TRACE_ID_PLACEHOLDER})"
    ]
    assert f'trace_id = "{TRACE_ID_PLACEHOLDER}" or xray_trace_id = "{TRACE_ID_PLACEHOLDER}"' in query["QueryString"]


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("fields a | filtr a = 1", "unknown command 'filtr'"),
        ("stats cnt(*) by a", "unknown function 'cnt'"),
        ("fields @time, a", "unknown system field '@time'"),
        ('filter a = "x', "unclosed"),
        ("filter ispresent(a", "unbalanced ("),
        ("fields a | limit 20000", "limit takes one whole number"),
        ("fields a || sort a", "empty command"),
    ],
)
def test_the_reader_refuses_what_logs_insights_refuses(query, complaint):
    """A misspelt command or function, an unknown @field, an open quote or parenthesis, a limit out of range: each
    named.
    """
    with pytest.raises(logs_insights.QuerySyntaxError, match=re.escape(complaint)):
        logs_insights.parse(query)


def test_the_reader_sees_fields_but_not_aliases_functions_or_system_fields():
    """Fields are what a query reads from a line: an alias it defines, a function and @timestamp are not."""
    parsed = logs_insights.parse(
        "# a comment | with a bar\nfields @timestamp, `odd-name` | filter ispresent(d) and s >= 500 "
        "| stats count(*) as n, pct(d, 99) as p99 by r | sort n desc | limit 5"
    )
    assert parsed.fields == {"odd-name", "d", "s", "r"}
    assert parsed.limit == 5
