"""The base stack of every app: backend, AWS providers with the tag policy, and a namer."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags

from shared_constructs.cdk import Construct, TerraformOutput, TerraformStack
from shared_constructs.naming import Namer
from shared_constructs.regions import short_region
from shared_constructs.settings import BaseSettings
from shared_constructs.state import configure_backend
from shared_constructs.tagging import required_tags


class PlatformStack(TerraformStack):
    """A stack of ``package`` in ``region`` with its backend, default provider and namer.

    ``service`` is the first part of every resource name (default: ``package``).
    ``assume_role_arn``: the default provider assumes this role (cross-account). Default: the
    caller's credentials.
    """

    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        settings: BaseSettings,
        package: str,
        region: str,
        service: str | None = None,
        assume_role_arn: str | None = None,
        external_id: str | None = None,
    ) -> None:
        super().__init__(scope, stack_name)
        self.settings = settings
        self.package = package
        self.region = region
        self.stack_name = stack_name
        self.namer = Namer(service or package, settings.environment_suffix)
        configure_backend(self, settings, package, stack_name)
        self.provider = self._make_provider("aws", region, None, assume_role_arn, external_id)
        self._providers: dict[str, AwsProvider] = {}

    def _make_provider(
        self, id: str, region: str, alias: str | None, role_arn: str | None, external_id: str | None
    ) -> AwsProvider:
        return AwsProvider(
            self,
            id,
            region=region,
            alias=alias,
            assume_role=[AwsProviderAssumeRole(role_arn=role_arn, external_id=external_id)] if role_arn else None,
            default_tags=[AwsProviderDefaultTags(tags=required_tags(self.settings, self.package, region))],
        )

    def provider_for(
        self, region: str, *, account: str = "", assume_role_arn: str | None = None, external_id: str | None = None
    ) -> AwsProvider:
        """An aliased provider for ``region`` (and, with ``assume_role_arn``, another account).

        Providers are created once per (region, account) and reused.
        """
        alias = f"{short_region(region)}{account}"
        if alias not in self._providers:
            self._providers[alias] = self._make_provider(f"aws_{alias}", region, alias, assume_role_arn, external_id)
        return self._providers[alias]

    def output(self, name: str, value: object, *, description: str, sensitive: bool = False) -> TerraformOutput:
        """A published output; its name is the key in ``cfn-outputs/flat-outputs.json``."""
        return TerraformOutput(self, name, value=value, description=description, sensitive=sensitive)
