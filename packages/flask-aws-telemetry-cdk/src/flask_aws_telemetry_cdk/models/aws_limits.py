"""What AWS itself allows: fixed value lists and identifier formats the configuration is checked against.

Nothing here is a choice of this project; each value is AWS's (the
resource or API named beside it). The project's own choices (defaults,
ranges it prefers) live in ``config/sections.py``.
"""

from __future__ import annotations

import re

# AWS::Logs::LogGroup RetentionInDays. "Never expire" is deliberately absent: every log group here has a retention.
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Fargate task sizes: CPU units -> the memory values (MiB) allowed with them.
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# AWS::XRay::SamplingRule: priority and rule-name limits.
XRAY_RULE_PRIORITIES = range(1, 9999 + 1)
XRAY_RULE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# The ECS plugin of the aws-xray-sdk (and the ADOT resource detector) report
# this origin; a sampling rule with any other ServiceType can never match the service.
XRAY_SERVICE_TYPES_MATCHING_ECS: tuple[str, ...] = ("*", "AWS::ECS::Container")

# API Gateway HTTP APIs refuse a request payload above 10 MB (the largest span batch dev could pass on).
HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# X-Ray indexes at most 50 annotations of a trace (the X-Ray developer guide, "Annotations").
XRAY_MAX_ANNOTATIONS = 50

# Identifier formats.
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
EVENTBRIDGE_CRON = re.compile(r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")
# A container image as ECS documents it: "repository:tag" or "repository@digest" (ContainerDefinition.Image).
IMAGE_URI = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
IMAGE_BY_DIGEST = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$")
# A tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (the OCI distribution spec).
IMAGE_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ROUTE53_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
