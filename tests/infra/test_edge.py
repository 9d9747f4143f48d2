"""The entry point of each environment: HTTPS with a domain, the prod warning without one, access logs, dev's HTTP
API.
"""

from __future__ import annotations

import json

from cruddur import contract
from flask_aws_telemetry_cdk.config import EntryPoint
from testsupport import templates


def _outputs(env) -> dict:
    return {key: value["Value"] for key, value in env.templates["service"].get("Outputs", {}).items()}


def test_each_environment_has_its_entry_point(any_env):
    """dev: an HTTP API and no load balancer; staging and prod: a load balancer and no HTTP API."""
    balancers = any_env.resources("service", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    apis = any_env.resources("service", "AWS::ApiGatewayV2::Api")
    if any_env.config.name == "dev":
        assert any_env.config.edge.entry_point is EntryPoint.HTTP_API
        assert (len(apis), len(balancers)) == (1, 0)
    else:
        assert (len(apis), len(balancers)) == (0, 1)


def test_without_a_domain_the_load_balancer_serves_http_on_80(any_env):
    """As before: one HTTP listener on 80, and the service URL says http://; dev's HTTP API is its https:// address."""
    listeners = list(any_env.resources("service", "AWS::ElasticLoadBalancingV2::Listener").values())
    url = templates.joined(_outputs(any_env)["ServiceUrl"])
    if any_env.config.edge.entry_point is EntryPoint.LOAD_BALANCER:
        assert [(lsn["Properties"]["Port"], lsn["Properties"]["Protocol"]) for lsn in listeners] == [(80, "HTTP")]
        assert url == f"http://{templates.TOKEN}"  # the load balancer's DNS name
    else:
        assert listeners == []
        assert url == f"https://{templates.TOKEN}.execute-api.{templates.TOKEN}.{templates.TOKEN}"


def test_prod_without_tls_warns_how_to_add_it(prod, dev, synthesized_environments):
    """prod without a domain: one warning naming the fields to set; none in dev, none in prod with a domain."""
    (warning,) = [w for w in templates.warnings(prod) if "plain HTTP" in w]
    assert "environment 'prod'" in warning
    assert "domain_name" in warning and "hosted_zone_id" in warning and "tls_certificate_arn" in warning
    assert not [w for w in templates.warnings(dev) if "plain HTTP" in w]
    assert not [w for w in templates.warnings(synthesized_environments("prod-tls")) if "plain HTTP" in w]


def test_with_a_domain_the_load_balancer_serves_tls_and_redirects_80(with_tls):
    """HTTPS on 443 with a TLS 1.3/1.2 policy and the certificate; 80 answers 301 to 443; the alias record and URL."""
    config = with_tls.config
    if config.edge.entry_point is not EntryPoint.LOAD_BALANCER:
        assert (
            with_tls.resources("service", "AWS::ElasticLoadBalancingV2::Listener") == {}
        )  # see the HTTP API's test below
        return
    listeners = {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in with_tls.resources("service", "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (certificate,) = https["Certificates"]
    if config.edge.tls_certificate_arn is not None:
        assert certificate["CertificateArn"] == config.edge.tls_certificate_arn
        assert with_tls.resources("service", "AWS::CertificateManager::Certificate") == {}
    else:
        ((issued_id, issued),) = with_tls.resources("service", "AWS::CertificateManager::Certificate").items()
        assert certificate["CertificateArn"] == {"Ref": issued_id}
        assert issued["Properties"]["ValidationMethod"] == "DNS"
        assert issued["Properties"]["DomainValidationOptions"] == [
            {"DomainName": config.edge.domain_name, "HostedZoneId": config.edge.hosted_zone_id}
        ]
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["RedirectConfig"] == {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}
    (record,) = with_tls.resources("service", "AWS::Route53::RecordSet").values()
    assert record["Properties"]["Name"] == f"{config.edge.domain_name}." and record["Properties"]["Type"] == "A"
    assert _outputs(with_tls)["ServiceUrl"] == f"https://{config.edge.domain_name}"


def test_with_a_domain_the_http_api_serves_it_alone(synthesized_environments):
    """dev with a domain: a TLS 1.2 custom domain, its alias record, the execute-api address turned off."""
    env = synthesized_environments("dev-tls")
    ((domain_id, domain),) = env.resources("service", "AWS::ApiGatewayV2::DomainName").items()
    assert domain["Properties"]["DomainName"] == env.config.edge.domain_name
    (configuration,) = domain["Properties"]["DomainNameConfigurations"]
    assert configuration["SecurityPolicy"] == "TLS_1_2"
    (api,) = env.resources("service", "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["DisableExecuteApiEndpoint"] is True
    (record,) = env.resources("service", "AWS::Route53::RecordSet").values()
    assert record["Properties"]["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert _outputs(env)["ServiceUrl"] == f"https://{env.config.edge.domain_name}"


def test_the_canary_calls_the_service_url(with_tls):
    """Where the canary runs, it calls the HTTPS address; where it does not (dev), no function calls the service."""
    called = [
        function["Properties"]["Environment"]["Variables"]["SERVICE_URL"]
        for function in with_tls.resources("service", "AWS::Lambda::Function").values()
        if "SERVICE_URL" in function["Properties"].get("Environment", {}).get("Variables", {})
    ]
    expected = [f"https://{with_tls.config.edge.domain_name}"] if with_tls.config.canary is not None else []
    assert called == expected


def test_dev_reaches_its_tasks_through_a_vpc_link_to_cloud_map(dev):
    """HTTP API -> VPC link -> Cloud Map SRV records ECS keeps for the app container's port; only the link may
    connect.
    """
    (integration,) = dev.resources("service", "AWS::ApiGatewayV2::Integration").values()
    properties = integration["Properties"]
    assert properties["ConnectionType"] == "VPC_LINK" and properties["IntegrationType"] == "HTTP_PROXY"
    ((service_id, discovery),) = dev.resources("service", "AWS::ServiceDiscovery::Service").items()
    assert properties["IntegrationUri"] == {"Fn::GetAtt": [service_id, "Arn"]}
    assert [r["Type"] for r in discovery["Properties"]["DnsConfig"]["DnsRecords"]] == ["SRV"]
    (registry,) = templates.ecs_service(dev)["Properties"]["ServiceRegistries"]
    assert (
        registry["ContainerName"] == contract.APP_CONTAINER_NAME
        and registry["ContainerPort"] == contract.CONTAINER_PORT
    )
    link_groups = [lid for lid in dev.resources("service", "AWS::EC2::SecurityGroup") if "VpcLink" in lid]
    ingress = [
        r["Properties"] for r in dev.resources("service", "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId", {}).get("Fn::GetAtt", [None])[0] in link_groups
    ]  # fmt: skip
    assert [(i["FromPort"], i["ToPort"]) for i in ingress] == [(contract.CONTAINER_PORT, contract.CONTAINER_PORT)]


def test_dev_logs_every_api_request_to_a_group_with_retention(dev):
    """The HTTP API's access log is dev's record of requests the service never saw."""
    (stage,) = dev.resources("service", "AWS::ApiGatewayV2::Stage").values()
    group_id = stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    group = dev.resources("service", "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] == dev.config.logs.retention_days
    assert {"status", "integrationError", "requestId"} <= set(
        json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    )


def _access_log_bucket(env) -> tuple[str, dict]:
    (balancer,) = env.resources("service", "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    bucket_id = attributes["access_logs.s3.bucket"]["Ref"]
    return bucket_id, env.resources("service", "AWS::S3::Bucket")[bucket_id]


def test_prod_access_logs_go_to_a_private_tls_only_expiring_bucket(prod):
    """Blocked public access, SSE-S3, TLS required, expiry after the retention, kept on destroy in prod."""
    bucket_id, bucket = _access_log_bucket(prod)
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True
    }  # fmt: skip
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == prod.config.logs.retention_days
    assert bucket["DeletionPolicy"] == "Retain"
    (policy,) = [
        p
        for p in prod.resources("service", "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny_plain = [
        s for s in statements if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert deny_plain
    (delivery,) = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert "Fn::FindInMap" in json.dumps(delivery["Principal"])  # the region's load balancer account
    assert not prod.resources("service", "Custom::S3AutoDeleteObjects")


def test_access_logs_are_emptied_and_removed_where_the_environment_is_destroyed(staging_tls):
    """staging with access logs: DESTROY plus CDK's auto-delete custom resource, so cdk destroy needs no manual step."""
    _, bucket = _access_log_bucket(staging_tls)
    assert bucket["DeletionPolicy"] == "Delete"
    assert len(staging_tls.resources("service", "Custom::S3AutoDeleteObjects")) == 1
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == staging_tls.config.logs.retention_days


def test_staging_has_no_access_logs_by_default(synthesized_environments):
    """Access logs are prod's (and on request elsewhere)."""
    staging = synthesized_environments("staging")
    assert staging.resources("service", "AWS::S3::Bucket") == {}
