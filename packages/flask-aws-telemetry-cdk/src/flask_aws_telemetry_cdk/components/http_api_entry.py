"""An API Gateway HTTP API in front of the service: billed by the request, not by the hour.

Requests go through a VPC link to the tasks, which ECS registers in Cloud
Map (``CloudMapService``: SRV records, each task's address and port), each with the caller's
address in ``contract.HTTP_API_SOURCE_IP_HEADER`` (overwritten, so a caller
cannot forge it; X-Forwarded-For is reserved to API Gateway). Every request
is written to an access log group. With a domain, the API also answers HTTPS on it
with the given or issued certificate; without one, on its own HTTPS
``execute-api`` address.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.components.load_balanced_service import (
    CIRCUIT_BREAKER,
    MAX_HEALTHY_PERCENT,
    fargate_spot_strategy,
)
from flask_aws_telemetry_cdk.components.service_domain import ServiceDomain
from flask_aws_telemetry_cdk.components.task_definition import TracedTaskDefinition

# Fields of each access log line ($context variables of HTTP APIs).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


class CloudMapService(ecs.FargateService):
    """The ECS service of ``task_definition``, its tasks registered in ``namespace`` for the HTTP API's VPC link.

    It is the ``FargateService`` itself, not a wrapper, so its resources keep
    their logical ids (and its security group the description made of its path).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: TracedTaskDefinition,
        task_subnets: ec2.SubnetSelection,
        namespace: servicediscovery.INamespace,
        cloud_map_name: str,
        assign_public_ip: bool = False,
        desired_count: int = 1,
        min_healthy_percent: int = 50,
        fargate_spot: bool = False,
    ) -> None:
        """Run ``desired_count`` (default 1) tasks; a deploy keeps ``min_healthy_percent`` (default 50) of them.

        Each task's app container is registered as ``cloud_map_name`` in ``namespace`` (SRV, 10-second TTL).
        """
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            task_definition=task_definition.task_definition,
            desired_count=desired_count,
            capacity_provider_strategies=fargate_spot_strategy(fargate_spot),
            circuit_breaker=CIRCUIT_BREAKER,
            min_healthy_percent=min_healthy_percent,
            max_healthy_percent=MAX_HEALTHY_PERCENT,
            assign_public_ip=assign_public_ip,
            vpc_subnets=task_subnets,
        )
        self.container_port = task_definition.app.port
        self.cloud_map_registration = self.enable_cloud_map(
            cloud_map_namespace=namespace,
            name=cloud_map_name,
            dns_record_type=servicediscovery.DnsRecordType.SRV,
            dns_ttl=Duration.seconds(10),
            container=task_definition.app_container,
            container_port=self.container_port,
        )


class HttpApiEntry(Construct):
    """HTTP API, VPC link and its security group, access log group, and optionally a custom domain."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        service: CloudMapService,
        access_log_group: logs.ILogGroup,
        domain: ServiceDomain | None = None,
    ) -> None:
        """Route every request to ``service``'s tasks on their app port; on ``domain`` (default none) if given."""
        super().__init__(scope, construct_id)
        self.service = service
        self.security_group = ec2.SecurityGroup(
            self,
            "VpcLinkSecurityGroup",
            vpc=vpc,
            description="HTTP API VPC link to the service",
            allow_all_outbound=False,
        )
        service.connections.allow_from(self.security_group, ec2.Port.tcp(service.container_port), "HTTP API VPC link")
        self.vpc_link = apigwv2.VpcLink(
            self, "VpcLink", vpc=vpc, subnets=subnets, security_groups=[self.security_group]
        )
        self.domain = custom_domain(self, domain) if domain is not None else None
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="Every route to the service's tasks through the VPC link",
            default_integration=integrations.HttpServiceDiscoveryIntegration(
                "Service",
                service.cloud_map_registration,
                vpc_link=self.vpc_link,
                # The per-address rate limit of /v1/traces reads it (flask_aws_telemetry.browser_traces).
                parameter_mapping=apigwv2.ParameterMapping().overwrite_header(
                    contract.HTTP_API_SOURCE_IP_HEADER, apigwv2.MappingValue.context_variable("identity.sourceIp")
                ),
            ),
            default_domain_mapping=apigwv2.DomainMappingOptions(domain_name=self.domain) if self.domain else None,
            # With a custom domain, the execute-api address would be a second way in without its certificate.
            disable_execute_api_endpoint=domain is not None,
        )
        log_every_request(self.http_api, access_log_group)
        # From the API id (a Ref), not the ApiEndpoint attribute: the same address, and emulators resolve it.
        stack = Stack.of(self)
        default_url = f"https://{self.http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.url = f"https://{domain.domain_name}" if domain is not None else default_url


def log_every_request(http_api: apigwv2.HttpApi, log_group: logs.ILogGroup) -> None:
    """Write a line per request (``ACCESS_LOG_FORMAT``) of ``http_api``'s default stage to ``log_group``."""
    stage = http_api.default_stage.node.default_child if http_api.default_stage else None
    if not isinstance(stage, apigwv2.CfnStage):
        raise ValueError("the HTTP API has no default stage to log")
    stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
        destination_arn=log_group.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))
    )


def custom_domain(scope: Construct, domain: ServiceDomain) -> apigwv2.DomainName:
    """The API's custom domain (TLS 1.2 and up), with its alias record when the domain has its hosted zone."""
    api_domain = apigwv2.DomainName(
        scope,
        "DomainName",
        domain_name=domain.domain_name,
        certificate=domain.certificate,
        security_policy=apigwv2.SecurityPolicy.TLS_1_2,
    )
    if domain.hosted_zone is not None:
        route53.ARecord(
            scope,
            "AliasRecord",
            zone=domain.hosted_zone,
            record_name=domain.domain_name,
            target=route53.RecordTarget.from_alias(
                route53_targets.ApiGatewayv2DomainProperties(
                    api_domain.regional_domain_name, api_domain.regional_hosted_zone_id
                )
            ),
        )
    return api_domain
