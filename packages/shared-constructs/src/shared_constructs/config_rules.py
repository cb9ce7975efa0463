"""AWS Config rules: an app lists the rules it wants as data, and builds each one the same way.

The rules evaluate against the account's configuration recorder, which belongs to
security-baseline (docs/decisions/0002-account-singletons.md): a package that adds rules needs that
recorder running in its account and region. :class:`ConfigRule` is the Terraform resource itself,
built from a :class:`ManagedRule` (AWS's rule) or a :class:`CustomRule` (the app's own Lambda
function), so an app that adopts it keeps each rule's address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.config_config_rule import (
    ConfigConfigRule,
    ConfigConfigRuleScope,
    ConfigConfigRuleSource,
    ConfigConfigRuleSourceSourceDetail,
)

from shared_constructs.cdk import Construct, ITerraformDependable
from shared_constructs.context import AppContext
from shared_constructs.naming import Kind
from shared_constructs.policy.declare import RULE_IDENTIFIER, declare_rule_identifier
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


CONFIGURATION_CHANGE = ("ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification")
"""The messages of a change-triggered custom rule (AWS sends an oversized item without its body)."""
PERIODIC = "ScheduledNotification"

FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
"""The frequencies AWS Config accepts for periodic evaluation."""


@dataclass(frozen=True, kw_only=True)
class CustomRule:
    """One custom Config rule whose evaluations a Lambda function of the app makes.

    ``identifier``: the rule's stable name in upper snake case (``PEERING_SG_AUTHORIZED_PORTS``),
    recorded on the rule (``//.identifier``) so evidence maps it to controls as it maps AWS's rules.
    ``function_arn``: the function; it needs a permission for ``config.amazonaws.com`` (limited to
    the account) before the rule is created, so pass that permission in ``ConfigRuleProps.depends_on``.
    ``on_change``: evaluate when a resource in scope changes. Default True.
    ``periodic``: also evaluate every resource at this frequency (``One_Hour`` ... ``TwentyFour_Hours``).
    Default: ``TwentyFour_Hours``; None: change-triggered only.
    Other fields as :class:`ManagedRule`.
    """

    name: str
    identifier: str
    function_arn: str
    description: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    resource_types: Sequence[str] = ()
    resource_id: str | None = None
    on_change: bool = True
    periodic: str | None = "TwentyFour_Hours"

    def __post_init__(self) -> None:
        if not RULE_IDENTIFIER.fullmatch(self.identifier):
            raise ValueError(
                f"custom rule {self.name}: identifier: got {self.identifier!r}; expected upper snake case such as 'MY_RULE'"
            )
        if not self.on_change and self.periodic is None:
            raise ValueError(f"custom rule {self.name}: expected on_change or periodic, got neither")
        if self.periodic is not None and self.periodic not in FREQUENCIES:
            raise ValueError(f"custom rule {self.name}: periodic: got {self.periodic!r}; expected one of {FREQUENCIES}")

    @property
    def construct_id(self) -> str:
        """The construct id an app gives the rule's resource."""
        return self.name.replace("-", "_")


def _source(rule: ManagedRule | CustomRule) -> ConfigConfigRuleSource:
    if isinstance(rule, ManagedRule):
        return ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier)
    details = [
        ConfigConfigRuleSourceSourceDetail(event_source="aws.config", message_type=message)
        for message in (CONFIGURATION_CHANGE if rule.on_change else ())
    ]
    if rule.periodic is not None:
        details.append(
            ConfigConfigRuleSourceSourceDetail(
                event_source="aws.config", message_type=PERIODIC, maximum_execution_frequency=rule.periodic
            )
        )
    return ConfigConfigRuleSource(owner="CUSTOM_LAMBDA", source_identifier=rule.function_arn, source_detail=details)


@dataclass(frozen=True, kw_only=True)
class ConfigRuleProps:
    """Props of :class:`ConfigRule`.

    ``depends_on``: what must exist before the rule (a recorder this stack starts; for a custom
    rule, the function's permission for AWS Config). Default: none (the recorder records already).
    """

    context: AppContext[BaseSettings]
    rule: ManagedRule | CustomRule
    depends_on: Sequence[ITerraformDependable] = ()


class ConfigRule(ConfigConfigRule):
    """A Config rule, managed or custom, named ``<service>-<name>-<region>-<suffix>``."""

    def __init__(self, scope: Construct, id: str, props: ConfigRuleProps) -> None:
        rule, ctx = props.rule, props.context
        scoped = bool(rule.resource_types) or rule.resource_id is not None
        super().__init__(
            scope,
            id,
            name=ctx.name(Kind.CONFIG_RULE, rule.name),
            description=rule.description,
            source=_source(rule),
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
        if isinstance(rule, CustomRule):
            declare_rule_identifier(self, rule.identifier)
