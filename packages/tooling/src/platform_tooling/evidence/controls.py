"""The control view: PCI DSS requirement -> policy rules, AWS Config rules, Security Hub
standards and the tests that show the requirements those rules guard."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared_constructs.policy import BASELINE, Rule
from shared_constructs.policy.declare import rule_identifier_of

from platform_tooling.evidence.matrix import Stacks

PCI = re.compile(r"PCI DSS ((?:\d+\.)*\d+)((?:; (?:\d+\.)*\d+)*)")

CONFIG_RULE_CONTROLS: dict[str, tuple[str, ...]] = {
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": ("3.5.1", "10.3.2"),
    "CMK_BACKING_KEY_ROTATION_ENABLED": ("3.6.1",),
    "ENCRYPTED_VOLUMES": ("3.5.1",),
    "KMS_CMK_NOT_SCHEDULED_FOR_DELETION": ("3.6.1",),
    "LAMBDA_INSIDE_VPC": ("1.3.1", "1.3.2"),
    "RDS_STORAGE_ENCRYPTED": ("3.5.1",),
    "REQUIRED_TAGS": ("12.5.1",),
    "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED": ("1.4.1",),
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": ("3.5.1",),
    "S3_BUCKET_SSL_REQUESTS_ONLY": ("4.2.1",),
    "S3_DEFAULT_ENCRYPTION_KMS": ("3.5.1",),
    "SECRETSMANAGER_ROTATION_ENABLED_CHECK": ("8.3.9",),
    "SECRETSMANAGER_USING_CMK": ("3.5.1",),
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": ("1.2.1", "1.3.1"),
    "VPC_FLOW_LOGS_ENABLED": ("10.2.1",),
    "VPC_PEERING_DNS_RESOLUTION_CHECK": ("1.2.1",),
    # Custom rules, by the identifier the library records on them (network-peering's Lambda rule).
    "PEERING_SG_AUTHORIZED_PORTS": ("1.3.1", "1.3.2"),
}
"""PCI DSS v4.0.1 requirements each Config rule the platform deploys evidences (AWS managed rules by
AWS's identifier, custom rules by theirs), as the platform reads them. A deployed rule missing here
fails the evidence run."""


def pci_controls(control: str) -> list[str]:
    """PCI DSS requirement numbers a rule's control text cites ("PCI DSS 3.5.1; 12.10.1")."""
    match = PCI.search(control)
    if match is None:
        return []
    return [match.group(1), *[part.strip() for part in match.group(2).split(";") if part.strip()]]


def _version_key(control: str) -> tuple[int, ...]:
    return tuple(int(part) for part in control.split("."))


def config_rule_addresses(stacks_by_package: Mapping[str, Stacks]) -> dict[str, str]:
    """``<stack>/aws_config_config_rule.<name>`` -> the identifier of the rule it deploys: AWS's for
    a managed rule, the one recorded on a custom rule (its source names only the function)."""
    found = {}
    for stacks in stacks_by_package.values():
        for stack, document in stacks.items():
            for name, rule in document.get("resource", {}).get("aws_config_config_rule", {}).items():
                address = f"{stack}/aws_config_config_rule.{name}"
                source = rule["source"][0] if isinstance(rule["source"], list) else rule["source"]
                if source["owner"] == "AWS":
                    found[address] = str(source["source_identifier"])
                    continue
                identifier = rule_identifier_of(rule)
                if identifier is None:
                    raise ValueError(f"{address}: a custom Config rule without a recorded identifier")
                found[address] = identifier
    return found


def config_rules(stacks_by_package: Mapping[str, Stacks]) -> dict[str, list[str]]:
    """AWS managed Config rule identifier -> packages that deploy it."""
    found: dict[str, set[str]] = {}
    for package, stacks in stacks_by_package.items():
        for identifier in config_rule_addresses({package: stacks}).values():
            found.setdefault(identifier, set()).add(package)
    unknown = sorted(set(found) - set(CONFIG_RULE_CONTROLS))
    if unknown:
        raise ValueError(f"Config rules {unknown} have no PCI DSS mapping in CONFIG_RULE_CONTROLS")
    return {identifier: sorted(packages) for identifier, packages in sorted(found.items())}


def standards(stacks_by_package: Mapping[str, Stacks]) -> list[str]:
    """Security Hub standards subscribed anywhere (``standards/<name>/v/<version>``)."""
    return sorted(
        {
            str(sub["standards_arn"]).split("::", 1)[1]
            for stacks in stacks_by_package.values()
            for document in stacks.values()
            for sub in document.get("resource", {}).get("aws_securityhub_standards_subscription", {}).values()
        }
    )


def control_view(
    stacks_by_package: Mapping[str, Stacks], rows: Sequence[Mapping[str, Any]], pack: Sequence[Rule] = BASELINE
) -> dict[str, Any]:
    """PCI DSS requirement -> rules, Config rules, tests (of the requirements those policy rules
    guard, or whose resources are those Config rules)."""
    deployed = config_rules(stacks_by_package)
    controls: dict[str, dict[str, set[str]]] = {}

    def entry(control: str) -> dict[str, set[str]]:
        return controls.setdefault(control, {"rules": set(), "config_rules": set(), "tests": set()})

    for rule in pack:
        for control in pci_controls(rule.control):
            entry(control)["rules"].add(rule.id)
    for identifier in deployed:
        for control in CONFIG_RULE_CONTROLS[identifier]:
            entry(control)["config_rules"].add(identifier)
    addresses = config_rule_addresses(stacks_by_package)
    for row in rows:
        guarded = {r["id"] for r in row["rules"]}
        # A requirement whose resources include Config rules shows those rules are deployed.
        guarded |= {addresses[a] for a in row["resources"] if a in addresses}
        passed = {t["test"] for t in row["tests"] if t["outcome"] == "passed"}
        for parts in controls.values():
            if (parts["rules"] | parts["config_rules"]) & guarded:
                parts["tests"] |= passed
    pci_standards = [s for s in standards(stacks_by_package) if "/pci-dss/" in s]
    return {
        "standards": standards(stacks_by_package),
        "config_rules": deployed,
        "controls": [
            {
                "pci_dss": control,
                "rules": sorted(parts["rules"]),
                "config_rules": sorted(parts["config_rules"]),
                "security_hub": pci_standards,
                "tests": sorted(parts["tests"]),
            }
            for control, parts in sorted(controls.items(), key=lambda item: _version_key(item[0]))
        ],
    }


def controls_json(view: Mapping[str, Any], run_date: str) -> str:
    return json.dumps({"run_date": run_date, **view}, indent=2, sort_keys=True) + "\n"


def controls_markdown(view: Mapping[str, Any], run_date: str) -> str:
    lines = [
        "# Evidence by PCI DSS requirement",
        "",
        f"Run date: {run_date}",
        "",
        "Generated by `nox -s evidence`; do not edit by hand. Rules are the policy-pack rules citing",
        "the requirement (run over every synthesized stack); Config rules are the rules the packages",
        "deploy (AWS managed, and custom by their recorded identifier), mapped in",
        "`platform_tooling.evidence.controls`; tests are the passing tests of",
        "the requirements those policy rules guard, or whose resources are those Config rules.",
        "",
        "Security Hub standards subscribed: " + (", ".join(f"`{s}`" for s in view["standards"]) or "none") + ".",
        "",
        "| PCI DSS | policy rules | Config rules | Security Hub | passing tests |",
        "|---|---|---|---|---|",
    ]
    for c in view["controls"]:
        rules = ", ".join(f"`{r}`" for r in c["rules"]) or "-"
        config = ", ".join(f"`{r}`" for r in c["config_rules"]) or "-"
        hub = ", ".join(f"`{s}`" for s in c["security_hub"]) or "-"
        lines.append(f"| {c['pci_dss']} | {rules} | {config} | {hub} | {len(c['tests'])} |")
    for c in view["controls"]:
        if c["tests"]:
            lines += ["", f"## PCI DSS {c['pci_dss']}", ""] + [f"- `{t}`" for t in c["tests"]]
    return "\n".join(lines) + "\n"
