"""X-Ray's sampling rules decide which requests are traced, live, for OpenTelemetry and the X-Ray SDK alike.

The decision is made once per request by ``XRayRulesSampler`` (asked by
``otel.SamplingGate``), and both tracers follow it: OpenTelemetry starts a
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
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from amazon.opentelemetry.distro.sampler._aws_xray_sampling_client import _AwsXRaySamplingClient
from amazon.opentelemetry.distro.sampler._clock import _Clock
from amazon.opentelemetry.distro.sampler._rule_cache import (
    DEFAULT_TARGET_POLLING_INTERVAL_SECONDS,
    RULE_CACHE_TTL_SECONDS,
    _RuleCache,
)
from amazon.opentelemetry.distro.sampler._sampling_rule import _SamplingRule
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from .. import contract

log = logging.getLogger("cruddur.telemetry.sampling")

# X-Ray's own intervals: rules every five minutes, targets every ten seconds
# unless X-Ray answers another interval.
RULES_INTERVAL_SECONDS = 300
TARGETS_INTERVAL_SECONDS = DEFAULT_TARGET_POLLING_INTERVAL_SECONDS

def _rule_cache(resource: Resource, client_id: str) -> _RuleCache:
    # A request no rule matches is not sampled: the account always has a
    # catch-all Default rule, and the fallback rules get X-Ray's.
    return _RuleCache(resource, ALWAYS_OFF, client_id, _Clock(), threading.Lock())


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
        self._fallback = _rule_cache(resource, self._client_id)
        rules = [dict(rule) for rule in fallback_rules]
        if not any(rule["RuleName"] == contract.XRAY_DEFAULT_SAMPLING_RULE["RuleName"] for rule in rules):
            rules.append(dict(contract.XRAY_DEFAULT_SAMPLING_RULE))
        self._fallback.update_sampling_rules([_SamplingRule(**rule) for rule in rules])
        self._remote: _RuleCache | None = None
        # Until when the fetched rules hold (the rule cache's own time to live, kept here so
        # that a request does not take the cache's lock to ask).
        self._remote_valid_until = 0.0
        self._fallback_logged = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if endpoint:
            self._client = _AwsXRaySamplingClient(endpoint.rstrip("/"))
            self._remote = _rule_cache(resource, self._client_id)
            self._poller = threading.Thread(target=self._poll, name="xray-sampling-poller", daemon=True)
            self._poller.start()

    @property
    def using_remote_rules(self) -> bool:
        """True while the account's rules, fetched from the proxy, decide."""
        return time.monotonic() < self._remote_valid_until

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
        if self.using_remote_rules:
            rules = self._remote
        else:
            rules = self._fallback
            if not self._fallback_logged:
                self._fallback_logged = True
                log.warning(
                    "sampling with the environment's fallback rules: %s",
                    "no sampling proxy is configured"
                    if self._remote is None
                    else f"the X-Ray sampling proxy at {self._endpoint} has not served the rules yet",
                )
        return rules.should_sample(
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
                self._refresh_rules()
                next_rules = time.monotonic() + RULES_INTERVAL_SECONDS + random.uniform(0.0, 5.0)
            if now >= next_targets:
                interval = self._report_statistics()
                next_targets = time.monotonic() + interval + random.uniform(0.0, 0.1)
            self._stop.wait(max(0.0, min(next_rules, next_targets) - time.monotonic()))

    def _refresh_rules(self) -> None:
        try:
            rules = self._client.get_sampling_rules()
            if not rules:
                return
            assert self._remote is not None
            self._remote.update_sampling_rules(rules)
            if not self.using_remote_rules:
                log.info("sampling with the account's X-Ray rules from %s (%d rules)", self._endpoint, len(rules))
            self._remote_valid_until = time.monotonic() + RULE_CACHE_TTL_SECONDS
        except Exception:  # noqa: BLE001 - the poller must outlive any answer
            log.exception("could not refresh the X-Ray sampling rules")

    def _report_statistics(self) -> float:
        """Send the statistics since the last report; apply the targets X-Ray answers. Returns the next interval."""
        try:
            assert self._remote is not None
            statistics, boost_statistics = self._remote.get_all_statistics()
            if not statistics and not boost_statistics:
                return TARGETS_INTERVAL_SECONDS
            response = self._client.get_sampling_targets(statistics, boost_statistics)
            if response.SamplingTargetDocuments is None:
                return TARGETS_INTERVAL_SECONDS
            refresh_rules, interval = self._remote.update_sampling_targets(response)
            if refresh_rules:
                self._refresh_rules()
            return float(interval or TARGETS_INTERVAL_SECONDS)
        except Exception:  # noqa: BLE001
            log.exception("could not report X-Ray sampling statistics")
            return TARGETS_INTERVAL_SECONDS
