"""CloudWatch log groups encrypted with a customer-managed key and a retention period."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

from shared_constructs.cdk import Construct
from shared_constructs.context import AppContext
from shared_constructs.kms import ENCRYPT_DECRYPT, Key
from shared_constructs.lifecycle import protect
from shared_constructs.settings import BaseSettings

_LOG_NAME = re.compile(r"^[\w/.#-]{1,512}$")


@dataclass(frozen=True, kw_only=True)
class LogGroupProps:
    """Props of :class:`EncryptedLogGroup`.

    ``name``: the full log group name (build it with ``Namer.path`` or AWS's fixed pattern such as
    ``/aws/lambda/<function>``).
    ``key``: the customer-managed key; the construct adds the CloudWatch Logs grant, limited to
    this log group through the ``aws:logs:arn`` encryption context, to the key's policy.
    ``retention_days``: Default: ``settings.log_retention_days``.
    """

    context: AppContext[BaseSettings]
    name: str
    key: Key
    retention_days: int | None = None


class EncryptedLogGroup(Construct):
    """A KMS-encrypted CloudWatch log group with retention."""

    def __init__(self, scope: Construct, id: str, props: LogGroupProps) -> None:
        super().__init__(scope, id)
        if not _LOG_NAME.fullmatch(props.name):
            raise ValueError(f"log group name {props.name!r} is not valid (1-512 of [A-Za-z0-9_/.#-])")
        ctx = props.context
        arn = ctx.arn("logs", f"log-group:{props.name}")
        sid = "Logs" + re.sub(r"[^A-Za-z0-9]", "", self.node.path.title())[-60:]
        props.key.grant_service(
            sid,
            f"logs.{ctx.region}.amazonaws.com",
            ENCRYPT_DECRYPT,
            source_account=False,
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}},
        )
        self.log_group = CloudwatchLogGroup(
            self,
            "group",
            name=props.name,
            kms_key_id=props.key.key_arn,
            retention_in_days=props.retention_days or ctx.settings.log_retention_days,
            provider=ctx.provider,
        )
        protect(self.log_group, ctx.settings)
        self.log_group_name = props.name
        self.log_group_arn = self.log_group.arn
