"""moto_server, with four CloudFormation fixes: the program ``aws.MotoServer`` runs.

Everything else is moto as released. The fixes fill gaps that stop our
templates from deploying at all; each does what AWS documents:

* ``AWS::SSM::Parameter.Tags`` is a JSON map (``{"project": "cruddur"}``);
  moto 5.2 passes it on as the SSM API's list of ``{"Key", "Value"}`` and fails.
* ``Fn::GetAtt LoadBalancer.LoadBalancerFullName`` (``app/<name>/<id>``, the
  part of the ARN after ``loadbalancer/``) is not implemented.
* ``Fn::GetAtt TargetGroup.TargetGroupFullName`` (``targetgroup/<name>/<id>``)
  is not implemented; the CloudWatch metrics of both need them.
* ``AWS::ServiceDiscovery::PrivateDnsNamespace`` and ``AWS::ServiceDiscovery::Service``
  have no CloudFormation model, although moto's Cloud Map API has both; dev's
  ECS service and HTTP API integration read the service's ``Arn``. The two
  models below create and delete them through that API.

    python -m testsupport.standins.moto_server -H 127.0.0.1 -p PORT

It runs in a process of its own: importing it patches moto, which the
tests also use in-process (``mock_aws``) unpatched.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.elbv2 import models as elbv2_models
from moto.server import main
from moto.servicediscovery.models import servicediscovery_backends
from moto.ssm import models as ssm_models

_original_create = ssm_models.Parameter.create_from_cloudformation_json.__func__


def _create_with_map_tags(
    cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
):
    properties = cloudformation_json.get("Properties", {})
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        properties = {**properties, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        cloudformation_json = {**cloudformation_json, "Properties": properties}
    return _original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


ssm_models.Parameter.create_from_cloudformation_json = classmethod(_create_with_map_tags)

_original_load_balancer_attribute = elbv2_models.FakeLoadBalancer.get_cfn_attribute
_original_target_group_attribute = elbv2_models.FakeTargetGroup.__dict__.get("get_cfn_attribute")


def _load_balancer_attribute(self, attribute_name: str) -> Any:
    if attribute_name == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/", 1)[1]
    return _original_load_balancer_attribute(self, attribute_name)


def _target_group_attribute(self, attribute_name: str) -> Any:
    if attribute_name == "TargetGroupFullName":
        return self.arn.split(":", 5)[5]
    if attribute_name == "TargetGroupName":
        return self.name
    if _original_target_group_attribute is not None:
        return _original_target_group_attribute(self, attribute_name)
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


elbv2_models.FakeLoadBalancer.get_cfn_attribute = _load_balancer_attribute
elbv2_models.FakeTargetGroup.get_cfn_attribute = _target_group_attribute


class _CloudMapNamespace(CloudFormationModel):
    """AWS::ServiceDiscovery::PrivateDnsNamespace through moto's Cloud Map backend (Ref: id; Id, Arn)."""

    __module__ = "moto.servicediscovery.cloudformation"  # moto's model metaclass reads the service from it

    def __init__(self, namespace: Any) -> None:
        self.namespace = namespace

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceDiscovery::PrivateDnsNamespace"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id", "Arn", "HostedZoneId")

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = servicediscovery_backends[account_id][region_name]
        backend.create_private_dns_namespace(
            name=properties["Name"], creator_request_id=resource_name, description=properties.get("Description", ""),
            vpc=properties["Vpc"], tags=[], properties=properties.get("Properties", {}),
        )  # fmt: skip
        (namespace,) = [n for n in backend.namespaces.values() if n.name == properties["Name"]]
        return cls(namespace)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = servicediscovery_backends[account_id][region_name]
        for namespace in [
            n for n in backend.namespaces.values() if n.name == cloudformation_json["Properties"]["Name"]
        ]:
            backend.delete_namespace(namespace.id)

    @property
    def physical_resource_id(self) -> str:
        return self.namespace.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"Id": self.namespace.id, "Arn": self.namespace.arn, "HostedZoneId": "Z" + self.namespace.id[3:]}[
            attribute_name
        ]

    def delete(self, account_id: str, region_name: str) -> None:
        servicediscovery_backends[account_id][region_name].delete_namespace(self.namespace.id)


class _CloudMapService(CloudFormationModel):
    """AWS::ServiceDiscovery::Service through moto's Cloud Map backend (Ref: id; Id, Arn, Name)."""

    __module__ = "moto.servicediscovery.cloudformation"

    def __init__(self, service: Any) -> None:
        self.service = service

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceDiscovery::Service"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id", "Arn", "Name")

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        service = servicediscovery_backends[account_id][region_name].create_service(
            name=properties.get("Name", resource_name), namespace_id=properties.get("NamespaceId"),
            creator_request_id=resource_name, description=properties.get("Description", ""),
            dns_config=properties.get("DnsConfig"), health_check_config=properties.get("HealthCheckConfig"),
            health_check_custom_config=properties.get("HealthCheckCustomConfig"), tags=[], service_type="DNS_HTTP",
        )  # fmt: skip
        return cls(service)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = servicediscovery_backends[account_id][region_name]
        for service in [s for s in backend.services.values() if s.creator_request_id == resource_name]:
            backend.delete_service(service.id)

    @property
    def physical_resource_id(self) -> str:
        return self.service.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"Id": self.service.id, "Arn": self.service.arn, "Name": self.service.name}[attribute_name]

    def delete(self, account_id: str, region_name: str) -> None:
        servicediscovery_backends[account_id][region_name].delete_service(self.service.id)


if __name__ == "__main__":
    main(sys.argv[1:])
