"""Which resource types cost nothing by themselves, and which of a template's resources are not priced.

A type a pricer prices (its ``TYPES``) or listed here as free is accounted
for; any other is listed in the estimate as "not priced", never dropped.
"""

from __future__ import annotations

from collections.abc import Collection

from cost.templates import Resources

# Types that cost nothing by themselves (their usage is priced elsewhere, or AWS does not charge for them).
FREE_TYPES = {
    "AWS::CDK::Metadata",
    "AWS::CloudFormation::CustomResource",
    "AWS::EC2::FlowLog",  # priced as log ingestion
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::ApiGatewayV2::DomainName",  # regional custom domains cost nothing beyond the requests
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",  # its access log is priced as log ingestion
    "AWS::ApiGatewayV2::VpcLink",  # HTTP API VPC links have no charge
    "AWS::CertificateManager::Certificate",  # public ACM certificates are free
    "AWS::Route53::RecordSet",  # alias queries to AWS resources are free; the zone is the user's
    "AWS::S3::BucketPolicy",
    "Custom::S3AutoDeleteObjects",  # priced as its Lambda invocations
    "AWS::ECS::Cluster",  # Container Insights priced with the services
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::TaskDefinition",  # priced with its service
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Events::Rule",  # scheduled rules are free
    "AWS::IAM::OIDCProvider",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Lambda::Permission",
    "AWS::Logs::QueryDefinition",  # saving a query is free; running it is billed per GB scanned, to whoever runs it
    "AWS::SNS::Subscription",  # e-mail: the first 1,000 a month are free
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SSM::Parameter",  # standard tier
    "AWS::XRay::Group",
    "AWS::XRay::SamplingRule",  # the traces it lets through are priced
    "Custom::SecretsPreflight",  # priced as its Lambda invocations
}


def unknown_resources(resources: Resources, priced_types: Collection[str]) -> list[str]:
    """Each resource whose type is neither in ``priced_types`` nor free, as "Type (logical id)", by logical id."""
    return [
        f"{resource['Type']} ({logical_id})"
        for logical_id, resource in resources.sorted_items()
        if resource["Type"] not in FREE_TYPES and resource["Type"] not in priced_types
    ]
