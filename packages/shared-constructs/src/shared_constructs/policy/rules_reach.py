"""Every function and host in VPC subnets can reach every AWS API its code calls.

A compute resource (a Lambda function in a VPC, an Auto Scaling group or instance) declares the
services its code calls (:func:`shared_constructs.policy.declare.declare_services`). Each one
needs a path from every subnet the compute runs in:

- an interface endpoint of the service in the VPC, with private DNS (and DNS hostnames on in the
  VPC), whose security group admits HTTPS from the compute's security group or subnets, while the
  compute's security group lets HTTPS out to the endpoint's group or subnets; where the route to
  the endpoint subnets goes through a Network Firewall, the firewall's TLS allow list names the API;
- for S3 and DynamoDB, a gateway endpoint on the subnets' route tables, with HTTPS out to its
  prefix list;
- otherwise a default route to a NAT or internet gateway (directly, or through a firewall that
  names the API and has such a route), with HTTPS out to ``0.0.0.0/0``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from shared_constructs.policy.declare import services_of
from shared_constructs.policy.graph import region_of, target, targets
from shared_constructs.policy.model import (
    COMPLIANT,
    NOT_APPLICABLE,
    Context,
    Resource,
    Result,
    StackView,
    as_list,
    non_compliant,
)

HTTPS = 443
SERVICE_ENDPOINTS: dict[str, tuple[str, str]] = {
    "apigateway": ("apigateway", "apigateway"),
    "athena": ("athena", "athena"),
    "autoscaling": ("autoscaling", "autoscaling"),
    "cloudwatch": ("monitoring", "monitoring"),
    "dynamodb": ("dynamodb", "dynamodb"),
    "ec2": ("ec2", "ec2"),
    "ecr": ("ecr.api", "api.ecr"),
    "elbv2": ("elasticloadbalancing", "elasticloadbalancing"),
    "events": ("events", "events"),
    "firehose": ("kinesis-firehose", "firehose"),
    "kinesis": ("kinesis-streams", "kinesis"),
    "kms": ("kms", "kms"),
    "lambda": ("lambda", "lambda"),
    "logs": ("logs", "logs"),
    "rds": ("rds", "rds"),
    "rds-data": ("rds-data", "rds-data"),
    "s3": ("s3", "s3"),
    "secretsmanager": ("secretsmanager", "secretsmanager"),
    "sns": ("sns", "sns"),
    "sqs": ("sqs", "sqs"),
    "ssm": ("ssm", "ssm"),
    "stepfunctions": ("states", "states"),
    "sts": ("sts", "sts"),
    "xray": ("xray", "xray"),
}
"""boto3 client name -> (VPC endpoint service ``com.amazonaws.<region>.<name>``, API host prefix
``<prefix>.<region>.amazonaws.com``): the two differ from the client name for several services."""
GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})
NO_ENDPOINT_SERVICES: dict[str, str] = {
    "iam": "IAM is a global service without VPC endpoints: only a NAT path reaches it",
    "organizations": "Organizations is global and has no VPC endpoint in most regions",
    "route53": "Route 53's API is global and has no VPC endpoint",
    "cloudfront": "CloudFront's API is global and has no VPC endpoint",
}
"""Services no VPC endpoint serves: the rule looks for a NAT path only."""
_REGION = re.compile(r"^com\.amazonaws\.([a-z0-9-]+)\.")


def _compute(resource: Resource) -> tuple[list[Any], list[Any]]:
    """(subnet references, security group references) of a function, group or instance."""
    cfg, stack = resource.config, resource.stack
    if resource.type == "aws_lambda_function":
        vpc = (as_list(cfg.get("vpc_config")) or [{}])[0]
        return as_list(vpc.get("subnet_ids")), as_list(vpc.get("security_group_ids"))
    if resource.type == "aws_instance":
        return as_list(cfg.get("subnet_id")), as_list(cfg.get("vpc_security_group_ids"))
    if resource.type == "aws_autoscaling_group":
        groups: list[Any] = []
        for spec in as_list(cfg.get("launch_template")):
            template = target(stack, spec.get("id"))
            if template is not None:
                groups += as_list(template.config.get("vpc_security_group_ids"))
                for interface in as_list(template.config.get("network_interfaces")):
                    groups += as_list(interface.get("security_groups"))
        return as_list(cfg.get("vpc_zone_identifier")), groups
    return [], []


def _is(found: Resource | None, wanted: Resource) -> bool:
    return found is not None and found.address == wanted.address


def _cidr(subnet: Resource) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(subnet.config.get("cidr_block")))
    except ValueError:
        return None


def _networks(values: Any) -> list[ipaddress.IPv4Network]:
    found = []
    for value in as_list(values):
        try:
            found.append(ipaddress.IPv4Network(str(value)))
        except ValueError:
            continue  # an IPv6 block or a reference: neither reaches an IPv4 endpoint address
    return found


def _rules(stack: StackView, group: Resource, direction: str) -> Iterator[dict[str, Any]]:
    """A security group's rules in one direction (inline blocks and separate rule resources), as
    dicts of protocol, from_port, to_port, cidrs, groups (addresses) and prefix_lists."""
    for rule in as_list(group.config.get(direction)):
        yield {**rule, "cidrs": rule.get("cidr_blocks"), "groups": rule.get("security_groups")}
    kind = "ingress" if direction == "ingress" else "egress"
    for rule in stack.resources("aws_security_group_rule"):
        if rule.config.get("type") == kind and _is(target(stack, rule.config.get("security_group_id")), group):
            cfg = rule.config
            yield {**cfg, "cidrs": cfg.get("cidr_blocks"), "groups": cfg.get("source_security_group_id")}
    for rule in stack.resources(f"aws_vpc_security_group_{kind}_rule"):
        cfg = rule.config
        if _is(target(stack, cfg.get("security_group_id")), group):
            yield {
                "protocol": cfg.get("ip_protocol"),
                "from_port": cfg.get("from_port"),
                "to_port": cfg.get("to_port"),
                "cidrs": cfg.get("cidr_ipv4"),
                "groups": cfg.get("referenced_security_group_id"),
                "prefix_list_ids": cfg.get("prefix_list_id"),
            }


def _https(rule: dict[str, Any]) -> bool:
    protocol = str(rule.get("protocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    try:
        return protocol in ("tcp", "6") and int(rule.get("from_port", -1)) <= HTTPS <= int(rule.get("to_port", -1))
    except (TypeError, ValueError):
        return False


def _allows(
    stack: StackView, groups: list[Resource], direction: str, peers: list[Resource], cidrs: list[Any], prefix: str = ""
) -> bool:
    """Some HTTPS rule of ``groups`` in ``direction`` names one of ``peers``, the prefix list
    reference ``prefix``, or networks covering every one of ``cidrs`` (None: unknown, not covered)."""
    rules = [r for g in groups for r in _rules(stack, g, direction) if _https(r)]
    peer_set = {p.address for p in peers}
    if any(t.address in peer_set for r in rules for t in targets(stack, r.get("groups"))):
        return True
    if prefix and any(prefix in str(p) for r in rules for p in as_list(r.get("prefix_list_ids"))):
        return True
    nets = [n for r in rules for n in _networks(r.get("cidrs"))]
    return bool(cidrs) and all(c is not None and any(c.subnet_of(n) for n in nets) for c in cidrs)


def _routes(stack: StackView, subnet: Resource) -> list[tuple[ipaddress.IPv4Network, str, str]]:
    """(destination, target kind, target value) of the routes of ``subnet``'s route table."""

    def build() -> dict[str, list[tuple[ipaddress.IPv4Network, str, str]]]:
        tables: dict[str, list[Any]] = {r.address: [] for r in stack.resources("aws_route_table")}
        for table in stack.resources("aws_route_table"):
            tables[table.address] += [_route(stack, r) for r in as_list(table.config.get("route"))]
        for route in stack.resources("aws_route"):
            owner = target(stack, route.config.get("route_table_id"))
            if owner is not None:
                tables[owner.address].append(_route(stack, route.config))
        by_subnet: dict[str, list[Any]] = {}
        for association in stack.resources("aws_route_table_association"):
            subnet = target(stack, association.config.get("subnet_id"))
            routed = target(stack, association.config.get("route_table_id"))
            if subnet is not None and routed is not None:
                by_subnet[subnet.address] = [r for r in tables[routed.address] if r is not None]
        return by_subnet

    return stack.memo("routes_by_subnet", build).get(subnet.address, [])


def _route(stack: StackView, route: Mapping[str, Any]) -> tuple[ipaddress.IPv4Network, str, str] | None:
    try:
        destination = ipaddress.IPv4Network(str(route.get("destination_cidr_block") or route.get("cidr_block")))
    except ValueError:
        return None
    for key, kind in (("nat_gateway_id", "nat"), ("gateway_id", "gateway"), ("vpc_endpoint_id", "endpoint")):
        value = route.get(key)
        if value:
            endpoint = target(stack, value)
            if kind == "endpoint" and (endpoint is None or endpoint.type != "aws_vpc_endpoint"):
                kind = "firewall"  # a Network Firewall endpoint (looked up from the firewall's status)
            return destination, kind, str(value)
    return destination, "other", ""


def _next_hop(routes: list[tuple[ipaddress.IPv4Network, str, str]], network: ipaddress.IPv4Network) -> str:
    """The kind of the most specific route covering ``network``; ``local`` when none does."""
    covering = [r for r in routes if network.subnet_of(r[0])]
    return max(covering, key=lambda r: r[0].prefixlen)[1] if covering else "local"


def _allow_listed(stack: StackView, host: str) -> bool:
    """A Network Firewall TLS allow list of the stack names ``host``."""
    for group in stack.resources("aws_networkfirewall_rule_group"):
        source = (as_list((as_list(group.config.get("rule_group")) or [{}])[0].get("rules_source")) or [{}])[0]
        for listing in as_list(source.get("rules_source_list")):
            if listing.get("generated_rules_type") == "ALLOWLIST" and "TLS_SNI" in as_list(listing.get("target_types")):
                for name in as_list(listing.get("targets")):
                    if host == name or (str(name).startswith(".") and host.endswith(str(name))):
                        return True
    return False


def _firewall_exits(stack: StackView) -> bool:
    """A Network Firewall of the stack has a subnet whose route table leads to a NAT or internet gateway."""
    for firewall in stack.resources("aws_networkfirewall_firewall"):
        for mapping in as_list(firewall.config.get("subnet_mapping")):
            subnet = target(stack, mapping.get("subnet_id") or mapping.get("subnetId"))
            hop = _next_hop(_routes(stack, subnet), ipaddress.IPv4Network("0.0.0.0/0")) if subnet else "local"
            if hop in ("nat", "gateway"):
                return True
    return False


def _endpoints(stack: StackView, vpc: Resource, kind: str, name: str) -> list[Resource]:
    return [
        e
        for e in stack.resources("aws_vpc_endpoint")
        if _is(target(stack, e.config.get("vpc_id")), vpc)
        and str(e.config.get("vpc_endpoint_type", "Gateway")) == kind
        and str(e.config.get("service_name", "")).endswith(f".{name}")
    ]


class _Path:
    """What one compute resource has: its stack, subnets, groups, VPC and region."""

    def __init__(self, resource: Resource, subnets: list[Resource], groups: list[Resource], vpc: Resource) -> None:
        self.stack = resource.stack
        self.subnets, self.groups, self.vpc = subnets, groups, vpc
        self.cidrs = [_cidr(s) for s in subnets]
        self.region = region_of(resource)

    def interface(self, service: str, endpoint: Resource) -> list[str]:
        stack, problems = self.stack, []
        endpoint_subnets = targets(stack, endpoint.config.get("subnet_ids"))
        endpoint_groups = targets(stack, endpoint.config.get("security_group_ids"))
        endpoint_cidrs = [_cidr(s) for s in endpoint_subnets]
        if self.vpc.config.get("enable_dns_hostnames") is not True:
            problems.append(f"{service}: private DNS needs enable_dns_hostnames on the VPC")
        if not _allows(stack, self.groups, "egress", endpoint_groups, endpoint_cidrs):
            problems.append(f"{service}: security groups allow no HTTPS out to endpoint {endpoint.name}")
        if not _allows(stack, endpoint_groups, "ingress", self.groups, self.cidrs):
            problems.append(f"{service}: endpoint {endpoint.name} admits no HTTPS from these subnets")
        match = _REGION.match(str(endpoint.config.get("service_name", "")))
        host = f"{SERVICE_ENDPOINTS[service][1]}.{match[1] if match else self.region}.amazonaws.com"
        hops = {_next_hop(_routes(stack, s), c) for s in self.subnets for c in endpoint_cidrs if c is not None}
        if "firewall" in hops and not _allow_listed(stack, host):
            problems.append(f"{service}: the firewall between subnets and endpoint does not allow {host}")
        if hops - {"local", "firewall"}:
            problems.append(f"{service}: endpoint subnets are routed through {sorted(hops - {'local', 'firewall'})}")
        return problems

    def gateway(self, service: str, endpoint: Resource) -> list[str]:
        stack = self.stack
        tables = {t.address for t in targets(stack, endpoint.config.get("route_table_ids"))}
        tables |= {
            a.config.get("route_table_id", "")
            for a in stack.resources("aws_vpc_endpoint_route_table_association")
            if _is(target(stack, a.config.get("vpc_endpoint_id")), endpoint)
        }
        problems = []
        for subnet in self.subnets:
            owned = [
                target(stack, a.config.get("route_table_id"))
                for a in stack.resources("aws_route_table_association")
                if _is(target(stack, a.config.get("subnet_id")), subnet)
            ]
            if not any(t is not None and (t.address in tables or f"${{{t.address}.id}}" in tables) for t in owned):
                problems.append(
                    f"{service}: gateway endpoint {endpoint.name} is not on the route table of {subnet.name}"
                )
        prefix = f"${{{endpoint.address}.prefix_list_id}}"
        if not _allows(stack, self.groups, "egress", [], [ipaddress.IPv4Network("0.0.0.0/0")], prefix=prefix):
            problems.append(f"{service}: security groups allow no HTTPS out to {endpoint.name}'s prefix list")
        return problems

    def internet(self, service: str, host: str) -> list[str]:
        stack, anywhere = self.stack, ipaddress.IPv4Network("0.0.0.0/0")
        hops = {_next_hop(_routes(stack, s), anywhere) for s in self.subnets}
        via_firewall = hops == {"firewall"} and _allow_listed(stack, host) and _firewall_exits(stack)
        if not (hops <= {"nat", "gateway"} or via_firewall):
            return [f"{service}: no endpoint and no NAT path from these subnets (default route: {sorted(hops)})"]
        if not _allows(stack, self.groups, "egress", [], [anywhere]):
            return [f"{service}: security groups allow no HTTPS out to the internet path"]
        return []


def _problems(resource: Resource, services: list[str]) -> list[str]:
    stack = resource.stack
    subnet_refs, group_refs = _compute(resource)
    subnets, groups = targets(stack, subnet_refs), targets(stack, group_refs)
    if len(subnets) != len(subnet_refs) or not subnets:
        return ["subnets are not resources of this stack: cannot follow their routes"]
    vpcs = [target(stack, s.config.get("vpc_id")) for s in subnets]
    vpc = vpcs[0]
    if vpc is None or any(v is None or v.address != vpc.address for v in vpcs):
        return ["subnets are not in one VPC of this stack"]
    path, problems = _Path(resource, subnets, groups, vpc), []
    region = region_of(resource)
    for service in services:
        if service not in SERVICE_ENDPOINTS and service not in NO_ENDPOINT_SERVICES:
            problems.append(f"{service}: unknown service; add it to SERVICE_ENDPOINTS or NO_ENDPOINT_SERVICES")
            continue
        name, prefix = SERVICE_ENDPOINTS.get(service, (service, service))
        gateways = _endpoints(stack, vpc, "Gateway", name) if service in GATEWAY_SERVICES else []
        interfaces = [
            e for e in _endpoints(stack, vpc, "Interface", name) if e.config.get("private_dns_enabled") is True
        ]
        if gateways:
            problems += path.gateway(service, gateways[0])
        elif interfaces:
            problems += path.interface(service, interfaces[0])
        else:
            problems += path.internet(service, f"{prefix}.{region}.amazonaws.com")
    return problems


def reachable_services(resource: Resource, ctx: Context) -> Result:
    """Every service a function or host in VPC subnets declares is reachable (module docstring)."""
    subnet_refs, _ = _compute(resource)
    if not subnet_refs:
        return NOT_APPLICABLE
    services = services_of(resource.config)
    if services is None:
        return non_compliant("runs in VPC subnets but declares no services (declare_services / FunctionProps.services)")
    problems = _problems(resource, services)
    return non_compliant("; ".join(problems)) if problems else COMPLIANT
