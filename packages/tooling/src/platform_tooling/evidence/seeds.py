"""The requirement ids the seed documents define, read from the documents themselves.

A register that misses one of these ids is incomplete. The rules (see the register's header):
``<DOC>-<n>`` for each numbered item, ``<DOC>-C<n>`` for each bullet of the document's constraint
section, ``<DOC>-D<n>`` for each bullet of its own deployment section, and ``DEP-<n>`` for each
subsection of the deployment boilerplate shared by two documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NUMBERED = re.compile(r"^(\d+)\. ")
INLINE_NUMBERED = re.compile(r"(?<![\d.])(\d+)\. [A-Z]")
BULLET = re.compile(r"^- ")
HEADING = re.compile(r"^(#+) (.*)$")


@dataclass(frozen=True)
class Seed:
    """One requirement document: its id prefix and the headings of its sections."""

    prefix: str
    file: str
    constraints: tuple[str, ...] = ()
    """Headings whose top-level bullets are ``<prefix>-C<n>``, numbered across them in order."""
    deployment: str = ""
    """Heading whose top-level bullets are ``<prefix>-D<n>``."""
    shared_deployment: bool = False
    """Carries the shared boilerplate: each subsection under "Deployment Requirements (CRITICAL)"
    with bullets is ``DEP-<n>``."""


SEEDS: tuple[Seed, ...] = (
    Seed("PAY", "payments-multiregion.md", constraints=("Constraints and Requirements",), shared_deployment=True),
    Seed(
        "SEC",
        "payment-platform-security.md",
        constraints=("Constraints",),
        deployment="Deployment Requirements (CRITICAL)",
    ),
    Seed("DR", "financial-dr-multiregion-ts.md", constraints=("Key Features Implemented",)),
    Seed("PEER", "cross-account-vpc-peering.md", constraints=("Constraints and Requirements",), shared_deployment=True),
    Seed("PCI", "pci-data-processing.md", constraints=("Constraints",)),
)
SHARED_DEPLOYMENT = "Deployment Requirements (CRITICAL)"


def _sections(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """(level, title, body lines) of every heading, in order; the body stops at the next heading."""
    found: list[tuple[int, str, list[str]]] = [(0, "", [])]
    for line in lines:
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2).strip(), []))
        else:
            found[-1][2].append(line)
    return found


def _under(sections: list[tuple[int, str, list[str]]], title: str) -> list[tuple[int, str, list[str]]]:
    """The section titled ``title`` (ending in it, e.g. after an emoji) and its subsections."""
    for index, (level, name, _) in enumerate(sections):
        if name == title or name.endswith(" " + title):
            rest = [sections[index]]
            for later in sections[index + 1 :]:
                if later[0] <= level:
                    break
                rest.append(later)
            return rest
    raise ValueError(f"no section {title!r}")


def _bullets(sections: list[tuple[int, str, list[str]]]) -> int:
    return sum(1 for _, _, body in sections for line in body if BULLET.match(line))


def numbered(text: str) -> list[int]:
    """Numbers of the document's numbered items: lines starting ``n. `` or, for a document that
    lists them in one paragraph, ``n. `` followed by a capital inside its "must:" sentence."""
    found = [int(m.group(1)) for line in text.splitlines() if (m := NUMBERED.match(line))]
    if found:
        return found
    for line in text.splitlines():
        if "must: 1. " in line:
            return [int(m.group(1)) for m in INLINE_NUMBERED.finditer(line)]
    return []


def seed_ids(folder: Path) -> tuple[list[str], list[str]]:
    """Every id the seeds in ``folder`` define, and the shared-deployment subsection titles."""
    ids: list[str] = []
    shared: list[list[str]] = []
    for seed in SEEDS:
        text = (folder / seed.file).read_text(encoding="utf-8")
        items = numbered(text)
        if items != list(range(1, len(items) + 1)):
            raise ValueError(f"{seed.file}: numbered items are not 1..n: {items}")
        ids += [f"{seed.prefix}-{n}" for n in items]
        sections = _sections(text.splitlines())
        count = sum(_bullets(_under(sections, title)) for title in seed.constraints)
        ids += [f"{seed.prefix}-C{n}" for n in range(1, count + 1)]
        if seed.deployment:
            count = _bullets(_under(sections, seed.deployment))
            ids += [f"{seed.prefix}-D{n}" for n in range(1, count + 1)]
        if seed.shared_deployment:
            parts = _under(sections, SHARED_DEPLOYMENT)[1:]
            shared.append([title for _, title, body in parts if any(BULLET.match(line) for line in body)])
    if not shared or any(titles != shared[0] for titles in shared):
        raise ValueError(f"the shared deployment sections differ between documents: {shared}")
    ids += [f"DEP-{n}" for n in range(1, len(shared[0]) + 1)]
    return ids, shared[0]
