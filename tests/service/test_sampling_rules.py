"""X-Ray's rules through the sampler: one decision naming its rule, statistics on X-Ray's model, boost remote and local.

The sampler talks to the sampling API stand-in on loopback, which holds every
request to X-Ray's published model (leaving its ``with`` block fails the
test naming the field). The poller's interval is X-Ray's ten seconds, so the
tests report when they need to (``report_statistics``, the poller's step).
"""

from __future__ import annotations

import random
import time

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.semconv.attributes.http_attributes import HTTP_REQUEST_METHOD
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS
from opentelemetry.semconv.attributes.url_attributes import URL_PATH

from cruddur import contract
from flask_aws_telemetry.sampling import SamplingDecision, XRayRulesSampler
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import wait_until

SERVICE = "cruddur-test"
RESOURCE = Resource.create({"service.name": SERVICE})
HOME = {URL_PATH: "/api/activities/home", HTTP_REQUEST_METHOD: "GET", SERVER_ADDRESS: "api.example.com"}
HEALTH = {URL_PATH: contract.HEALTH_CHECK_PATH, HTTP_REQUEST_METHOD: "GET", SERVER_ADDRESS: "10.0.0.1"}


def _rule(name: str, priority: int, *, rate: float, reservoir: int, url_path: str = "*", **extra) -> dict:
    return {
        "RuleName": name, "Priority": priority, "FixedRate": rate, "ReservoirSize": reservoir,
        "ServiceName": SERVICE, "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": url_path,
        "ResourceARN": "*", "Version": 1, **extra,
    }  # fmt: skip


def _boost(max_rate: float = 1.0, cooldown_minutes: float = 1) -> dict:
    return {"SamplingRateBoost": {"MaxRate": max_rate, "CooldownWindowMinutes": cooldown_minutes}}


HEALTH_RULE = _rule("health", 100, rate=0.0, reservoir=0, url_path=contract.HEALTH_CHECK_PATH)


def _trace_ids(count: int) -> list[int]:
    generator = random.Random(4711)
    return [generator.getrandbits(128) for _ in range(count)]


def _sampled(sampler: XRayRulesSampler, attributes: dict, count: int) -> int:
    return sum(sampler.decide(trace_id, attributes).sampled for trace_id in _trace_ids(count))


@pytest.fixture
def remote_sampler():
    """A sampler polling a stand-in for the given rules, once it has fetched them."""
    made: list[XRayRulesSampler] = []

    def make(proxy: XRaySamplingApi) -> XRayRulesSampler:
        sampler = XRayRulesSampler(RESOURCE, endpoint=proxy.url, fallback_rules=[])
        made.append(sampler)
        assert wait_until(lambda: sampler.using_remote_rules, timeout=5), "the rules were never fetched"
        return sampler

    yield make
    for sampler in made:
        sampler.shutdown()


def test_decide_names_the_rule_and_agrees_with_should_sample():
    """The gate's decision and OpenTelemetry's are the same, and the decision says which rule made it."""
    sampler = XRayRulesSampler(
        RESOURCE, endpoint=None, fallback_rules=[HEALTH_RULE, _rule("catch-all", 9000, rate=0.5, reservoir=0)]
    )
    # Given trace ids on both sides of the fixed rate's bound
    trace_ids = _trace_ids(200)
    decisions = [sampler.decide(trace_id, HOME) for trace_id in trace_ids]
    results = [sampler.should_sample(None, trace_id, "request", attributes=HOME) for trace_id in trace_ids]
    assert {d.rule_name for d in decisions} == {"catch-all"}
    assert [d.sampled for d in decisions] == [r.decision is Decision.RECORD_AND_SAMPLE for r in results]
    assert 40 < sum(d.sampled for d in decisions) < 160
    assert sampler.decide(trace_ids[0], HEALTH) == SamplingDecision(sampled=False, rule_name="health")
    with pytest.raises(AttributeError):
        decisions[0].sampled = True  # frozen


def test_a_request_no_rule_matches_is_not_sampled_and_names_no_rule():
    """Rules for another service never match: nothing sampled, no rule to count anomalies for."""
    other = {**_rule("other-service", 1, rate=1.0, reservoir=5), "ServiceName": "someone-else"}
    sampler = XRayRulesSampler(
        RESOURCE,
        endpoint=None,
        fallback_rules=[other, {**contract.XRAY_DEFAULT_SAMPLING_RULE, "ServiceName": "nobody"}],
    )
    assert sampler.decide(1, HOME) == SamplingDecision(sampled=False, rule_name=None)
    sampler.count_anomaly("no-such-rule", sampled=False)  # nothing to count; never raises


def test_statistics_follow_xrays_model_for_every_rule_matched_since_start(remote_sampler):
    """SampledCount (not ADOT's SampleCount), every rule that ever matched, and nothing for a rule that never did."""
    catch_all = _rule("catch-all", 9000, rate=0.0, reservoir=3)
    never = _rule("never", 50, rate=1.0, reservoir=1, url_path="/never/*")
    with XRaySamplingApi([HEALTH_RULE, never, catch_all]) as proxy:
        sampler = remote_sampler(proxy)
        time.sleep(1.05)  # the borrowed reservoir's first second
        # Given requests for the catch-all rule and health checks
        sampled = _sampled(sampler, HOME, 10)
        _sampled(sampler, HEALTH, 4)
        # When statistics are reported, and again after a quiet interval
        sampler.report_statistics()
        sampler.report_statistics()
        sampler.shutdown()

    first, quiet = proxy.statistics_of("catch-all")
    assert first["RequestCount"] == 10 and first["SampledCount"] == sampled == 1  # the borrowed one a second
    assert first["BorrowCount"] == 1 and "SampleCount" not in first
    assert (quiet["RequestCount"], quiet["SampledCount"], quiet["BorrowCount"]) == (0, 0, 0)
    assert [d["RequestCount"] for d in proxy.statistics_of("health")] == [4, 0]
    assert proxy.statistics_of("never") == []
    assert proxy.model.checked["GetSamplingTargets"] == 2 and not proxy.model.violations


def test_a_target_changed_during_a_quiet_spell_holds_from_the_first_request_after_it(remote_sampler):
    """Rate 0 quota 0 set while idle: the idle report fetches it, so a burst right after samples none."""
    with XRaySamplingApi([HEALTH_RULE, _rule("catch-all", 9000, rate=0.5, reservoir=5)]) as proxy:
        sampler = remote_sampler(proxy)
        # Given a rule that sampled, then a quiet spell
        assert _sampled(sampler, HOME, 100) > 5
        sampler.report_statistics()
        # When X-Ray turns the rule down to nothing while no request comes, and the poller reports the idle interval
        proxy.set_target("catch-all", fixed_rate=0.0, reservoir_quota=0)
        sampler.report_statistics()
        # Then the first requests after it follow the new target
        assert _sampled(sampler, HOME, 200) == 0
        sampler.shutdown()


def _boost_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(contract.SAMPLING_BOOST_MESSAGE_PREFIX)]


def test_anomalies_are_reported_in_the_boost_statistics_and_the_boost_answered_holds_until_its_ttl(
    remote_sampler, caplog
):
    """Boost statistics on X-Ray's model; a SamplingBoost answered raises the rate until BoostRateTTL, then the base
    rate.
    """
    boosted = _rule("catch-all", 9000, rate=0.0, reservoir=0, **_boost(max_rate=1.0, cooldown_minutes=1))
    with XRaySamplingApi([HEALTH_RULE, boosted]) as proxy:
        sampler = remote_sampler(proxy)
        # Given requests, three of which end as anomalies (one of them sampled)
        assert _sampled(sampler, HOME, 50) == 0
        for sampled in (False, False, True):
            sampler.count_anomaly("catch-all", sampled=sampled)
        sampler.count_anomaly("health", sampled=False)  # a rule without a boost counts nothing
        # When they are reported, and X-Ray answers a boost for two seconds
        sampler.report_statistics()
        ttl = proxy.set_boost("catch-all", boost_rate=1.0, ttl_seconds=2.0)
        sampler.report_statistics()
        sampler.report_statistics()  # the same boost answered again
        # Then the next burst is sampled at the boosted rate, even after an answer that no longer repeats it
        assert _sampled(sampler, HOME, 50) == 50
        # And the boost is logged once, for the dashboard's SamplingBoosts metric
        assert [line.split(" for ")[0] for line in _boost_lines(caplog)] == [
            "sampling boosted by X-Ray: rule catch-all samples 1.0 of requests"
        ]
        proxy.boosts.clear()
        sampler.report_statistics()
        assert _sampled(sampler, HOME, 50) == 50
        # And after the TTL the base rate again
        time.sleep(max(0.0, ttl - time.time()) + 0.05)
        assert _sampled(sampler, HOME, 50) == 0
        sampler.shutdown()

    (first, *later) = proxy.boost_statistics_of("catch-all")
    assert first == {
        "RuleName": "catch-all", "ServiceName": SERVICE, "Timestamp": first["Timestamp"],
        "TotalCount": 50, "AnomalyCount": 3, "SampledAnomalyCount": 1,
    }  # fmt: skip
    assert [d["TotalCount"] for d in later] == [0, 0, 50]
    assert proxy.boost_statistics_of("health") == []


def test_the_fallback_rules_boost_locally_for_the_cooldown_window(caplog):
    """No proxy: the first anomaly raises a boosted rule to MaxRate for CooldownWindowMinutes; then the base rate."""
    cooldown_seconds = 1.5
    boosted = _rule(
        "catch-all", 9000, rate=0.0, reservoir=0, **_boost(max_rate=1.0, cooldown_minutes=cooldown_seconds / 60)
    )
    sampler = XRayRulesSampler(RESOURCE, endpoint=None, fallback_rules=[HEALTH_RULE, boosted])
    # Given the base rate: nothing sampled
    assert _sampled(sampler, HOME, 50) == 0
    # When a request of the rule ends as an anomaly
    sampler.count_anomaly("catch-all", sampled=False)
    started = time.time()
    # Then the rule samples at MaxRate; health checks keep their own rule
    assert _sampled(sampler, HOME, 50) == 50
    assert _sampled(sampler, HEALTH, 10) == 0
    # And more anomalies during the window do not extend it
    sampler.count_anomaly("catch-all", sampled=True)
    time.sleep(max(0.0, started + cooldown_seconds - time.time()) + 0.1)
    assert _sampled(sampler, HOME, 50) == 0
    # And the next anomaly after the window boosts again
    sampler.count_anomaly("catch-all", sampled=False)
    assert _sampled(sampler, HOME, 50) == 50
    # Each boost logged once, as local
    assert [line.split(": ")[0] for line in _boost_lines(caplog)] == ["sampling boosted locally"] * 2


def test_the_fallback_keeps_its_borrowing_reservoir_while_boosted():
    """A boosted fallback rule still takes one request a second from its reservoir beyond the boosted rate."""
    boosted = _rule("catch-all", 9000, rate=0.0, reservoir=5, **_boost(max_rate=0.0, cooldown_minutes=1))
    sampler = XRayRulesSampler(RESOURCE, endpoint=None, fallback_rules=[boosted])
    sampler.count_anomaly("catch-all", sampled=False)
    time.sleep(1.05)  # the reservoir's wallet fills for a second, as it does at start
    assert _sampled(sampler, HOME, 20) == 1


def test_a_rule_added_in_the_account_decides_from_the_next_rules_refresh(remote_sampler):
    """The matching rule remembered per path is forgotten when the rules change."""
    with XRaySamplingApi([_rule("catch-all", 9000, rate=0.0, reservoir=0)]) as proxy:
        sampler = remote_sampler(proxy)
        assert sampler.decide(1, HOME).rule_name == "catch-all"
        # When a rule for the home timeline is added in the console, and the rules are refreshed
        proxy.rules.insert(0, _rule("home", 10, rate=1.0, reservoir=0, url_path="/api/activities/home"))
        sampler.refresh_rules()
        # Then it decides the same path
        assert sampler.decide(1, HOME) == SamplingDecision(sampled=True, rule_name="home")
        sampler.shutdown()
