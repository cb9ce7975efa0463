"""AWS Config managed rules: an app lists the rules it wants as data, and builds each one the same way.

The rules evaluate against the account's configuration recorder, which belongs to
security-baseline (docs/decisions/0002-account-singletons.md): a package that adds rules needs that
recorder running in its account and region. :class:`ConfigRule` is the Terraform resource itself,
built from a :class:`ManagedRule`, so an app that adopts it keeps each rule's address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.config_config_rule import (
    ConfigConfigRule,
    ConfigConfigRuleScope,
    ConfigConfigRuleSource,
)

from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind
from shared_constructs.settings import BaseSettings


@dataclass(frozen=True, kw_only=True)
class ManagedRule:
    """One AWS managed Config rule.

    ``name``: resource part of the rule's name (and its construct id, with ``_`` for ``-``).
    ``identifier``: AWS's identifier (``VPC_FLOW_LOGS_ENABLED``). ``description``: what it checks.
    ``parameters``: the rule's input parameters, written in the order given. Default: none.
    ``resource_types`` / ``resource_id``: evaluate only these types, or this one resource.
    Default: every resource the rule applies to.
    """

    name: str
    identifier: str
    description: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    resource_types: Sequence[str] = ()
    resource_id: str | None = None

    @property
    def construct_id(self) -> str:
        """The construct id an app gives the rule's resource."""
        return self.name.replace("-", "_")


@dataclass(frozen=True, kw_only=True)
class ConfigRuleProps:
    """Props of :class:`ConfigRule`.

    ``depends_on``: what must exist before the rule (a recorder this stack starts). Default: none
    (the recorder records already).
    """

    context: AppContext[BaseSettings]
    rule: ManagedRule
    depends_on: Sequence[ITerraformDependable] = ()


class ConfigRule(ConfigConfigRule):
    """An AWS managed Config rule named ``<service>-<name>-<region>-<suffix>``."""

    def __init__(self, scope: Construct, id: str, props: ConfigRuleProps) -> None:
        rule, ctx = props.rule, props.context
        scoped = bool(rule.resource_types) or rule.resource_id is not None
        super().__init__(
            scope,
            id,
            name=ctx.name(Kind.CONFIG_RULE, rule.name),
            description=rule.description,
            source=ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier),
            input_parameters=json.dumps(dict(rule.parameters)) if rule.parameters else None,
            scope=ConfigConfigRuleScope(
                compliance_resource_types=list(rule.resource_types) or None,
                compliance_resource_id=rule.resource_id,
            )
            if scoped
            else None,
            depends_on=list(props.depends_on) or None,
            provider=ctx.provider,
        )
