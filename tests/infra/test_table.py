"""The DynamoDB table: the design the service uses, on-demand, TTL, recovery and retention per environment."""

from __future__ import annotations

from cruddur import contract
from cruddur import table as design
from testsupport import templates


def _table(env) -> dict:
    (resource,) = env.resources("service", "AWS::DynamoDB::Table").values()
    return resource


def test_the_stack_deploys_the_design_make_local_and_the_tests_create(any_env):
    """Keys, attribute types, indexes and billing are those of ``cruddur.table.create_table_request``."""
    properties = _table(any_env)["Properties"]
    request = design.create_table_request("ignored")
    assert properties["KeySchema"] == request["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(request["AttributeDefinitions"], key=str)
    assert properties["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": design.TTL_ATTRIBUTE, "Enabled": True}


def test_recovery_and_retention_follow_the_environment(any_env):
    """Point-in-time recovery in staging and prod; prod's table is retained and deletion-protected, the others are
    deleted.
    """
    resource = _table(any_env)
    properties = resource["Properties"]
    name = any_env.config.name
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is (name in ("staging", "prod"))
    assert properties["DeletionProtectionEnabled"] is (name == "prod")
    assert resource["DeletionPolicy"] == ("Retain" if name == "prod" else "Delete")


def test_the_task_is_given_the_table_it_may_use(any_env):
    """DYNAMODB_TABLE_NAME in the app container is a reference to this table."""
    (table_id,) = any_env.resources("service", "AWS::DynamoDB::Table")
    environment = templates.environment(templates.app_container(any_env))
    assert environment[contract.DYNAMODB_TABLE_NAME.name] == {"Ref": table_id}
    assert contract.FRONTEND_URL.name not in environment  # no origin is allowed unless configured
