"""moto_server, with three CloudFormation fixes, for the emulator deploy cycle.

Everything else is moto as released. The fixes fill gaps that stop our
templates from deploying at all; each does what AWS documents:

* ``AWS::SSM::Parameter.Tags`` is a JSON map (``{"project": "cruddur"}``);
  moto 5.2 passes it on as the SSM API's list of ``{"Key", "Value"}`` and fails.
* ``Fn::GetAtt LoadBalancer.LoadBalancerFullName`` (``app/<name>/<id>``, the
  part of the ARN after ``loadbalancer/``) is not implemented.
* ``Fn::GetAtt TargetGroup.TargetGroupFullName`` (``targetgroup/<name>/<id>``)
  is not implemented; the CloudWatch metrics of both need them.

    python tests/emulator/moto_server.py -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import sys
from typing import Any

from moto.elbv2 import models as elbv2_models
from moto.server import main
from moto.ssm import models as ssm_models

_original_create = ssm_models.Parameter.create_from_cloudformation_json.__func__


def _create_with_map_tags(cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any):
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

if __name__ == "__main__":
    main(sys.argv[1:])
