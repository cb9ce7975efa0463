"""The base stack of every app: backend, AWS providers with the tag policy, a namer and contexts."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags

from shared_constructs.cdk import Construct, TerraformOutput, TerraformStack
from shared_constructs.context import AppContext
from shared_constructs.contracts import Output, StackContract
from shared_constructs.naming import Namer
from shared_constructs.regions import short_region
from shared_constructs.settings import ACCOUNT_PATTERN, BaseSettings
from shared_constructs.state import configure_backend
from shared_constructs.tagging import required_tags

S = TypeVar("S", bound=BaseSettings)

TERRAFORM_VERSION = ">= 1.10, < 2.0"
"""The Terraform versions every stack accepts: 1.10 brought the S3 backend's native state locking
(``use_lockfile``, which the backend sets), and a new major version may change the language."""


class PlatformStack(TerraformStack, Generic[S]):
    """A stack of ``package`` in ``region`` with its backend, default provider, namer and context.

    Generic over the app's settings type: ``PlatformStack[Settings]`` gives ``self.settings`` and
    ``self.context.settings`` that type.
    ``service``: the first part of every resource name. Default: ``package``.
    ``assume_role_arn`` / ``external_id``: the default provider assumes this role (cross-account).
    Default: the caller's credentials. ``account_id``: the default provider's account, which
    its ``allowed_account_ids`` holds and the context names. Default: ``settings.account_id`` for
    the provider, and the context looks the account up (caller identity), as before accounts were
    configured, so that references keep their form.
    ``publishes``: the contract of what this stack publishes (:mod:`shared_constructs.contracts`).
    Default: nothing for other packages; :meth:`publish` then refuses.
    """

    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        settings: S,
        package: str,
        region: str,
        service: str | None = None,
        assume_role_arn: str | None = None,
        external_id: str | None = None,
        account_id: str | None = None,
        publishes: StackContract | None = None,
    ) -> None:
        super().__init__(scope, stack_name)
        if publishes is not None and (publishes.stack, publishes.package) != (stack_name, package):
            raise ValueError(
                f"stack {stack_name!r} of {package!r} cannot publish the contract of {publishes.package!r} "
                f"stack {publishes.stack!r}"
            )
        self.settings: S = settings
        self.package = package
        self.region = region
        self.stack_name = stack_name
        self.publishes = publishes
        self.account_id: str = account_id or settings.account_id
        """The account of the default provider (its ``allowed_account_ids``)."""
        self.namer = Namer(service or package, settings.environment_suffix)
        configure_backend(self, settings, package, stack_name)
        # Pinned here so that an older Terraform refuses the stack at init instead of ignoring use_lockfile.
        self.add_override("terraform.required_version", TERRAFORM_VERSION)
        self.provider = self._make_provider("aws", region, None, assume_role_arn, external_id, self.account_id)
        self._providers: dict[str, AwsProvider] = {}
        self.context: AppContext[S] = AppContext(
            settings=settings, namer=self.namer, region=region, stack=self, account_id=account_id
        )
        """The context of the default provider: what the stack's constructs build with."""

    def _make_provider(
        self,
        id: str,
        region: str,
        alias: str | None,
        role_arn: str | None,
        external_id: str | None,
        account_id: str,
    ) -> AwsProvider:
        """A provider for ``account_id`` in ``region``: Terraform refuses to plan with credentials of
        any other account (``allowed_account_ids``)."""
        if not ACCOUNT_PATTERN.fullmatch(account_id):
            raise ValueError(f"provider {id!r}: expected a 12-digit AWS account id, got {account_id!r}")
        return AwsProvider(
            self,
            id,
            region=region,
            alias=alias,
            allowed_account_ids=[account_id],
            assume_role=[AwsProviderAssumeRole(role_arn=role_arn, external_id=external_id)] if role_arn else None,
            default_tags=[AwsProviderDefaultTags(tags=required_tags(self.settings, self.package, region))],
        )

    def provider_for(
        self,
        region: str,
        *,
        account: str = "",
        assume_role_arn: str | None = None,
        external_id: str | None = None,
        account_id: str | None = None,
    ) -> AwsProvider:
        """An aliased provider for ``region`` (and, with ``assume_role_arn``, another account).

        ``account``: a label of the other account in the provider's alias (``use2analytics``).
        ``account_id``: the account the provider may act in (``allowed_account_ids``). Default: the
        account of ``assume_role_arn`` (a role ARN names its account), else the stack's.
        Providers are created once per (region, account) and reused.
        """
        alias = f"{short_region(region)}{account}"
        if alias not in self._providers:
            allowed = account_id or (assume_role_arn.split(":")[4] if assume_role_arn else self.account_id)
            self._providers[alias] = self._make_provider(
                f"aws_{alias}", region, alias, assume_role_arn, external_id, allowed
            )
        return self._providers[alias]

    def context_for(
        self,
        region: str,
        *,
        account: str = "",
        assume_role_arn: str | None = None,
        external_id: str | None = None,
        account_id: str | None = None,
    ) -> AppContext[S]:
        """The context of ``region`` (and, with ``assume_role_arn``, another account): its provider
        from :meth:`provider_for`. The stack's own region and account give :attr:`context`."""
        if region == self.region and not account and assume_role_arn is None:
            return self.context
        provider = self.provider_for(
            region, account=account, assume_role_arn=assume_role_arn, external_id=external_id, account_id=account_id
        )
        return AppContext(
            settings=self.settings,
            namer=self.namer,
            region=region,
            stack=self,
            provider=provider,
            # Another region of the same account: the account is the default provider's.
            account_id=account_id if account or assume_role_arn else self.context.account,
        )

    def output(self, name: str, value: object, *, description: str, sensitive: bool = False) -> TerraformOutput:
        """An output of this stack; its name is the key in ``cfn-outputs/flat-outputs.json``."""
        return TerraformOutput(self, name, value=value, description=description, sensitive=sensitive)

    def publish(self, output: Output[Any], value: object) -> TerraformOutput:
        """An output other packages read, as declared by this stack's contract (``publishes``)."""
        if self.publishes is None:
            raise ValueError(f"stack {self.stack_name!r} publishes no contract; give publishes= to publish")
        self.publishes.check(output)
        return self.output(output.name, value, description=output.description)
