"""Policy rules over synthesized Terraform JSON, grouped in packs, with visible suppressions."""

from shared_constructs.policy.declare import declare_encrypts, declare_services, encrypts_of, services_of
from shared_constructs.policy.model import Context, Finding, Outcome, Resource, Result, Rule, StackView
from shared_constructs.policy.packs import BASELINE
from shared_constructs.policy.runner import PolicyViolationError, Report, check, evaluate
from shared_constructs.policy.suppress import suppress, suppressions_of

__all__ = [
    "BASELINE",
    "Context",
    "Finding",
    "Outcome",
    "PolicyViolationError",
    "Report",
    "Resource",
    "Result",
    "Rule",
    "StackView",
    "check",
    "declare_encrypts",
    "declare_services",
    "encrypts_of",
    "evaluate",
    "services_of",
    "suppress",
    "suppressions_of",
]
