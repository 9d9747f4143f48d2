"""X-Ray's sampling rules decide which requests are traced, live, for OpenTelemetry and the X-Ray SDK alike.

The decision is made once per request by ``XRayRulesSampler`` (asked by
``gate.SamplingGate``), and both tracers follow it: OpenTelemetry starts a
server span only for a sampled request, and the X-Ray segment is recorded
inside that span with the same trace id.

Where the rules come from
-------------------------
The sampler polls the local sampling proxy at ``XRAY_SAMPLING_ENDPOINT``:
the X-Ray daemon's TCP port 2000, or the ADOT collector's ``awsproxy``
extension on the same port in the OpenTelemetry-only path. Both forward
``POST /GetSamplingRules`` and ``POST /SamplingTargets`` to X-Ray, signed
with the task role. Rules are fetched at start and every 5 minutes (plus
jitter), statistics are reported and targets (reservoir quota per second,
fixed rate) received every 10 seconds, or at the interval X-Ray answers:
a rule changed in the console or with ``UpdateSamplingRule`` takes effect
within one targets interval.

The rule matching, the reservoir and the fixed rate are the ADOT Python
distro's own (``amazon.opentelemetry.distro.sampler``: the rule cache,
rule appliers and sampling client that its ``AwsXRayRemoteSampler`` is
built from). Only the scheduling lives here, because that sampler's fallback
is fixed (one a second and 5 %, health checks included), and the fallback
here must be this environment's own rules.

Until the proxy answers, or when it cannot be reached, the environment's
rules as the stack deployed them (``XRAY_SAMPLING_RULES``, generated from
the same ``SamplingPolicy`` as the ``AWS::XRay::SamplingRule`` resources)
decide, with X-Ray's borrowing reservoir of one request a second per rule
until targets arrive. The fallback is logged once; no request ever waits
on the proxy.

What is reported
----------------
Every targets interval, one ``SamplingStatisticsDocument`` per rule that has
matched a request since the process started (as the X-Ray SDKs do), with
zero counts for a rule that was idle: X-Ray answers its current target for
it, so a rule changed during a quiet spell holds from the first request
after it. ADOT's documents are renamed to X-Ray's published model on the way
out (``SampledCount``, which ADOT spells ``SampleCount``; no ``ClientID`` in a
boost document): ``model_statistics`` and ``model_boost_statistics``.

Boost (adaptive sampling)
-------------------------
A rule with a ``SamplingRateBoost`` (``MaxRate``, ``CooldownWindowMinutes``)
also gets a ``SamplingBoostStatisticsDocument`` each interval: ``TotalCount``
(the requests it matched), ``AnomalyCount`` and ``SampledAnomalyCount``
(those that ended as anomalies: a 5xx, an unhandled exception, or slower
than the environment's slow-request threshold; the request side counts them
with ``count_anomaly``). When X-Ray answers a ``SamplingBoost``
(``BoostRate``, ``BoostRateTTL``), the rule samples at the boosted rate
instead of its fixed rate until that time, including across later targets
answers that do not repeat it, and the service logs "sampling boosted by
X-Ray" once per boost (the dashboard counts those lines). The reservoir is
unchanged.

When the fallback rules decide, the boost is local and follows the same
path (ADOT's rule applier with a target carrying a ``SamplingBoost``): the
first anomaly a boosted rule counts raises its fixed rate to ``MaxRate`` for
``CooldownWindowMinutes``; anomalies during that window do not extend it,
and the next anomaly after it starts a new one. X-Ray computes a rate up to
``MaxRate`` from the anomaly share across all tasks; locally the only
figures are this process's, so the boost is the rule's maximum.

One decision per request
------------------------
``decide(trace_id, attributes)`` is the gate's question for a new trace: the
decision and the rule that made it (needed to count anomalies per rule).
``should_sample`` answers the same for OpenTelemetry's ``Sampler`` interface.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from amazon.opentelemetry.distro.sampler._aws_xray_sampling_client import _AwsXRaySamplingClient
from amazon.opentelemetry.distro.sampler._clock import _Clock
from amazon.opentelemetry.distro.sampler._rule_cache import (
    DEFAULT_TARGET_POLLING_INTERVAL_SECONDS,
    RULE_CACHE_TTL_SECONDS,
    _RuleCache,
)
from amazon.opentelemetry.distro.sampler._sampling_rule import _SamplingRule
from amazon.opentelemetry.distro.sampler._sampling_rule_applier import _SamplingRuleApplier
from amazon.opentelemetry.distro.sampler._sampling_target import _SamplingBoost, _SamplingTargetResponse
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from . import contract

log = logging.getLogger("flask_aws_telemetry.sampling")

# X-Ray's own intervals: rules every five minutes, targets every ten seconds
# unless X-Ray answers another interval.
RULES_INTERVAL_SECONDS = 300
TARGETS_INTERVAL_SECONDS = DEFAULT_TARGET_POLLING_INTERVAL_SECONDS
# A new trace: no parent span, so the applier counts the request in its statistics.
_NEW_TRACE = Context()
# What ADOT's applier reads of a span to count a sampled anomaly (``span.context.trace_flags.sampled``).
_ANOMALY_SAMPLED = SimpleNamespace(context=SimpleNamespace(trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)))
_ANOMALY_UNSAMPLED = SimpleNamespace(context=SimpleNamespace(trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT)))
# How long a locally boosted fallback rule keeps the reservoir target it gets with the boost (X-Ray's
# borrowing quota, one a second): for good, as before the boost.
_FOREVER_SECONDS = 10 * 365 * 86400
# Distinct (path, method, host) whose matching rule is remembered; paths with ids beyond it are matched each time.
_MATCH_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class SamplingDecision:
    """Whether a new trace is sampled, and the name of the rule that decided (None if no rule matched)."""

    sampled: bool
    rule_name: str | None


def model_statistics(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """ADOT's statistics documents as X-Ray's model spells them: ``SampledCount``, not ``SampleCount``."""
    renamed = []
    for document in documents:
        model = {key: value for key, value in document.items() if key != "SampleCount"}
        model["SampledCount"] = document.get("SampleCount", document.get("SampledCount", 0))
        renamed.append(model)
    return renamed


_BOOST_STATISTICS_MEMBERS = (
    "RuleName",
    "ServiceName",
    "Timestamp",
    "AnomalyCount",
    "TotalCount",
    "SampledAnomalyCount",
)


def model_boost_statistics(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """ADOT's boost statistics documents with only the members X-Ray's model has (ADOT adds ``ClientID``)."""
    return [{key: document[key] for key in _BOOST_STATISTICS_MEMBERS} for document in documents]


class _Rules(_RuleCache):
    """ADOT's rule cache, and what it lacks here.

    - ``decide``: the decision for a new trace with the rule that made it,
      without building OpenTelemetry's sampling result;
    - ``count_anomaly``: ADOT counts anomalies from finished spans
      (``adapt_sampling``), which an unsampled request here never has;
    - ``get_all_statistics``: every rule matched since start, not only the
      rules with requests in the last interval (ADOT's filter);
    - ``update_sampling_targets``: a ``SamplingBoost`` holds until its TTL
      even when the next answer does not repeat it (ADOT's applier forgets it).
    """

    def __init__(self, resource: Resource, client_id: str) -> None:
        # A request no rule matches is not sampled: the account always has a
        # catch-all Default rule, and the fallback rules get X-Ray's.
        super().__init__(resource, ALWAYS_OFF, client_id, _Clock(), threading.Lock())
        self._resource = resource
        self._matched: set[str] = set()
        self._boosts: dict[str, _SamplingBoost] = {}
        self._memo: tuple[list[_SamplingRuleApplier] | None, dict[tuple, int]] = (None, {})

    def appliers(self) -> list[_SamplingRuleApplier]:
        """The rule appliers by priority (the cache replaces the list whole, never changes it in place)."""
        return self._RuleCache__rule_appliers

    def decide(self, trace_id: int, attributes: Mapping[str, str]) -> SamplingDecision:
        """The first matching rule's decision: its reservoir, else its (boosted) fixed rate."""
        applier = self._matching(attributes)
        if applier is None:
            return SamplingDecision(False, None)
        result = applier.should_sample(_NEW_TRACE, trace_id, "request", SpanKind.SERVER, attributes)
        rule_name = applier.sampling_rule.RuleName
        if applier.has_boost():
            applier.count_trace()
        self._matched.add(rule_name)
        return SamplingDecision(result.decision is not Decision.DROP, rule_name)

    def _matching(self, attributes: Mapping[str, str]) -> _SamplingRuleApplier | None:
        """The first applier whose rule matches, remembered per distinct attributes for the current appliers.

        Matching is ADOT's (half of a decision's cost); the same path, method
        and host always match the same rule until the rules or targets change,
        which replaces the appliers and so starts a new memo.
        """
        appliers = self.appliers()
        memo_for, memo = self._memo
        if memo_for is not appliers:
            memo = {}
            self._memo = (appliers, memo)
        key = tuple(attributes.items())
        index = memo.get(key)
        if index is None:
            index = next((i for i, a in enumerate(appliers) if a.matches(self._resource, attributes)), -1)
            if len(memo) < _MATCH_MEMO_SIZE:
                memo[key] = index
        return appliers[index] if index >= 0 else None

    def applier(self, rule_name: str) -> _SamplingRuleApplier | None:
        """The applier of ``rule_name``, if the rules have one."""
        for applier in self.appliers():
            if applier.sampling_rule.RuleName == rule_name:
                return applier
        return None

    def count_anomaly(self, rule_name: str, *, sampled: bool) -> _SamplingRuleApplier | None:
        """Count an anomaly for ``rule_name`` if it has a boost; the applier that counted it."""
        applier = self.applier(rule_name)
        if applier is None or not applier.has_boost():
            return None
        applier.count_anomaly_trace(_ANOMALY_SAMPLED if sampled else _ANOMALY_UNSAMPLED)
        return applier

    def get_all_statistics(self) -> tuple[list[dict], list[dict]]:
        """One statistics document per rule matched since start; a boost document for each such rule with a boost."""
        statistics, boost_statistics = [], []
        for applier in self.appliers():
            document, boost_document = applier.get_then_reset_statistics()
            if applier.sampling_rule.RuleName not in self._matched:
                continue
            statistics.append(document)
            if applier.has_boost():
                boost_statistics.append(boost_document)
        return statistics, boost_statistics

    def update_sampling_targets(self, sampling_targets_response: _SamplingTargetResponse) -> tuple[bool, int]:
        """Apply X-Ray's targets; a boost answered earlier stays until its TTL; a new one is logged (the dashboard
        counts it).
        """
        for target in sampling_targets_response.SamplingTargetDocuments:
            boost = target.SamplingBoost
            if boost is None or boost.BoostRateTTL is None or boost.BoostRateTTL == self.boost_until(target.RuleName):
                continue
            log.warning(
                "%s by X-Ray: rule %s samples %s of requests for %.0f seconds",
                contract.SAMPLING_BOOST_MESSAGE_PREFIX,
                target.RuleName,
                boost.BoostRate,
                max(0.0, boost.BoostRateTTL - time.time()),
            )
        return self._apply_targets(sampling_targets_response)

    def _apply_targets(self, sampling_targets_response: _SamplingTargetResponse) -> tuple[bool, int]:
        now = time.time()
        for target in sampling_targets_response.SamplingTargetDocuments:
            if target.SamplingBoost is not None and target.SamplingBoost.BoostRateTTL is not None:
                self._boosts[target.RuleName] = target.SamplingBoost
            elif (boost := self._boosts.get(target.RuleName)) is not None and boost.BoostRateTTL > now:
                target.SamplingBoost = boost
        return super().update_sampling_targets(sampling_targets_response)

    def boost_until(self, rule_name: str) -> float:
        """When the last boost of ``rule_name`` ends (epoch seconds; 0 if it never had one)."""
        boost = self._boosts.get(rule_name)
        return float(boost.BoostRateTTL) if boost is not None else 0.0

    def boost_locally(self, applier: _SamplingRuleApplier) -> None:
        """The fallback's boost: ``MaxRate`` for ``CooldownWindowMinutes``, unless a boost is on already."""
        rule = applier.sampling_rule
        now = time.time()
        if rule.SamplingRateBoost is None or now < self.boost_until(rule.RuleName):
            return
        until = now + 60.0 * rule.SamplingRateBoost.CooldownWindowMinutes
        target = {
            "RuleName": rule.RuleName,
            "FixedRate": rule.FixedRate,
            "ReservoirQuota": 1 if rule.ReservoirSize > 0 else 0,
            "ReservoirQuotaTTL": now + _FOREVER_SECONDS,
            "SamplingBoost": {"BoostRate": rule.SamplingRateBoost.MaxRate, "BoostRateTTL": until},
        }
        self._apply_targets(_SamplingTargetResponse(LastRuleModification=0.0, SamplingTargetDocuments=[target]))
        log.warning(
            "%s locally: rule %s samples %s of requests for %s minutes after an anomaly",
            contract.SAMPLING_BOOST_MESSAGE_PREFIX,
            rule.RuleName,
            rule.SamplingRateBoost.MaxRate,
            rule.SamplingRateBoost.CooldownWindowMinutes,
        )


class XRayRulesSampler(Sampler):
    """Sample as the account's X-Ray sampling rules say; the environment's own rules until they are known."""

    def __init__(
        self,
        resource: Resource,
        *,
        endpoint: str | None,
        fallback_rules: Sequence[Mapping[str, Any]],
    ) -> None:
        """Poll ``endpoint`` (the sampling proxy) on a daemon thread; without one, ``fallback_rules`` decide."""
        self._client_id = f"{random.getrandbits(96):024x}"
        self._endpoint = endpoint
        self._fallback = _Rules(resource, self._client_id)
        rules = [dict(rule) for rule in fallback_rules]
        if not any(rule["RuleName"] == contract.XRAY_DEFAULT_SAMPLING_RULE["RuleName"] for rule in rules):
            rules.append(dict(contract.XRAY_DEFAULT_SAMPLING_RULE))
        self._fallback.update_sampling_rules([_SamplingRule(**rule) for rule in rules])
        self._remote: _Rules | None = None
        # Until when the fetched rules hold (the rule cache's own time to live, kept here so
        # that a request does not take the cache's lock to ask).
        self._remote_valid_until = 0.0
        self._fallback_logged = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if endpoint:
            self._client = _AwsXRaySamplingClient(endpoint.rstrip("/"))
            self._remote = _Rules(resource, self._client_id)
            self._poller = threading.Thread(target=self._poll, name="xray-sampling-poller", daemon=True)
            self._poller.start()

    @property
    def using_remote_rules(self) -> bool:
        """True while the account's rules, fetched from the proxy, decide."""
        return time.monotonic() < self._remote_valid_until

    def _rules(self) -> _Rules:
        if self.using_remote_rules and self._remote is not None:
            return self._remote
        if not self._fallback_logged:
            self._fallback_logged = True
            log.warning(
                "sampling with the environment's fallback rules: %s",
                "no sampling proxy is configured"
                if self._remote is None
                else f"the X-Ray sampling proxy at {self._endpoint} has not served the rules yet",
            )
        return self._fallback

    def decide(self, trace_id: int, attributes: Mapping[str, str]) -> SamplingDecision:
        """Whether a new trace is sampled, and which rule decided; ``attributes``: url.path, http.request.method,
        server.address.
        """
        return self._rules().decide(trace_id, attributes)

    def count_anomaly(self, rule_name: str, *, sampled: bool) -> None:
        """Count a request of ``rule_name`` that ended as an anomaly (for the rule's boost statistics)."""
        rules = self._rules()
        applier = rules.count_anomaly(rule_name, sampled=sampled)
        if applier is not None and rules is self._fallback:
            rules.boost_locally(applier)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """Match the request's attributes (url.path, http.request.method, server.address) against the rules."""
        if not trace.get_current_span(parent_context).get_span_context().is_valid:
            # OpenTelemetry types attribute values as any AttributeValue; the rules read only url.path,
            # http.request.method and server.address, which the WSGI instrumentation sets as strings.
            decision = self.decide(trace_id, attributes or {})  # type: ignore[arg-type]
            return SamplingResult(
                Decision.RECORD_AND_SAMPLE if decision.sampled else Decision.DROP, attributes, trace_state
            )
        return self._rules().should_sample(
            parent_context, trace_id, name, kind=kind, attributes=attributes, links=links, trace_state=trace_state
        )

    def get_description(self) -> str:
        """The sampler's name, with where its rules come from."""
        return f"XRayRulesSampler{{proxy={self._endpoint or 'none'}}}"

    def shutdown(self, timeout_seconds: float = 1.0) -> None:
        """Stop polling the proxy."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout_seconds)

    # -- polling, on its own thread ------------------------------------------------
    def _poll(self) -> None:
        next_rules = time.monotonic()
        next_targets = next_rules + TARGETS_INTERVAL_SECONDS + random.uniform(0.0, 0.1)
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_rules:
                self.refresh_rules()
                next_rules = time.monotonic() + RULES_INTERVAL_SECONDS + random.uniform(0.0, 5.0)
            if now >= next_targets:
                interval = self.report_statistics()
                next_targets = time.monotonic() + interval + random.uniform(0.0, 0.1)
            self._stop.wait(max(0.0, min(next_rules, next_targets) - time.monotonic()))

    def refresh_rules(self) -> None:
        try:
            rules = self._client.get_sampling_rules()
            if not rules:
                return
            assert self._remote is not None
            self._remote.update_sampling_rules(rules)
            if not self.using_remote_rules:
                log.info("sampling with the account's X-Ray rules from %s (%d rules)", self._endpoint, len(rules))
            self._remote_valid_until = time.monotonic() + RULE_CACHE_TTL_SECONDS
        except Exception:
            log.exception("could not refresh the X-Ray sampling rules")

    def report_statistics(self) -> float:
        """Send the statistics since the last report; apply the targets X-Ray answers. Returns the next interval."""
        try:
            assert self._remote is not None
            statistics, boost_statistics = self._remote.get_all_statistics()
            if not statistics:
                return TARGETS_INTERVAL_SECONDS
            response = self._client.get_sampling_targets(
                model_statistics(statistics), model_boost_statistics(boost_statistics)
            )
            if response.SamplingTargetDocuments is None:
                return TARGETS_INTERVAL_SECONDS
            refresh_rules, interval = self._remote.update_sampling_targets(response)
            if refresh_rules:
                self.refresh_rules()
            return float(interval or TARGETS_INTERVAL_SECONDS)
        except Exception:
            log.exception("could not report X-Ray sampling statistics")
            return TARGETS_INTERVAL_SECONDS
