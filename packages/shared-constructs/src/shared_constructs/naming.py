"""Resource names: ``{service}-{resource}[-{region}]-{suffix}``, valid for each AWS resource kind.

Each :class:`Kind` knows its AWS length limit and character set. A name that would be too long
is shortened with a stable hash of the full name, keeping the environment suffix at the end, so
it stays unique and valid instead of failing in AWS at apply time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

from shared_constructs.regions import short_region

SUFFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")
"""The environment suffix every resource name ends with: 1-16 lowercase letters, digits or inner hyphens."""
SERVICE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
"""The first part of every resource name: the app's service name."""


@dataclass(frozen=True)
class _Rule:
    max_len: int
    allowed: str  # regex character class body of allowed characters
    lowercase: bool = False
    prefix: str = ""  # fixed prefix AWS requires (counted in max_len)
    must_start_with_letter: bool = False


class Kind(Enum):
    """AWS resource kinds with their naming rules (limits from the AWS API references)."""

    S3_BUCKET = _Rule(63, "a-z0-9-", lowercase=True)
    IAM_ROLE = _Rule(64, r"\w+=,.@-")
    IAM_POLICY = _Rule(128, r"\w+=,.@-")
    IAM_INSTANCE_PROFILE = _Rule(128, r"\w+=,.@-")
    LAMBDA = _Rule(64, r"a-zA-Z0-9_-")
    SQS = _Rule(80, r"a-zA-Z0-9_-")
    SNS = _Rule(256, r"a-zA-Z0-9_-")
    DYNAMODB = _Rule(255, r"a-zA-Z0-9_.-")
    KMS_ALIAS = _Rule(256, r"a-zA-Z0-9/_-", prefix="alias/")
    LOG_GROUP = _Rule(512, r"a-zA-Z0-9_/.#-")
    ALB = _Rule(32, "a-zA-Z0-9-")
    TARGET_GROUP = _Rule(32, "a-zA-Z0-9-")
    STATE_MACHINE = _Rule(80, r"a-zA-Z0-9_-")
    EVENT_BUS = _Rule(256, r"a-zA-Z0-9_.-")
    EVENT_RULE = _Rule(64, r"a-zA-Z0-9_.-")
    RDS = _Rule(63, "a-z0-9-", lowercase=True, must_start_with_letter=True)
    RDS_PROXY = _Rule(60, "a-z0-9-", lowercase=True, must_start_with_letter=True)
    SECRET = _Rule(512, r"a-zA-Z0-9/_+=.@-")
    SSM_PARAMETER = _Rule(1011, r"a-zA-Z0-9_./-", prefix="/")
    ALARM = _Rule(255, r"a-zA-Z0-9_.-")
    DASHBOARD = _Rule(255, r"a-zA-Z0-9_-")
    FIREHOSE = _Rule(64, r"a-zA-Z0-9_.-")
    WAF = _Rule(128, r"a-zA-Z0-9_-")
    WAF_LOG_BUCKET = _Rule(63, "a-z0-9-", lowercase=True, prefix="aws-waf-logs-")
    TRAIL = _Rule(128, r"a-zA-Z0-9_.-")
    CONFIG_RULE = _Rule(128, r"a-zA-Z0-9_-")
    SECURITY_GROUP = _Rule(255, r"a-zA-Z0-9_.-")
    XRAY = _Rule(32, r"a-zA-Z0-9_-")
    FIREWALL = _Rule(128, "a-zA-Z0-9-")
    API = _Rule(1024, r"a-zA-Z0-9_.-")
    GENERIC = _Rule(255, r"a-zA-Z0-9_.-")

    @property
    def rule(self) -> _Rule:
        return self.value  # type: ignore[no-any-return]


_HASH_LEN = 7


def _stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]


@dataclass(frozen=True)
class Namer:
    """Builds names for one service (package) and environment suffix.

    ``Namer("payments", "dev").name(Kind.LAMBDA, "transactions", region="eu-west-1")``
    gives ``payments-transactions-euw1-dev``.
    """

    service: str
    suffix: str

    def __post_init__(self) -> None:
        if not SERVICE_PATTERN.fullmatch(self.service):
            raise ValueError(f"service must be 1-24 lowercase letters, digits or hyphens, got {self.service!r}")
        if not SUFFIX_PATTERN.fullmatch(self.suffix):
            raise ValueError(f"suffix must be 1-16 lowercase letters, digits or inner hyphens, got {self.suffix!r}")

    def name(self, kind: Kind, resource: str, *, region: str | None = None) -> str:
        """A valid, unique name for ``resource`` of ``kind``; raises ``ValueError`` for bad parts."""
        rule = kind.rule
        if not resource or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", resource):
            raise ValueError(f"resource part must be letters, digits and hyphens, got {resource!r}")
        parts = [self.service, resource]
        if region is not None:
            parts.append(short_region(region))
        body = "-".join(parts)
        if rule.lowercase:
            body = body.lower()
        tail = f"-{self.suffix}"
        budget = rule.max_len - len(rule.prefix) - len(tail)
        if len(body) > budget:
            digest = _stable_hash(f"{body}{tail}")
            keep = budget - _HASH_LEN - 1
            if keep < 1:
                raise ValueError(
                    f"{kind.name} names allow {rule.max_len} characters: suffix {self.suffix!r} leaves no room"
                )
            body = f"{body[:keep].rstrip('-')}-{digest}"
        name = f"{rule.prefix}{body}{tail}"
        if not re.fullmatch(f"[{rule.allowed}]+", name):
            raise ValueError(f"{kind.name} name {name!r} has characters outside [{rule.allowed}]")
        if rule.must_start_with_letter and not name[0].isalpha():
            raise ValueError(f"{kind.name} name {name!r} must start with a letter")
        if "--" in name and kind in (Kind.RDS, Kind.RDS_PROXY):
            raise ValueError(f"{kind.name} name {name!r} must not contain two hyphens in a row")
        return name

    def path(self, kind: Kind, *segments: str) -> str:
        """A hierarchical name such as a log group or parameter path: ``/{service}/{suffix}/a/b``."""
        if kind not in (Kind.SSM_PARAMETER, Kind.LOG_GROUP, Kind.SECRET):
            raise ValueError(f"{kind.name} names are not paths; use name()")
        rule = kind.rule
        name = "/".join(["", self.service, self.suffix, *segments])
        if len(name) > rule.max_len:
            raise ValueError(f"{kind.name} path {name!r} exceeds {rule.max_len} characters")
        if not re.fullmatch(f"[{rule.allowed}]+", name):
            raise ValueError(f"{kind.name} path {name!r} has characters outside [{rule.allowed}]")
        return name
