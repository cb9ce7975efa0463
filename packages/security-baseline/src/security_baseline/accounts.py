"""The accounts the baseline covers and its optional organizations mode (settings sections).

Every account another app deploys into gets the baseline (docs/decisions/0011-regions-and-accounts.md):
one stack per account and region, each with a provider limited to that account. The deployer's own
account (``account_id``) is reached with the deployer's credentials, every other one through a role
in it (``assume_role_arn``), as network-peering reaches its analytics account.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field
from shared_constructs.settings import AccountId, Region, RoleArn, Strict

LABEL = re.compile(r"^[a-z][a-z0-9]{0,14}$")
"""An account's label: lowercase letters and digits, 1-15, starting with a letter (``trading``); the
names of an account other than the deployer's start with ``baseline-<label>`` (at most 24 characters)."""
MAIN = "main"
"""The label of the one account of a configuration that lists none (the deployer's)."""


class Account(Strict):
    """One AWS account the baseline covers (``[accounts.<label>]``)."""

    id: AccountId
    """The account's 12-digit id: its stacks are named after it and their providers limited to it."""
    assume_role_arn: RoleArn | None = None
    """The role the deployment assumes in this account (a role of this account). Default: the
    deployer's own credentials, which only the deployer's account (``account_id``) may use."""
    regions: tuple[Region, ...] = ()
    """Regions of this account's stacks. Default: the top-level ``regions``."""
    region_overrides: dict[Region, dict[str, Any]] = Field(default_factory=dict)
    """Per region of this account: values laid over ``regional`` and the top-level ``region_overrides``
    (an existing detector of this account: ``[accounts.trading.region_overrides.us-east-1.guardduty]``).
    Default: none."""
    trail: dict[str, Any] = Field(default_factory=dict)
    """Values laid over the top-level ``trail`` for this account (adopting its existing trail:
    ``[accounts.trading.trail] mode = "adopt"``). Default: none."""


class OrganizationSettings(Strict):
    """Organizations mode (off by default: a sandbox is one account without AWS Organizations).

    On: the management account delegates GuardDuty and Security Hub administration to the delegated
    administrator account, which turns both on for every member account and aggregates Security Hub
    findings across regions and Config data across the organization; the management account's trail
    becomes the organization trail.
    """

    enabled: bool = False
    """Turn organizations mode on. Default: off (single account)."""
    management_account: str | None = None
    """Label (in ``accounts``) of the organization's management account. Required when enabled."""
    delegated_admin_account: str | None = None
    """Label of the delegated administrator of GuardDuty, Security Hub and the Config aggregator
    (AWS recommends a security account other than the management account). Required when enabled."""
    auto_enable: Literal["ALL", "NEW"] = "ALL"
    """GuardDuty for member accounts: ``ALL`` enables every member, ``NEW`` only accounts that join later."""
