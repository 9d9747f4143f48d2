"""The service's HTTPS name: its certificate (given, or issued and DNS-validated) and its hosted zone."""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct


class ServiceDomain(Construct):
    """``certificate`` for ``domain_name``; ``hosted_zone`` when the stack manages its records."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        certificate_arn: str | None = None,
        hosted_zone_id: str | None = None,
        hosted_zone_name: str | None = None,
    ) -> None:
        """Import ``certificate_arn``, or issue a certificate validated through records in the hosted zone."""
        super().__init__(scope, construct_id)
        self.domain_name = domain_name
        self.hosted_zone: route53.IHostedZone | None = None
        if hosted_zone_id is not None and hosted_zone_name is not None:
            # By id and name: no look-up, so synth needs no AWS account.
            self.hosted_zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "HostedZone", hosted_zone_id=hosted_zone_id, zone_name=hosted_zone_name
            )
        if certificate_arn is not None:
            self.certificate: acm.ICertificate = acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
        elif self.hosted_zone is not None:
            self.certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=domain_name,
                validation=acm.CertificateValidation.from_dns(self.hosted_zone),
            )
        else:
            raise ValueError(f"'{domain_name}': give a certificate ARN, or the hosted zone to issue one in")
