"""Echo handler of the reference example: returns the event's ``message``."""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    message = event.get("message") if isinstance(event, dict) else None
    if not isinstance(message, str):
        return {"statusCode": 400, "body": json.dumps({"error": "event.message must be a string"})}
    return {"statusCode": 200, "body": json.dumps({"message": message})}
