"""CloudWatch's evaluation of metric-math and composite alarms, as AWS documents it, for the alarms of a template.

    from testsupport import cloudwatch_alarms

    alarms = cloudwatch_alarms.AlarmSet.from_template(template)      # every metric and composite alarm in it
    history = alarms.run(feed, minutes=7 * 1440)                      # feed: (namespace, metric name) -> MinuteSeries,
                                                                      # one for every metric the alarms read
    history.transitions("cruddur-prod-AvailabilityFastBurn")          # [(minute, "ALARM"), (minute, "OK"), ...]

It reads what the template says (``Metrics`` with their ``Expression`` or
``MetricStat``, ``EvaluationPeriods``, ``DatapointsToAlarm``, ``Threshold``,
``ComparisonOperator``, ``TreatMissingData``, a composite's ``AlarmRule``)
and applies these documented rules:

1. A datapoint is a statistic over one ``Period`` of the metric's values
   (CloudWatch User Guide, "Statistics definitions"): ``Sum`` adds the
   values, ``SampleCount`` counts them, ``PR(:t)`` is the percentage of them
   at or below ``t``. A period without values has no datapoint.
2. Metric math (User Guide, "Metric math syntax and functions"): ``+ - * /``
   on time series and scalars; "Missing values in a time series are treated
   as 0"; "If the value of a data point causes a function to attempt to
   divide by zero, the data point is dropped"; ``FILL(m, S)`` "fills the
   missing values of a time series" with ``S``. The final result must be a
   time series.
3. Evaluation (User Guide, "Evaluating an alarm" and "Alarm evaluation
   window"): the datapoints are the most recent ``EvaluationPeriods`` (N)
   periods; the alarm is in ALARM when ``DatapointsToAlarm`` (M, default N)
   of them breach. The default window slides: "an alarm with a period of 1
   hour and 1 evaluation period might evaluate 13:07-14:07 in one evaluation
   and 13:08-14:08 in the next", so it is evaluated each minute here.
4. Missing data (User Guide, "Configuring how CloudWatch alarms treat
   missing data"): CloudWatch retrieves more datapoints than N (the
   *evaluation range*); if none is missing, or N or more exist, the most
   recent existing N are evaluated; otherwise the missing ones are filled as
   ``TreatMissingData`` says (``notBreaching``, ``breaching``; ``ignore`` and
   ``missing`` keep or leave states the guide's tables give without a rule,
   so they are refused).
5. Composite alarms (PutCompositeAlarm, ``AlarmRule``): ``ALARM(x)``,
   ``OK(x)``, ``INSUFFICIENT_DATA(x)``, ``TRUE``, ``FALSE``, ``AND``, ``OR``,
   ``NOT`` and parentheses over the children's states.

The pages: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
``Statistics-definitions.html``, ``using-metric-math.html``,
``AlarmThatSendsEmail.html#alarm-evaluation``, ``alarm-evaluation-window.html``,
``alarms-and-missing-data.html``; and botocore's ``cloudwatch`` service model
(``PutMetricAlarm``, ``PutCompositeAlarm``'s ``AlarmRule``).

Where AWS gives no number, this module assumes: data is there at the minute
it describes (no publishing delay), and the evaluation range is N + 2
periods (the documented example retrieves 5 datapoints for N = 3).

Anything else (another function, operator, statistic, comparison or
missing-data treatment) raises ``Unsupported``: the evaluator refuses what
it does not know instead of guessing, so a template it cannot read fails the
test that feeds it.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"
_PERCENTILE_RANK = re.compile(r"PR\(:([0-9.]+)\)")
EXTRA_PERIODS_IN_RANGE = 2
MINUTE = 60


class Unsupported(ValueError):
    """A template says something this evaluator does not implement."""


# --- 1. statistics over a period ------------------------------------------------------------------------------


@dataclass
class MinuteSeries:
    """One metric's values minute by minute: ``values[i]`` is the minute's ``(value, count)`` pairs, or None (no data).

    A count metric (``RequestCount``) has one pair ``(n, 1)`` a minute; a
    timing (``TargetResponseTime``) one pair per distinct duration.
    """

    values: Sequence[tuple[tuple[float, int], ...] | None]
    _prefix: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def _cumulative(self, key: str, per_minute: Callable[[tuple[tuple[float, int], ...]], float]) -> list[float]:
        if key not in self._prefix:
            total, out = 0.0, [0.0]
            for minute in self.values:
                total += per_minute(minute) if minute is not None else 0.0
                out.append(total)
            self._prefix[key] = out
        return self._prefix[key]

    def statistic(self, stat: str, end_minute: int, period_minutes: int) -> float | None:
        """``stat`` over the minutes in (end - period, end], or None when no minute in it has data."""
        start = max(0, end_minute - period_minutes)
        end = min(len(self.values), end_minute)
        if start >= end:
            return None
        present = self._cumulative("present", lambda _: 1.0)
        if present[end] - present[start] == 0:
            return None
        count = self._cumulative("count", lambda m: sum(c for _, c in m))
        samples = count[end] - count[start]
        if stat == "Sum":
            total = self._cumulative("sum", lambda m: sum(v * c for v, c in m))
            return total[end] - total[start]
        if stat == "SampleCount":
            return samples
        rank = _PERCENTILE_RANK.fullmatch(stat)
        if rank:
            bound = float(rank.group(1))
            within = self._cumulative(stat, lambda m: sum(c for v, c in m if v <= bound))
            return 100 * (within[end] - within[start]) / samples if samples else None
        raise Unsupported(f"statistic {stat!r} is not implemented (Sum, SampleCount, PR(:t))")


# --- 2. metric math --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/^(),]|[<>=!]=?|&&|\|\|))"
)
Value = float | None  # None: the datapoint is missing at that timestamp
Node = Callable[[Mapping[str, Value]], tuple[Value, bool]]  # -> (value, is a time series)
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _tokens(expression: str) -> list[str]:
    out, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if not match:
            raise Unsupported(f"cannot read {expression[position:]!r} in {expression!r}")
        out.append(match.group(match.lastgroup or "op"))
        position = match.end()
    return out


def _binary(symbol: str, left: Node, right: Node) -> Node:
    apply = _ARITHMETIC[symbol]

    def node(values: Mapping[str, Value]) -> tuple[Value, bool]:
        (a, a_series), (b, b_series) = left(values), right(values)
        if a is None and b is None:
            return None, a_series or b_series
        if (a is None and not b_series) or (b is None and not a_series):
            return None, True  # a time series and a scalar: no value where the series has none
        if symbol == "/" and (b or 0.0) == 0.0:
            return None, a_series or b_series  # divide by zero: the datapoint is dropped
        return apply(a or 0.0, b or 0.0), a_series or b_series  # a missing value counts as 0

    return node


class _Parser:
    """Recursive descent over the documented operators; FILL is the one function implemented."""

    def __init__(self, expression: str, metric_ids: set[str]) -> None:
        self.expression, self.tokens, self.position, self.metric_ids = expression, _tokens(expression), 0, metric_ids

    def parse(self) -> Node:
        node = self.sum()
        if self.position != len(self.tokens):
            raise Unsupported(f"unexpected {self.tokens[self.position]!r} in {self.expression!r}")
        return node

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Unsupported(f"expected {expected or 'more'} in {self.expression!r}")
        self.position += 1
        return token

    def sum(self) -> Node:
        node = self.product()
        while self.peek() in ("+", "-"):
            node = _binary(self.take(), node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            node = _binary(self.take(), node, self.unary())
        if self.peek() == "^":
            raise Unsupported(f"'^' is not implemented ({self.expression!r})")
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            inner = self.unary()

            def negated(values: Mapping[str, Value]) -> tuple[Value, bool]:
                value, is_series = inner(values)
                return (None if value is None else -value), is_series

            return negated
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.sum()
            self.take(")")
            return node
        if re.fullmatch(r"\d.*", token):
            number = float(token)
            return lambda values: (number, False)
        if self.peek() == "(":
            return self.function(token)
        if token not in self.metric_ids:
            raise Unsupported(f"{token!r} is neither a metric id of the alarm nor a known name ({self.expression!r})")
        return lambda values: (values[token], True)

    def function(self, name: str) -> Node:
        if name != "FILL":
            raise Unsupported(f"function {name} is not implemented (FILL only) in {self.expression!r}")
        self.take("(")
        series = self.sum()
        self.take(",")
        filler = self.sum()
        self.take(")")

        def node(values: Mapping[str, Value]) -> tuple[Value, bool]:
            value, is_series = series(values)
            fill, fill_is_series = filler(values)
            if not is_series or fill_is_series:
                raise Unsupported(f"FILL takes a time series and a scalar here ({self.expression!r})")
            return (fill if value is None else value), True

        return node


def parse_expression(expression: str, metric_ids: set[str]) -> Node:
    """A metric-math ``expression`` over ``metric_ids`` as a function of their values at one timestamp."""
    return _Parser(expression, metric_ids).parse()


# --- 3 and 4. metric alarms ------------------------------------------------------------------------------------

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


@dataclass
class MetricAlarm:
    """One metric-math alarm as the template defines it."""

    name: str
    metrics: dict[str, tuple[tuple[str, str], str]]  # id -> ((namespace, metric name), statistic)
    expression: Node
    period_minutes: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    breaches: Callable[[float, float], bool]
    treat_missing_data: str
    state: str = INSUFFICIENT_DATA
    _datapoints: dict[int, Value] = field(default_factory=dict, repr=False)

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> MetricAlarm:
        """Read ``properties`` (an ``AWS::CloudWatch::Alarm``'s); refuse what is not implemented."""
        name = properties["AlarmName"]
        if "Metrics" not in properties:
            raise Unsupported(f"{name}: only metric-math alarms (Metrics) are implemented")
        queries = properties["Metrics"]
        stats = {q["Id"]: q["MetricStat"] for q in queries if "MetricStat" in q}
        periods = {s["Period"] for s in stats.values()}
        if len(periods) != 1 or next(iter(periods)) % MINUTE:
            raise Unsupported(f"{name}: its metrics need one period in whole minutes, not {sorted(periods)}")
        (returned,) = [q for q in queries if q.get("ReturnData", True)]
        others = [q for q in queries if "Expression" in q and q is not returned]
        if others:
            raise Unsupported(f"{name}: only one expression, the returned one, is implemented")
        for query_id, stat in stats.items():
            if stat["Stat"] not in ("Sum", "SampleCount") and not _PERCENTILE_RANK.fullmatch(stat["Stat"]):
                raise Unsupported(f"{name}: statistic {stat['Stat']!r} of {query_id} is not implemented")
        if "Threshold" not in properties:
            raise Unsupported(f"{name}: only a static Threshold is implemented")
        comparison = properties["ComparisonOperator"]
        if comparison not in _COMPARISONS:
            raise Unsupported(f"{name}: comparison {comparison} is not implemented")
        treat = properties.get("TreatMissingData", "missing")
        if treat not in ("notBreaching", "breaching"):
            raise Unsupported(f"{name}: TreatMissingData {treat!r} is not implemented")
        evaluation_periods = int(properties["EvaluationPeriods"])
        return cls(
            name=name,
            metrics={
                query_id: ((s["Metric"]["Namespace"], s["Metric"]["MetricName"]), s["Stat"])
                for query_id, s in stats.items()
            },
            expression=parse_expression(returned["Expression"], set(stats)),
            period_minutes=next(iter(periods)) // MINUTE,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=int(properties.get("DatapointsToAlarm", evaluation_periods)),
            threshold=float(properties["Threshold"]),
            breaches=_COMPARISONS[comparison],
            treat_missing_data=treat,
        )

    def datapoint(self, feed: Mapping[tuple[str, str], MinuteSeries], end_minute: int) -> Value:
        """The expression's value for the period ending at ``end_minute`` (None: missing)."""
        if end_minute not in self._datapoints:
            values: dict[str, Value] = {}
            for query_id, (metric, stat) in self.metrics.items():
                series = feed.get(metric)
                values[query_id] = series.statistic(stat, end_minute, self.period_minutes) if series else None
            value, is_series = self.expression(values)
            if not is_series:
                raise Unsupported(f"{self.name}: the expression's result is a scalar, not a time series")
            self._datapoints[end_minute] = None if value is None or math.isnan(value) else value
        return self._datapoints[end_minute]

    def evaluate(self, feed: Mapping[tuple[str, str], MinuteSeries], minute: int) -> str:
        """The state after an evaluation at ``minute`` (rules 3 and 4)."""
        n, m = self.evaluation_periods, self.datapoints_to_alarm
        ends = [minute - k * self.period_minutes for k in range(n + EXTRA_PERIODS_IN_RANGE)]
        recent = [self.datapoint(feed, end) for end in ends[:n]]
        if all(v is not None for v in recent):
            evaluated = [self.breaches(v, self.threshold) for v in recent if v is not None]
        else:
            existing = [v for v in (self.datapoint(feed, end) for end in ends) if v is not None]
            if len(existing) >= n:
                evaluated = [self.breaches(v, self.threshold) for v in existing[:n]]
            else:
                filler = self.treat_missing_data == "breaching"
                evaluated = [self.breaches(v, self.threshold) for v in existing] + [filler] * (n - len(existing))
        self.state = ALARM if sum(evaluated) >= m else OK
        return self.state


# --- 5. composite alarms ---------------------------------------------------------------------------------------

_RULE_TOKEN = re.compile(
    r'\s*(?:(?P<call>ALARM|OK|INSUFFICIENT_DATA)\(\s*"?(?P<child>[^")]+)"?\s*\)|(?P<word>AND|OR|NOT|TRUE|FALSE)|(?P<paren>[()]))'
)
RuleNode = Callable[[Mapping[str, str]], bool]


def _either(left: RuleNode, right: RuleNode) -> RuleNode:
    return lambda states: left(states) or right(states)


def _both(left: RuleNode, right: RuleNode) -> RuleNode:
    return lambda states: left(states) and right(states)


def _rule(text: str) -> RuleNode:
    """Parse an ``AlarmRule``: functions of the children's states, AND/OR/NOT, parentheses (AND before OR)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        match = _RULE_TOKEN.match(text, position)
        if not match:
            raise Unsupported(f"cannot read {text[position:]!r} in the alarm rule {text!r}")
        if match.group("call"):
            tokens.append((match.group("call"), match.group("child")))
        else:
            tokens.append((match.group("word") or match.group("paren"), ""))
        position = match.end()
    index = 0

    def peek() -> str | None:
        return tokens[index][0] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise Unsupported(f"the alarm rule {text!r} ends early")
        index += 1
        return tokens[index - 1]

    def either() -> RuleNode:
        node = both()
        while peek() == "OR":
            take()
            node = _either(node, both())
        return node

    def both() -> RuleNode:
        node = negation()
        while peek() == "AND":
            take()
            node = _both(node, negation())
        return node

    def negation() -> RuleNode:
        if peek() == "NOT":
            take()
            inner = negation()
            return lambda states: not inner(states)
        return term()

    def term() -> RuleNode:
        kind, child = take()
        if kind == "(":
            node = either()
            if take()[0] != ")":
                raise Unsupported(f"unbalanced parentheses in the alarm rule {text!r}")
            return node
        if kind in ("TRUE", "FALSE"):
            return lambda states: kind == "TRUE"
        if kind in (ALARM, OK, INSUFFICIENT_DATA):
            return lambda states: states[child] == kind
        raise Unsupported(f"unexpected {kind!r} in the alarm rule {text!r}")

    node = either()
    if index != len(tokens):
        raise Unsupported(f"unexpected {tokens[index][0]!r} in the alarm rule {text!r}")
    return node


def _children(text: str) -> set[str]:
    return {match.group("child") for match in _RULE_TOKEN.finditer(text) if match.group("call")}


@dataclass
class CompositeAlarm:
    """A composite alarm: its rule over its children's states (the children by alarm name)."""

    name: str
    rule_text: str
    rule: RuleNode
    children: set[str]
    state: str = INSUFFICIENT_DATA

    def evaluate(self, states: Mapping[str, str]) -> str:
        """ALARM when the rule holds, else OK."""
        self.state = ALARM if self.rule(states) else OK
        return self.state


# --- the alarms of a template ----------------------------------------------------------------------------------


@dataclass
class History:
    """Each alarm's state changes: ``(minute, state)`` in order, the first one from INSUFFICIENT_DATA."""

    changes: dict[str, list[tuple[int, str]]]

    def transitions(self, name: str) -> list[tuple[int, str]]:
        """The changes of alarm ``name``."""
        return self.changes[name]

    def first(self, name: str, state: str, after: int = 0) -> int | None:
        """The first minute at or after ``after`` when ``name`` went to ``state``, or None."""
        return next((minute for minute, s in self.changes[name] if s == state and minute >= after), None)

    def entered(self, name: str, state: str = ALARM) -> bool:
        """Whether ``name`` was ever in ``state``."""
        return any(s == state for _, s in self.changes[name])


@dataclass
class AlarmSet:
    """The metric and composite alarms of one template, evaluated together."""

    metric_alarms: dict[str, MetricAlarm]
    composites: dict[str, CompositeAlarm]

    @classmethod
    def from_template(cls, template: Mapping[str, Any], *, only: Callable[[str], bool] = lambda name: True) -> AlarmSet:
        """Every alarm in ``template`` whose name ``only`` accepts, with every child a composite names."""
        resources = template["Resources"]
        names = {
            lid: r["Properties"].get("AlarmName")
            for lid, r in resources.items()
            if "AlarmName" in r.get("Properties", {})
        }
        composites = {}
        for resource in resources.values():
            if resource["Type"] == "AWS::CloudWatch::CompositeAlarm" and only(resource["Properties"]["AlarmName"]):
                text = _resolve(resource["Properties"]["AlarmRule"], names)
                name = resource["Properties"]["AlarmName"]
                composites[name] = CompositeAlarm(name, text, _rule(text), _children(text))
        wanted = {child for c in composites.values() for child in c.children}
        metric_alarms = {}
        for resource in resources.values():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::CloudWatch::Alarm" and (
                only(properties["AlarmName"]) or properties["AlarmName"] in wanted
            ):
                metric_alarms[properties["AlarmName"]] = MetricAlarm.from_properties(properties)
        missing = wanted - set(metric_alarms) - set(composites)
        if missing:
            raise Unsupported(f"the rules name alarms the template does not define: {sorted(missing)}")
        return cls(metric_alarms, composites)

    def run(self, feed: Mapping[tuple[str, str], MinuteSeries], *, minutes: int, start: int = 1) -> History:
        """Evaluate every alarm each minute from ``start`` to ``minutes`` (composites after their children).

        ``feed`` names every metric the alarms read (a series of None where the metric published nothing), so a
        metric the template names and the feed does not is an error, not a quiet alarm.
        """
        unfed = {metric for a in self.metric_alarms.values() for metric, _ in a.metrics.values()} - set(feed)
        if unfed:
            raise ValueError(f"the feed has no series for {sorted(unfed)}, which the alarms read")
        changes: dict[str, list[tuple[int, str]]] = {name: [] for name in [*self.metric_alarms, *self.composites]}
        for minute in range(start, minutes + 1):
            moved = False
            for alarm in self.metric_alarms.values():
                before = alarm.state
                if alarm.evaluate(feed, minute) != before:
                    changes[alarm.name].append((minute, alarm.state))
                    moved = True
            if moved or minute == start:
                states = {name: a.state for name, a in self.metric_alarms.items()}
                for composite in self._composites_in_order():
                    before = composite.state
                    states[composite.name] = composite.evaluate(states)
                    if composite.state != before:
                        changes[composite.name].append((minute, composite.state))
        return History(changes)

    def _composites_in_order(self) -> Iterator[CompositeAlarm]:
        """Composites whose children are all metric alarms first, then those built on composites."""
        done: set[str] = set(self.metric_alarms)
        pending = list(self.composites.values())
        while pending:
            ready = [c for c in pending if c.children <= done]
            if not ready:
                raise Unsupported("the composite alarms' rules form a cycle")
            for composite in ready:
                yield composite
                done.add(composite.name)
                pending.remove(composite)


def _resolve(rule: Any, names: Mapping[str, str | None]) -> str:
    """An ``AlarmRule`` as text, each ``Fn::GetAtt [id, Arn]`` replaced by that alarm's name."""
    if isinstance(rule, str):
        return rule
    if isinstance(rule, dict) and set(rule) == {"Fn::Join"}:
        separator, parts = rule["Fn::Join"]
        return separator.join(_resolve(part, names) for part in parts)
    if isinstance(rule, dict) and set(rule) == {"Fn::GetAtt"} and rule["Fn::GetAtt"][1] == "Arn":
        name = names.get(rule["Fn::GetAtt"][0])
        if name:
            return name
    raise Unsupported(f"cannot resolve {rule!r} in an alarm rule")
