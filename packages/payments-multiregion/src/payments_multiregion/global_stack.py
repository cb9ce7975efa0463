"""The global stack: the DynamoDB global table with a customer-managed key per replica, the hosted
zone (when configuration does not name one) and the dashboard over every region.

Deployed first: the regional stacks read the table's stream in their region and find the zone.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableReplica,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.dynamodb_tag import DynamodbTag
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from shared_constructs.cdk import Construct
from shared_constructs.kms import ENCRYPT_DECRYPT, Key, KeyProps
from shared_constructs.lifecycle import protect
from shared_constructs.naming import Kind
from shared_constructs.regions import short_region
from shared_constructs.stack import PlatformStack
from shared_constructs.tagging import required_tags

from payments_multiregion.dashboard import dashboard_body
from payments_multiregion.names import PACKAGE, SERVICE, TABLE_HASH_KEY, TABLE_KEY, Names
from payments_multiregion.settings import Settings


class GlobalStack(PlatformStack[Settings]):
    """``payments-global`` in the primary region."""

    def __init__(self, scope: Construct, settings: Settings) -> None:
        primary = settings.primary_region
        super().__init__(scope, "payments-global", settings=settings, package=PACKAGE, region=primary, service=SERVICE)
        self.names = Names(self.context)
        replicas = list(settings.secondary_regions)
        self.table_keys = {region: self._table_key(settings, region) for region in [primary, *replicas]}
        self.table = self._table(settings, replicas)
        self._tag_replicas(settings, replicas)
        self.zone_id = self._zone(settings)
        body = dashboard_body(settings, self.names)
        dashboard_name = self.context.name(Kind.DASHBOARD, "operations", regional=False)
        CloudwatchDashboard(self, "dashboard", dashboard_name=dashboard_name, dashboard_body=body)
        self.output("table_name", self.table.name, description="Name of the payments global table")
        self.output("table_arn", self.table.arn, description="ARN of the table in the primary region")
        self.output(
            "table_replica_regions",
            ",".join([primary, *replicas]),
            description="Regions holding a replica of the table (comma-separated)",
        )
        self.output("dashboard_name", dashboard_name, description="CloudWatch dashboard over every region")
        self.output(
            "dashboard_url",
            f"https://{primary}.console.aws.amazon.com/cloudwatch/home?region={primary}"
            f"#dashboards:name={dashboard_name}",
            description="Console URL of the dashboard",
        )
        self.output("api_domain_name", settings.dns.api_name, description="Latency-routed name of the payments API")
        self.output("hosted_zone_id", self.zone_id, description="Hosted zone holding the API records")

    def _table_key(self, settings: Settings, region: str) -> Key:
        """The replica's own key in ``region``; DynamoDB (and its replication) may use it."""
        key = Key(
            self,
            f"table_key_{short_region(region)}",
            KeyProps(
                context=self.context_for(region),
                name=TABLE_KEY,
                description=f"Payments table replica key in {region}",
            ),
        )
        key.grant_service("DynamoDbReplication", "dynamodb.amazonaws.com", (*ENCRYPT_DECRYPT, "kms:CreateGrant"))
        return key

    def _table(self, settings: Settings, replicas: list[str]) -> DynamodbTable:
        primary_key = self.table_keys[settings.primary_region]
        table = DynamodbTable(
            self,
            "table",
            name=self.names.table,
            billing_mode="PAY_PER_REQUEST",
            hash_key=TABLE_HASH_KEY,
            attribute=[DynamodbTableAttribute(name=TABLE_HASH_KEY, type="S")],
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=primary_key.key_arn),
            deletion_protection_enabled=settings.protect_stateful,
            replica=[
                DynamodbTableReplica(
                    region_name=region, kms_key_arn=self.table_keys[region].key_arn, point_in_time_recovery=True
                )
                for region in replicas
            ]
            or None,
        )
        protect(table, settings)
        return table

    def _tag_replicas(self, settings: Settings, replicas: list[str]) -> None:
        """Replicas carry their own region's tags (``propagate_tags`` would copy the primary's Region)."""
        for region in replicas:
            provider = self.provider_for(region)
            for key, value in required_tags(settings, PACKAGE, region).items():
                DynamodbTag(
                    self,
                    f"replica_tag_{short_region(region)}_{key}",
                    resource_arn=self.names.table_arn(region),
                    key=key,
                    value=value,
                    provider=provider,
                    depends_on=[self.table],
                )

    def _zone(self, settings: Settings) -> str:
        if settings.dns.hosted_zone_id:
            return settings.dns.hosted_zone_id
        zone = Route53Zone(
            self,
            "zone",
            name=settings.dns.domain,
            force_destroy=not settings.protect_stateful,
            comment="Payments API (created because dns.hosted_zone_id is not set)",
        )
        protect(zone, settings)
        return zone.zone_id
