"""Where a construct builds: the one argument every app construct and library props take.

An :class:`AppContext` carries the app's validated settings, the namer of its resource names, the
region and the AWS provider (account) the construct's resources go to, and that account's id. A
stack makes the context of its default provider (:attr:`PlatformStack.context`) and of any other
region or account (:meth:`PlatformStack.context_for`); a construct passes its context on to the
constructs it builds, so that a whole subtree lands in one account and region without each
resource being told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.provider import AwsProvider

from shared_constructs.cdk import Construct, TerraformStack
from shared_constructs.naming import Kind, Namer
from shared_constructs.settings import BaseSettings

S_co = TypeVar("S_co", bound=BaseSettings, covariant=True)


def account_id(scope: Construct, provider: AwsProvider | None = None) -> str:
    """The id of the account ``provider`` deploys into (default: the stack's default provider).

    One caller-identity data source per stack and provider, so constructs of a cross-account stack
    name the account they are really in.
    """
    stack = TerraformStack.of(scope)
    alias = provider.alias if provider is not None else None
    id = f"caller_identity_{alias}" if alias else "caller_identity"
    existing = stack.node.try_find_child(id)
    if not isinstance(existing, DataAwsCallerIdentity):
        existing = DataAwsCallerIdentity(stack, id, provider=provider)
    return existing.account_id


@dataclass(frozen=True, kw_only=True)
class AppContext(Generic[S_co]):
    """Settings, namer, region, provider and account of the constructs built with it.

    ``provider``: the AWS provider of the resources. Default: the stack's default provider.
    ``account_id``: the account's id when configuration names it. Default: looked up at plan time
    through the provider's caller identity (one data source per stack and provider).
    """

    settings: S_co
    namer: Namer
    region: str
    stack: TerraformStack
    provider: AwsProvider | None = None
    account_id: str | None = None

    @property
    def account(self) -> str:
        """The id of the account the provider deploys into (configured, or a token)."""
        if self.account_id is not None:
            return self.account_id
        return account_id(self.stack, self.provider)

    def name(self, kind: Kind, resource: str, *, regional: bool = True) -> str:
        """``{service}-{resource}[-{region code}]-{suffix}``; ``regional=False`` for names that
        exist once per account (a multi-Region trail, its alarms)."""
        return self.namer.name(kind, resource, region=self.region if regional else None)

    def path(self, kind: Kind, *segments: str) -> str:
        """A hierarchical name (log group, parameter, secret): ``/{service}/{suffix}/a/b``."""
        return self.namer.path(kind, *segments)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """The ARN of ``resource`` of ``service`` in this account (and region): for names that are
        known before the resource exists, where a reference would make a cycle."""
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account}:{resource}"
