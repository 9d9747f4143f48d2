"""Every log group has a retention and the environment's removal policy; none is implicit."""

from __future__ import annotations

import pytest

from cruddur import contract
from testsupport import templates


def test_no_log_group_anywhere_lacks_retention(any_env):
    """Every AWS::Logs::LogGroup in every stack sets RetentionInDays to the configured value."""
    groups = any_env.all_resources("AWS::Logs::LogGroup")
    assert groups, "expected log groups"
    for logical_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays") == any_env.config.logs.retention_days, logical_id


def test_nothing_creates_a_log_group_implicitly(any_env):
    """Every Lambda function names its log group, so CloudWatch never creates one without retention."""
    functions = any_env.all_resources("AWS::Lambda::Function")
    assert functions  # the preflight and its provider at least
    for logical_id, function in functions.items():
        assert "LogGroup" in function["Properties"].get("LoggingConfig", {}), logical_id


@pytest.mark.parametrize(("env_name", "policy"), [("dev", "Delete"), ("staging", "Delete"), ("prod", "Retain")])
def test_removal_policy_follows_the_environment(synthesized_environments, env_name, policy):
    """dev and staging delete their logs on destroy; prod keeps them."""
    env = synthesized_environments(env_name)
    for logical_id, group in env.all_resources("AWS::Logs::LogGroup").items():
        assert group["DeletionPolicy"] == policy, logical_id
        assert group["UpdateReplacePolicy"] == policy, logical_id


def test_each_container_logs_to_its_own_group(dev):
    """app, X-Ray daemon and collector each use awslogs with a distinct group; watchtower has a fourth."""
    groups = {}
    for name, container in templates.containers(dev).items():
        log_configuration = container["LogConfiguration"]
        assert log_configuration["LogDriver"] == "awslogs"
        groups[name] = log_configuration["Options"]["awslogs-group"]["Ref"]
    assert set(groups) == {
        contract.APP_CONTAINER_NAME,
        contract.XRAY_DAEMON_CONTAINER_NAME,
        contract.COLLECTOR_CONTAINER_NAME,
    }
    assert len(set(groups.values())) == 3
    service_groups = set(dev.resources("service", "AWS::Logs::LogGroup"))
    assert set(groups.values()) < service_groups
    assert len([g for g in service_groups if g.startswith("LogGroups")]) == 4


def test_dev_and_staging_destroy_everything(synthesized_environments):
    """No resource of any type is retained in dev or staging: destroy leaves nothing billing."""
    for name in ("dev", "staging"):
        env = synthesized_environments(name)
        for key, template in env.templates.items():
            kept = [lid for lid, r in template["Resources"].items() if r.get("DeletionPolicy") == "Retain"]
            assert kept == [], f"{name}/{key}: {kept}"


def test_prod_retains_only_its_log_groups_access_logs_and_table(prod):
    """prod keeps its log groups, the load balancer's access logs and its table by design, and nothing else;
    the table is also deletion-protected."""
    kept_types = {
        r["Type"]
        for template in prod.templates.values()
        for r in template["Resources"].values()
        if r.get("DeletionPolicy") == "Retain"
    }
    assert kept_types == {"AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::DynamoDB::Table"}
    (table,) = prod.resources("service", "AWS::DynamoDB::Table").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_destroy_says_what_it_keeps(prod, dev):
    """The retained list make destroy prints names prod's log groups, access log bucket and table, and is empty for
    dev.
    """
    from scripts.summarize_assembly import retained

    assert retained(dev.outdir) == []
    kept = retained(prod.outdir)
    kept_types = ("(AWS::Logs::LogGroup)", "(AWS::S3::Bucket)", "(AWS::DynamoDB::Table)")
    assert kept and all(item.endswith(kept_types) for item in kept)
    assert len([item for item in kept if item.endswith("(AWS::S3::Bucket)")]) == 1
    assert sum(item.endswith("(AWS::DynamoDB::Table)") for item in kept) == 1
