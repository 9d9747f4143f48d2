"""References to the SecureString parameters that hold the Honeycomb and Rollbar secrets.

CloudFormation cannot create SecureString parameters, and a value in a
template would be a leak, so the parameters are created out of band by
``make secrets ENV=<env>`` (``scripts/put_secrets.py``) and referenced here by
name. ECS resolves them when a task starts; the execution role may call
``ssm:GetParameters`` on exactly these ARNs and nothing else.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct


class SsmParameterSecret(ecs.Secret):
    """An ECS container secret from an SSM parameter, granting only ``ssm:GetParameters``.

    ``ecs.Secret.from_ssm_parameter`` grants DescribeParameters,
    GetParameter, GetParameterHistory and GetParameters; ECS needs only the
    last to inject the value at task start.
    """

    def __init__(self, parameter: ssm.IParameter) -> None:
        """Inject ``parameter``'s value."""
        super().__init__()
        self.parameter_name = parameter.parameter_name
        self._arn = parameter.parameter_arn

    @classmethod
    def named(cls, scope: Construct, construct_id: str, parameter_name: str) -> SsmParameterSecret:
        """The parameter ``parameter_name`` (absolute, starting with '/') of ``scope``'s account and region."""
        return cls(ssm.StringParameter.from_string_parameter_name(scope, construct_id, parameter_name))

    @property
    def arn(self) -> str:
        """The parameter's ARN, which ECS uses as valueFrom."""
        return self._arn

    @property
    def has_field(self) -> bool | None:
        """SSM parameters have no JSON fields."""
        return None

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (the execution role) read this one parameter."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["ssm:GetParameters"], resource_arns=[self._arn])


class TelemetrySecrets(Construct):
    """The Honeycomb API key and, when the app reports to Rollbar, the Rollbar access token, by parameter name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        honeycomb_api_key_parameter: str,
        rollbar_access_token_parameter: str | None = None,
    ) -> None:
        """Reference the SecureString parameters by their names (absolute, as ``make secrets`` writes them).

        ``rollbar_access_token_parameter`` None (the default): Rollbar is off, and no token is referenced.
        """
        super().__init__(scope, construct_id)
        self.honeycomb_api_key = SsmParameterSecret.named(self, "HoneycombApiKey", honeycomb_api_key_parameter)
        self.rollbar_access_token = (
            SsmParameterSecret.named(self, "RollbarAccessToken", rollbar_access_token_parameter)
            if rollbar_access_token_parameter is not None
            else None
        )
