"""X-Ray's sampling API as the daemon (and the collector's awsproxy) serve it on TCP 2000.

``POST /GetSamplingRules`` and ``POST /SamplingTargets``, with X-Ray's JSON.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from testsupport.standins.loopback_http import LoopbackHttpServer


class XRaySamplingApi(LoopbackHttpServer):
    """The sampling API the service polls; a test changes a rule's target (rate, quota) while it runs.

    Until a test sets one, a rule's target is what X-Ray assigns a single
    client: its own fixed rate and its whole reservoir.
    """

    def __init__(self, rules: list[dict[str, Any]], *, interval_seconds: int = 10) -> None:
        super().__init__()
        self.rules = [dict(rule) for rule in rules]
        self.interval_seconds = interval_seconds
        self.targets: dict[str, dict[str, Any]] = {}
        self.rule_requests = 0
        self.statistics: list[dict[str, Any]] = []
        self.last_rule_modification = time.time()
        self._lock = threading.Lock()

    def set_target(self, rule_name: str, *, fixed_rate: float, reservoir_quota: int) -> None:
        """What the next SamplingTargets answer gives ``rule_name``."""
        with self._lock:
            self.targets[rule_name] = {"FixedRate": fixed_rate, "ReservoirQuota": reservoir_quota}

    def statistics_of(self, rule_name: str) -> list[dict[str, Any]]:
        """The statistics documents reported for ``rule_name``, oldest first."""
        with self._lock:
            return [doc for doc in self.statistics if doc["RuleName"] == rule_name]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        now = time.time()
        with self._lock:
            if path == "/GetSamplingRules":
                self.rule_requests += 1
                records = [
                    {"SamplingRule": {**rule, "RuleARN": f"arn:aws:xray:us-east-1:000000000000:sampling-rule/{rule['RuleName']}"},
                     "CreatedAt": self.last_rule_modification, "ModifiedAt": self.last_rule_modification}
                    for rule in self.rules
                ]  # fmt: skip
                return 200, json.dumps({"SamplingRuleRecords": records}).encode()
            if path == "/SamplingTargets":
                documents = json.loads(body)["SamplingStatisticsDocuments"]
                self.statistics.extend(documents)
                by_name = {rule["RuleName"]: rule for rule in self.rules}
                targets = []
                for document in documents:
                    rule = by_name[document["RuleName"]]
                    target = self.targets.get(
                        rule["RuleName"], {"FixedRate": rule["FixedRate"], "ReservoirQuota": rule["ReservoirSize"]}
                    )
                    targets.append(
                        {"RuleName": rule["RuleName"], **target, "ReservoirQuotaTTL": now + 3600, "Interval": self.interval_seconds}
                    )
                answer = {"SamplingTargetDocuments": targets, "LastRuleModification": self.last_rule_modification,
                          "UnprocessedStatistics": []}  # fmt: skip
                return 200, json.dumps(answer).encode()
        return 404, b'{"message": "unknown path"}'
