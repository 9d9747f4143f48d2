"""Cluster, load balancer, deployments and autoscaling."""

from __future__ import annotations

from aws_cdk.assertions import Match

from cruddur import contract
from flask_aws_telemetry_cdk.config import EntryPoint
from testsupport import templates


def test_cluster_has_container_insights_where_configured(any_env):
    """Container Insights feeds the running-task alarm and the dashboard in staging and prod; dev saves it."""
    value = "enabled" if any_env.config.task.container_insights else "disabled"
    any_env.template("service").has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": value}]},
    )
    assert any_env.config.task.container_insights is (any_env.config.name != "dev")


def test_load_balancer_health_check_uses_the_health_endpoint(any_env):
    """The target group probes the contract's health path on the container port (where there is a load balancer)."""
    if any_env.config.edge.entry_point is EntryPoint.HTTP_API:
        assert any_env.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup") == {}
        return
    any_env.template("service").has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "HealthCheckPath": contract.HEALTH_CHECK_PATH,
            "Matcher": {"HttpCode": "200"},
            "TargetType": "ip",
        },
    )
    (mapping,) = templates.ecs_service(any_env)["Properties"]["LoadBalancers"]
    assert mapping["ContainerName"] == contract.APP_CONTAINER_NAME
    assert mapping["ContainerPort"] == contract.CONTAINER_PORT


def test_deployments_roll_back_on_failure(any_env):
    """The deployment circuit breaker is on with rollback; dev's tasks run on Fargate Spot, the others on Fargate."""
    capacity = (
        {"CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]}
        if any_env.config.task.fargate_spot
        else {"LaunchType": "FARGATE"}
    )
    any_env.template("service").has_resource_properties(
        "AWS::ECS::Service",
        {
            "DeploymentConfiguration": Match.object_like(
                {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}, "MaximumPercent": 200}
            ),
            **capacity,
        },
    )
    assert any_env.config.task.fargate_spot is (any_env.config.name == "dev")


def test_fargate_spot_is_a_capacity_provider_of_the_cluster(dev):
    """The service's FARGATE_SPOT strategy needs the cluster's capacity provider association."""
    (association,) = dev.resources("service", "AWS::ECS::ClusterCapacityProviderAssociations").values()
    assert "FARGATE_SPOT" in association["Properties"]["CapacityProviders"]


def test_prod_keeps_every_task_healthy_during_deploys(dev, prod):
    """prod deploys with MinimumHealthyPercent 100; dev may dip to save cost."""

    def minimum(env):
        return templates.ecs_service(env)["Properties"]["DeploymentConfiguration"]["MinimumHealthyPercent"]

    assert minimum(prod) == 100
    assert minimum(dev) < 100


def test_target_tracking_on_cpu_and_requests(any_env):
    """Two target-tracking policies: CPU utilization and ALB requests per target."""
    policies = any_env.resources("service", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies
    }
    config = any_env.config
    expected = {"ECSServiceAverageCPUUtilization": config.scaling.cpu_target_percent}
    if config.edge.entry_point is EntryPoint.LOAD_BALANCER:  # requests per target exist only behind a load balancer
        expected["ALBRequestCountPerTarget"] = config.scaling.requests_per_target_per_minute
    assert metrics == expected
    (target,) = any_env.resources("service", "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["Properties"]["MinCapacity"] == config.scaling.min_capacity
    assert target["Properties"]["MaxCapacity"] == config.scaling.max_capacity


def test_dev_scales_to_zero_on_its_schedule(dev, prod):
    """dev's scheduled actions set capacity to zero at night and back in the morning; prod has none."""
    (target,) = dev.resources("service", "AWS::ApplicationAutoScaling::ScalableTarget").values()
    actions = {a["Schedule"]: a["ScalableTargetAction"] for a in target["Properties"]["ScheduledActions"]}
    schedule = dev.config.scaling.scale_to_zero
    assert actions[schedule.scale_down_cron] == {"MinCapacity": 0, "MaxCapacity": 0}
    assert actions[schedule.scale_up_cron] == {
        "MinCapacity": dev.config.scaling.min_capacity,
        "MaxCapacity": dev.config.scaling.max_capacity,
    }
    (prod_target,) = prod.resources("service", "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert "ScheduledActions" not in prod_target["Properties"]


def test_tasks_accept_traffic_only_from_the_load_balancer(any_env):
    """The service security group's only ingress is from the load balancer's group, on the container port."""
    ingress = list(any_env.resources("service", "AWS::EC2::SecurityGroupIngress").values())
    assert len(ingress) == 1
    rule = ingress[0]["Properties"]
    assert rule["FromPort"] == rule["ToPort"] == contract.CONTAINER_PORT
    assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule
