"""Read a CloudWatch Logs Insights query: its commands, and the log fields it reads.

AWS publishes no grammar or parser of the Logs Insights query language (and
moto's ``StartQuery`` understands only ``fields``, ``sort`` and ``limit``),
so this reads the part of the language the saved queries use, following the
query syntax reference of the CloudWatch Logs User Guide ("CloudWatch Logs
Insights language query syntax"): commands separated by ``|``, ``#``
comments, double- or single-quoted strings, backquoted field names, numbers,
functions called by name, ``as`` aliases, and the system fields ``@...``.

    parsed = parse(query_string)
    parsed.commands       # ("fields", "filter", "sort", "limit")
    parsed.fields         # {"trace_id", "http_route", ...}: the log fields it reads, aliases and @fields aside

Whatever it does not know (a command, a function, an ``@`` field, an
unbalanced parenthesis or quote, a limit out of range) is a
``QuerySyntaxError`` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMANDS = frozenset(
    {
        "fields",
        "display",
        "filter",
        "stats",
        "sort",
        "limit",
        "parse",
        "dedup",
        "unmask",
        "pattern",
        "diff",
        "anomaly",
        "unnest",
    }
)
FUNCTIONS = frozenset(
    {
        # aggregation (stats)
        "avg", "count", "count_distinct", "max", "min", "pct", "stddev", "sum", "earliest", "latest",
        "sortsfirst", "sortslast",
        # general, string, number, date and time, IP
        "ispresent", "isempty", "isblank", "coalesce", "concat", "ltrim", "rtrim", "trim", "strlen", "toupper",
        "tolower", "substr", "replace", "strcontains", "abs", "ceil", "floor", "greatest", "least", "log", "sqrt",
        "bin", "datefloor", "dateceil", "frommillis", "tomillis", "isvalidip", "isvalidipv4", "isvalidipv6",
        "isipinsubnet", "isipv4insubnet", "isipv6insubnet",
    }
)  # fmt: skip
KEYWORDS = frozenset({"and", "or", "not", "by", "as", "asc", "desc", "in", "like", "is"})
SYSTEM_FIELDS = frozenset({"@timestamp", "@message", "@logStream", "@log", "@ptr", "@ingestionTime", "@entity"})
MAX_LIMIT = 10_000

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<quoted>`[^`]+`)
  | (?P<regex>/(?:[^/\\]|\\.)+/)
  | (?P<number>\d+(?:\.\d+)?[smhd]?\b)
  | (?P<name>@?[A-Za-z_][A-Za-z0-9_.@$-]*)
  | (?P<operator>>=|<=|!=|=~|==|[=<>()*,+\-/%|])
    """,
    re.VERBOSE,
)


class QuerySyntaxError(ValueError):
    """The query is not one this reader (or Logs Insights) accepts; the message says where."""


@dataclass(frozen=True)
class ParsedQuery:
    """A query's commands, in order, and the log fields it reads."""

    commands: tuple[str, ...]
    fields: frozenset[str]
    limit: int | None


def _tokens(command_text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(command_text):
        match = _TOKEN.match(command_text, position)
        if match is None:
            raise QuerySyntaxError(f"cannot read {command_text[position : position + 20]!r}")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    return tokens


def _split_commands(query: str) -> list[str]:
    """The query's commands: comments dropped, split on ``|`` outside quotes."""
    lines = [line for line in query.splitlines() if not line.lstrip().startswith("#")]
    commands, current, quote = [], "", None
    for char in "\n".join(lines):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char == "|":
            commands.append(current)
            current = ""
            continue
        current += char
    if quote:
        raise QuerySyntaxError(f"unclosed {quote} in the query")
    commands.append(current)
    return [command.strip() for command in commands]


def parse(query: str) -> ParsedQuery:
    """The commands and fields of ``query``, or a QuerySyntaxError naming what is wrong."""
    commands: list[str] = []
    fields: set[str] = set()
    aliases: set[str] = set()
    limit = None
    for text in _split_commands(query):
        if not text:
            raise QuerySyntaxError("an empty command (two | in a row, or one at an end)")
        tokens = _tokens(text)
        command = tokens[0][1].lower()
        if tokens[0][0] != "name" or command not in COMMANDS:
            raise QuerySyntaxError(f"unknown command {tokens[0][1]!r}; Logs Insights has {', '.join(sorted(COMMANDS))}")
        commands.append(command)
        depth = 0
        for index, (kind, value) in enumerate(tokens[1:], start=1):
            if value == "(":
                depth += 1
            elif value == ")":
                depth -= 1
                if depth < 0:
                    raise QuerySyntaxError(f"unbalanced ) in {text!r}")
            if kind not in ("name", "quoted"):
                continue
            following = tokens[index + 1][1] if index + 1 < len(tokens) else None
            previous = tokens[index - 1][1].lower()
            name = value.strip("`")
            if kind == "name" and following == "(":
                if name.lower() not in FUNCTIONS:
                    raise QuerySyntaxError(f"unknown function {name!r} in {text!r}")
            elif previous == "as":
                aliases.add(name)
            elif kind == "name" and name.lower() in KEYWORDS:
                continue
            elif name.startswith("@"):
                if name not in SYSTEM_FIELDS:
                    raise QuerySyntaxError(
                        f"unknown system field {name!r}; Logs Insights has {', '.join(sorted(SYSTEM_FIELDS))}"
                    )
            elif name not in aliases:
                fields.add(name)
        if depth:
            raise QuerySyntaxError(f"unbalanced ( in {text!r}")
        if command == "limit":
            if len(tokens) != 2 or tokens[1][0] != "number" or not 1 <= int(tokens[1][1]) <= MAX_LIMIT:
                raise QuerySyntaxError(f"{text!r}: limit takes one whole number from 1 to {MAX_LIMIT}")
            limit = int(tokens[1][1])
    return ParsedQuery(tuple(commands), frozenset(fields), limit)
