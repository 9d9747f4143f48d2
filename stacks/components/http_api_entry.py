"""An API Gateway HTTP API in front of the service: billed by the request, not by the hour.

Requests go through a VPC link to the tasks, which ECS registers in Cloud
Map (SRV records: each task's address and port), each with the caller's
address in ``contract.HTTP_API_SOURCE_IP_HEADER`` (overwritten, so a caller
cannot forge it; X-Forwarded-For is reserved to API Gateway). Every request
is written to an access log group. With a domain, the API also answers HTTPS on it
with the given or issued certificate; without one, on its own HTTPS
``execute-api`` address.
"""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct

from cruddur import contract

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


class HttpApiEntry(Construct):
    """HTTP API, VPC link and its security group, access log group, and optionally a custom domain."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        service: ecs.FargateService,
        container_port: int,
        access_log_group: logs.ILogGroup,
        domain_name: str | None = None,
        certificate: acm.ICertificate | None = None,
        hosted_zone: route53.IHostedZone | None = None,
    ) -> None:
        """Route every request to ``service`` (registered in Cloud Map) on ``container_port``."""
        super().__init__(scope, construct_id)
        if service.cloud_map_service is None:
            raise ValueError("the service must be registered in Cloud Map (cloud_map_options) to sit behind an HTTP API")
        if (domain_name is None) != (certificate is None):
            raise ValueError("domain_name and certificate are given together or not at all")
        self.security_group = ec2.SecurityGroup(
            self, "VpcLinkSecurityGroup", vpc=vpc, description="HTTP API VPC link to the service", allow_all_outbound=False
        )
        service.connections.allow_from(self.security_group, ec2.Port.tcp(container_port), "HTTP API VPC link")
        self.vpc_link = apigwv2.VpcLink(self, "VpcLink", vpc=vpc, subnets=subnets, security_groups=[self.security_group])
        self.domain: apigwv2.DomainName | None = None
        default_domain_mapping = None
        if domain_name is not None and certificate is not None:
            self.domain = apigwv2.DomainName(
                self,
                "DomainName",
                domain_name=domain_name,
                certificate=certificate,
                security_policy=apigwv2.SecurityPolicy.TLS_1_2,
            )
            default_domain_mapping = apigwv2.DomainMappingOptions(domain_name=self.domain)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="Every route to the service's tasks through the VPC link",
            default_integration=integrations.HttpServiceDiscoveryIntegration(
                "Service",
                service.cloud_map_service,
                vpc_link=self.vpc_link,
                # The per-address rate limit of /v1/traces reads it (flask_aws_telemetry.browser_traces).
                parameter_mapping=apigwv2.ParameterMapping().overwrite_header(
                    contract.HTTP_API_SOURCE_IP_HEADER, apigwv2.MappingValue.context_variable("identity.sourceIp")
                ),
            ),
            default_domain_mapping=default_domain_mapping,
            # With a custom domain, the execute-api address would be a second way in without its certificate.
            disable_execute_api_endpoint=domain_name is not None,
        )
        stage = self.http_api.default_stage.node.default_child  # type: ignore[union-attr]
        stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_log_group.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))
        )
        if self.domain is not None and hosted_zone is not None:
            route53.ARecord(
                self,
                "AliasRecord",
                zone=hosted_zone,
                record_name=domain_name,
                target=route53.RecordTarget.from_alias(
                    route53_targets.ApiGatewayv2DomainProperties(
                        self.domain.regional_domain_name, self.domain.regional_hosted_zone_id
                    )
                ),
            )
        # From the API id (a Ref), not the ApiEndpoint attribute: the same address, and emulators resolve it.
        stack = Stack.of(self)
        default_url = f"https://{self.http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.url = f"https://{domain_name}" if domain_name is not None else default_url
