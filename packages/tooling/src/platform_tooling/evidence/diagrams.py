"""Mermaid diagrams an assessor asks for first, generated from the synthesized configuration.

- PCI DSS 1.2.3 network diagram: VPCs, subnets, where each subnet's routes lead (firewall,
  gateways, peering, endpoints), endpoints and the firewall, per app package with a VPC.
- PCI DSS 1.2.4 account-data flow: in a package whose data classification is ``cardholder``, the
  resources encrypted under a cardholder key (they store or carry account data), the triggers and
  targets that move data between them, and the key each uses.

Node ids come from Terraform names, so the output is stable for the same configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from platform_tooling.evidence.matrix import Stacks

REF = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")
DIAGRAMS = "docs/evidence"
CARDHOLDER = "cardholder"
ROUTE_TARGETS = ("gateway_id", "nat_gateway_id", "vpc_peering_connection_id", "vpc_endpoint_id", "transit_gateway_id")


def _id(stack: str, type_: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{stack}__{type_.removeprefix('aws_')}__{name}")


def _refs(value: Any) -> list[tuple[str, str]]:
    return REF.findall(json.dumps(value, sort_keys=True))


def _label(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _name(resource: Mapping[str, Any], fallback: str) -> str:
    tags = resource.get("tags") or {}
    return str(tags.get("Name") or resource.get("name") or re.sub(r"_[0-9A-F]{8}$", "", fallback))


def _resources(document: Mapping[str, Any], type_: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield from sorted(document.get("resource", {}).get(type_, {}).items())


def _route_target(stack: str, document: Mapping[str, Any], route: Mapping[str, Any]) -> str | None:
    """The node a route leads to: a gateway, endpoint, peering or the stack's firewall."""
    for key in ROUTE_TARGETS:
        value = route.get(key)
        if not value:
            continue
        refs = _refs(value)
        if key == "vpc_endpoint_id" and "firewall" in str(value):
            firewalls = [n for n, _ in _resources(document, "aws_networkfirewall_firewall")]
            return _id(stack, "aws_networkfirewall_firewall", firewalls[0]) if firewalls else None
        for type_, name in refs:
            if type_ == "aws_vpc_peering_connection_accepter":
                accepter = document["resource"][type_][name]
                type_, name = _refs(accepter["vpc_peering_connection_id"])[0]
            return _id(stack, type_, name)
    return None


def _vpc_lines(stack: str, document: Mapping[str, Any], vpc_name: str, vpc: Mapping[str, Any]) -> list[str]:
    vpc_ref = ("aws_vpc", vpc_name)
    logs = sorted({str(f.get("log_destination_type")) for _, f in _resources(document, "aws_flow_log")
                   if vpc_ref in _refs(f.get("vpc_id"))})  # fmt: skip
    title = f"VPC {_name(vpc, vpc_name)} {vpc['cidr_block']}" + (f" (flow logs: {', '.join(logs)})" if logs else "")
    lines = [f"    subgraph {_id(stack, 'aws_vpc', vpc_name)}[{_label(title)}]"]
    for name, subnet in _resources(document, "aws_subnet"):
        if vpc_ref in _refs(subnet.get("vpc_id")):
            text = f"{_name(subnet, name)}<br/>{subnet['cidr_block']} {subnet.get('availability_zone', '')}"
            lines.append(f"      {_id(stack, 'aws_subnet', name)}[{_label(text)}]")
    interface = []
    for name, endpoint in _resources(document, "aws_vpc_endpoint"):
        if vpc_ref not in _refs(endpoint.get("vpc_id")):
            continue
        service = str(endpoint["service_name"]).rsplit(".", 1)[-1]
        if endpoint.get("vpc_endpoint_type") == "Interface":
            interface.append(service)
        else:
            lines.append(
                f"      {_id(stack, 'aws_vpc_endpoint', name)}[({_label('gateway endpoint ' + service)[1:-1]})]"
            )
    if interface:
        text = "interface endpoints: " + ", ".join(sorted(interface))
        lines.append(f"      {_id(stack, 'aws_vpc', vpc_name)}__interface[{_label(text)}]")
    for type_, word in (("aws_internet_gateway", "internet gateway"), ("aws_nat_gateway", "NAT gateway")):
        for name, gateway in _resources(document, type_):
            if vpc_ref in _refs(gateway.get("vpc_id")) or type_ == "aws_nat_gateway":
                lines.append(f"      {_id(stack, type_, name)}[/{_label(word)}/]")
    for name, firewall in _resources(document, "aws_networkfirewall_firewall"):
        if vpc_ref in _refs(firewall.get("vpc_id")):
            lines.append(
                f"      {_id(stack, 'aws_networkfirewall_firewall', name)}{{{{{_label('Network Firewall ' + _name(firewall, name))}}}}}"
            )
    return [*lines, "    end"]


def _edges(stack: str, document: Mapping[str, Any]) -> list[str]:
    tables: dict[str, list[str]] = {}
    for _, association in _resources(document, "aws_route_table_association"):
        (table,) = [n for t, n in _refs(association.get("route_table_id")) if t == "aws_route_table"]
        tables.setdefault(table, [])
        tables[table] += [n for t, n in _refs(association.get("subnet_id")) if t == "aws_subnet"]
    edges = set()
    for _, route in _resources(document, "aws_route"):
        target = _route_target(stack, document, route)
        destination = route.get("destination_cidr_block") or route.get("destination_prefix_list_id") or "?"
        for table in [n for t, n in _refs(route.get("route_table_id")) if t == "aws_route_table"]:
            for subnet in tables.get(table, []):
                if target:
                    edges.add(f"  {_id(stack, 'aws_subnet', subnet)} -->|{destination}| {target}")
    for name, endpoint in _resources(document, "aws_vpc_endpoint"):
        for table in [n for t, n in _refs(endpoint.get("route_table_ids")) if t == "aws_route_table"]:
            for subnet in tables.get(table, []):
                edges.add(
                    f"  {_id(stack, 'aws_subnet', subnet)} -.->|prefix list| {_id(stack, 'aws_vpc_endpoint', name)}"
                )
        if endpoint.get("vpc_endpoint_type") == "Interface":
            (vpc,) = [n for t, n in _refs(endpoint.get("vpc_id")) if t == "aws_vpc"]
            for subnet in [n for t, n in _refs(endpoint.get("subnet_ids")) if t == "aws_subnet"]:
                edges.add(f"  {_id(stack, 'aws_vpc', vpc)}__interface -.-|ENI| {_id(stack, 'aws_subnet', subnet)}")
    for name, firewall in _resources(document, "aws_networkfirewall_firewall"):
        for subnet in [n for t, n in _refs(firewall.get("subnet_mapping")) if t == "aws_subnet"]:
            edges.add(
                f"  {_id(stack, 'aws_networkfirewall_firewall', name)} -.-|endpoint| {_id(stack, 'aws_subnet', subnet)}"
            )
    return sorted(edges)


def network_diagram(package: str, stacks: Stacks) -> str | None:
    """PCI DSS 1.2.3 network diagram of ``package``; None when it has no VPC."""
    if not any(document.get("resource", {}).get("aws_vpc") for document in stacks.values()):
        return None
    lines = ["flowchart LR"]
    peering_lines: list[str] = []
    edges: list[str] = []
    for stack, document in sorted(stacks.items()):
        lines.append(f"  subgraph {_id(stack, 'stack', '')}[{_label('stack ' + stack)}]")
        for name, vpc in _resources(document, "aws_vpc"):
            lines += _vpc_lines(stack, document, name, vpc)
        lines.append("  end")
        for name, connection in _resources(document, "aws_vpc_peering_connection"):
            node = _id(stack, "aws_vpc_peering_connection", name)
            peering_lines.append(f"  {node}(({_label('VPC peering')}))")
            for key in ("vpc_id", "peer_vpc_id"):
                for type_, vpc_name in _refs(connection.get(key)):
                    if type_ == "aws_vpc":
                        edges.append(f"  {_id(stack, 'aws_vpc', vpc_name)} === {node}")
        edges += _edges(stack, document)
    return "\n".join([*lines, *peering_lines, *sorted(set(edges))]) + "\n"


def _document(title: str, requirement: str, body: str) -> str:
    return (
        f"# {title}\n\n"
        f"{requirement} Generated from the dev synthesis by `nox -s evidence`; do not edit by hand "
        "(a test fails when this file differs from what the generator writes).\n\n"
        f"```mermaid\n{body}```\n"
    )


def render_all(stacks_by_package: Mapping[str, Stacks]) -> dict[str, str]:
    """Repository-relative path -> Markdown with the Mermaid diagram, for every package that has one."""
    from platform_tooling.evidence.dataflow import account_data_flow

    found: dict[str, str] = {}
    for package, stacks in sorted(stacks_by_package.items()):
        network = network_diagram(package, stacks)
        if network is not None:
            found[f"{DIAGRAMS}/{package}/network.md"] = _document(
                f"Network diagram: {package}",
                "PCI DSS 1.2.3: VPCs, subnets, where their routes lead, endpoints, firewall and peering.",
                network,
            )
        flow = account_data_flow(stacks)
        if flow is not None:
            found[f"{DIAGRAMS}/{package}/account-data-flow.md"] = _document(
                f"Account-data flow: {package}",
                "PCI DSS 1.2.4: the resources that store or carry cardholder data (encrypted under a "
                "cardholder key), the triggers, event targets, deliveries and function environments that "
                "move data between them, and the KMS key of each. Writes a function makes only through its "
                "IAM grants are not drawn.",
                flow,
            )
    return found
