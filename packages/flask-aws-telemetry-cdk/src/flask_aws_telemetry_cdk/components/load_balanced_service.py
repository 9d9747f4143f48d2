"""The service behind a public Application Load Balancer: aws-ecs-patterns' pattern, hardened and with health checks.

HTTP on port 80 without a domain; with one (``ServiceDomain``), HTTPS on 443
with TLS 1.3 and 1.2 only and a redirect from 80, and an alias record when
the domain has its hosted zone. Access logs go to an ``AccessLogBucket``
when one is given (its expiration and removal policy are the bucket's).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from flask_aws_telemetry_cdk.components.access_logs import AccessLogBucket
from flask_aws_telemetry_cdk.components.service_domain import ServiceDomain

# Rolling deploys: a deployment that cannot reach steady state is rolled back to the last one that did.
CIRCUIT_BREAKER = ecs.DeploymentCircuitBreaker(enable=True, rollback=True)
MAX_HEALTHY_PERCENT = 200


def fargate_spot_strategy(fargate_spot: bool) -> list[ecs.CapacityProviderStrategy] | None:
    """Every task on Fargate Spot, or None: the cluster's default (on-demand Fargate)."""
    return [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)] if fargate_spot else None


class LoadBalancedService(ecs_patterns.ApplicationLoadBalancedFargateService):
    """``ApplicationLoadBalancedFargateService`` with the health check on ``health_check_path`` and ``url``.

    It is the pattern itself, not a wrapper, so the pattern's resources keep
    their logical ids (and the security group its description, made of its path).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.FargateTaskDefinition,
        task_subnets: ec2.SubnetSelection,
        health_check_path: str,
        assign_public_ip: bool = False,
        desired_count: int = 1,
        min_healthy_percent: int = 50,
        fargate_spot: bool = False,
        domain: ServiceDomain | None = None,
        access_logs: AccessLogBucket | None = None,
    ) -> None:
        """Run ``desired_count`` (default 1) tasks; a deploy keeps ``min_healthy_percent`` (default 50) of them.

        Tasks run in ``task_subnets``, with a public address if ``assign_public_ip``, on Spot if ``fargate_spot``.
        """
        tls = domain is not None
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            task_definition=task_definition,
            desired_count=desired_count,
            capacity_provider_strategies=fargate_spot_strategy(fargate_spot),
            circuit_breaker=CIRCUIT_BREAKER,
            min_healthy_percent=min_healthy_percent,
            max_healthy_percent=MAX_HEALTHY_PERCENT,
            assign_public_ip=assign_public_ip,
            task_subnets=task_subnets,
            public_load_balancer=True,
            open_listener=True,
            listener_port=443 if tls else 80,
            health_check_grace_period=Duration.seconds(60),
            protocol=elbv2.ApplicationProtocol.HTTPS if tls else None,
            certificate=domain.certificate if domain else None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if tls else None,  # TLS 1.3 and 1.2 only
            redirect_http=tls,
            # The alias record, where the stack manages the zone.
            domain_name=domain.domain_name if domain and domain.hosted_zone else None,
            domain_zone=domain.hosted_zone if domain else None,
        )
        self.target_group.configure_health_check(
            path=health_check_path,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        # Shorter than ECS's stop timeout, so draining finishes before SIGKILL.
        self.target_group.set_attribute("deregistration_delay.timeout_seconds", "20")
        self.load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        self.access_logs = access_logs
        if access_logs is not None:
            access_logs.deliver_from(self.load_balancer)
        self.url = f"https://{domain.domain_name}" if domain else f"http://{self.load_balancer.load_balancer_dns_name}"
