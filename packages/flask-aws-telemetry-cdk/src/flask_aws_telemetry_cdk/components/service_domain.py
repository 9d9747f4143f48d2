"""The service's HTTPS name: the domain name, the certificate served for it, and the zone its record goes in."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct


@dataclass(frozen=True)
class ServiceDomain:
    """``certificate`` served for ``domain_name``; ``hosted_zone`` (default None) if the stack writes its alias record.

    Either entry point takes one: the load balancer (``load_balanced_service.py``)
    or the HTTP API (``http_api_entry.py``).
    """

    domain_name: str
    certificate: acm.ICertificate
    hosted_zone: route53.IHostedZone | None = None

    @classmethod
    def issued_in(
        cls, scope: Construct, construct_id: str, *, domain_name: str, hosted_zone: route53.IHostedZone
    ) -> ServiceDomain:
        """A certificate for ``domain_name`` issued by ACM and validated through records in ``hosted_zone``."""
        certificate = acm.Certificate(
            scope, construct_id, domain_name=domain_name, validation=acm.CertificateValidation.from_dns(hosted_zone)
        )
        return cls(domain_name=domain_name, certificate=certificate, hosted_zone=hosted_zone)
