"""The acquirer seen from the payments workflow: authorize and void. A stand-in that applies the
region's authorization limit; a real acquirer client replaces these two functions and keeps their
contract.

Contract: ``authorize`` returns the decision (a decline is an answer, not an error) and, when
approved, a new authorization id; ``reference`` is the payment id, which acquirers that support
idempotency references use to answer a repeated authorization with the first one. This stand-in
does not: it issues a new id on every call, the worst case the duplicate handling must survive.
``void`` releases an authorization and is idempotent (voiding twice is voiding once).
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import Any

from payments_contract import AMOUNT_OVER_LIMIT, APPROVED


def authorize(amount: str, currency: str, reference: str) -> dict[str, Any]:
    """Approve up to ``MAX_AMOUNT`` (default 1000000); decline above it with a reason code."""
    limit = Decimal(os.environ.get("MAX_AMOUNT", "1000000"))
    if Decimal(amount) > limit:
        return {"approved": False, "reason_code": AMOUNT_OVER_LIMIT, "reference": reference}
    return {
        "approved": True,
        "reason_code": APPROVED,
        "authorization_id": f"auth_{uuid.uuid4().hex}",
        "reference": reference,
        "currency": currency,
    }


def void(authorization_id: str, reference: str) -> dict[str, Any]:
    """Release ``authorization_id`` (idempotent)."""
    return {"authorization_id": authorization_id, "reference": reference, "voided": True}
