"""X-Ray's sampling API as the daemon (and the collector's awsproxy) serve it on TCP 2000.

``POST /GetSamplingRules`` and ``POST /SamplingTargets``, with X-Ray's JSON.
Every request is held to X-Ray's published model (``AwsModel("xray")``,
botocore's service model): an off-model request is answered as X-Ray answers
it (HTTP 400, ``ValidationException``) and leaving the ``with`` block fails
the test naming the field (``assert_clean``).

What the model cannot say, and this stand-in decides for itself: the targets
are what X-Ray assigns a single client (the rule's fixed rate and its whole
reservoir) until a test sets one, and a ``SamplingBoost`` is answered only
when a test sets it (X-Ray computes one from the anomalies every client
reports, within the rule's ``MaxRate``, once per cooldown window).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from testsupport.standins.aws_model import AwsModel
from testsupport.standins.loopback_http import LoopbackHttpServer


class XRaySamplingApi(LoopbackHttpServer):
    """The sampling API the service polls; a test changes a rule's target (rate, quota, boost) while it runs."""

    def __init__(self, rules: list[dict[str, Any]], *, interval_seconds: int = 10) -> None:
        super().__init__()
        self.model = AwsModel("xray")
        self.rules = [dict(rule) for rule in rules]
        self.interval_seconds = interval_seconds
        self.targets: dict[str, dict[str, Any]] = {}
        self.boosts: dict[str, dict[str, float]] = {}
        self.rule_requests = 0
        self.statistics: list[dict[str, Any]] = []
        self.boost_statistics: list[dict[str, Any]] = []
        self.last_rule_modification = time.time()
        self._lock = threading.Lock()

    def set_target(self, rule_name: str, *, fixed_rate: float, reservoir_quota: int) -> None:
        """What the next SamplingTargets answer gives ``rule_name``."""
        with self._lock:
            self.targets[rule_name] = {"FixedRate": fixed_rate, "ReservoirQuota": reservoir_quota}

    def set_boost(self, rule_name: str, *, boost_rate: float, ttl_seconds: float) -> float:
        """Answer ``rule_name``'s targets with a ``SamplingBoost`` of ``boost_rate`` for ``ttl_seconds`` from now;
        its end.
        """
        until = time.time() + ttl_seconds
        with self._lock:
            self.boosts[rule_name] = {"BoostRate": boost_rate, "BoostRateTTL": until}
        return until

    def statistics_of(self, rule_name: str) -> list[dict[str, Any]]:
        """The statistics documents reported for ``rule_name``, oldest first."""
        with self._lock:
            return [doc for doc in self.statistics if doc["RuleName"] == rule_name]

    def boost_statistics_of(self, rule_name: str) -> list[dict[str, Any]]:
        """The boost statistics documents reported for ``rule_name``, oldest first."""
        with self._lock:
            return [doc for doc in self.boost_statistics if doc["RuleName"] == rule_name]

    def assert_clean(self) -> None:
        """Fail, naming each operation and field, if the service sent a request off X-Ray's model."""
        self.model.assert_clean()

    # A test of a stand-in itself, which sends off-model requests on purpose, turns this off
    # and asserts the refusals it expects; every other user is checked when the block ends.
    assert_clean_on_exit = True

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        super().__exit__(exc_type, *exc)
        if exc_type is None and self.assert_clean_on_exit:
            self.assert_clean()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        operation, params, refusal = self.model.check("POST", path, body, headers)
        if refusal is not None:
            return refusal
        if operation is None:
            return 404, b'{"message": "unknown path"}'
        with self._lock:
            if operation.name == "GetSamplingRules":
                self.rule_requests += 1
                return 200, json.dumps({"SamplingRuleRecords": self._records()}).encode()
            if operation.name == "GetSamplingTargets":
                assert params is not None
                return 200, json.dumps(self._targets(params)).encode()
        return 404, json.dumps({"message": f"{operation.name} is not served by the sampling proxy"}).encode()

    def _records(self) -> list[dict[str, Any]]:
        arn = "arn:aws:xray:us-east-1:000000000000:sampling-rule/{}"
        return [
            {
                "SamplingRule": {**rule, "RuleARN": arn.format(rule["RuleName"])},
                "CreatedAt": self.last_rule_modification,
                "ModifiedAt": self.last_rule_modification,
            }
            for rule in self.rules
        ]

    def _targets(self, params: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        documents = params["SamplingStatisticsDocuments"]
        self.statistics.extend(documents)
        self.boost_statistics.extend(params.get("SamplingBoostStatisticsDocuments") or [])
        by_name = {rule["RuleName"]: rule for rule in self.rules}
        targets, unprocessed = [], []
        for document in documents:
            rule = by_name.get(document["RuleName"])
            if rule is None:
                unprocessed.append({"RuleName": document["RuleName"], "ErrorCode": "400", "Message": "Unknown rule"})
                continue
            target = {
                "RuleName": rule["RuleName"],
                **self.targets.get(
                    rule["RuleName"], {"FixedRate": rule["FixedRate"], "ReservoirQuota": rule["ReservoirSize"]}
                ),
                "ReservoirQuotaTTL": now + 3600,
                "Interval": self.interval_seconds,
            }
            boost = self.boosts.get(rule["RuleName"])
            if boost is not None and boost["BoostRateTTL"] > now and "SamplingRateBoost" in rule:
                target["SamplingBoost"] = dict(boost)
            targets.append(target)
        return {
            "SamplingTargetDocuments": targets,
            "LastRuleModification": self.last_rule_modification,
            "UnprocessedStatistics": unprocessed,
        }
