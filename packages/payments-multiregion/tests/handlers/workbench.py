"""The payment path wired in-process for handler tests: the API front (intake) starting the
synthesized workflow definition, run by :mod:`asl` over the transaction handler and moto."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from payments_multiregion.workflow import definition

from . import asl
from .conftest import BUS, TABLE


@dataclass
class Workbench:
    """What one test's payments did: executions started, events, alerts, acquirer calls."""

    aws: dict[str, Any]
    intake: ModuleType
    transaction: ModuleType
    executions: list[asl.Execution] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    voids: list[dict[str, Any]] = field(default_factory=list)
    notify_fails: bool = False

    def post(self, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``POST /payments`` through API Gateway's proxy event: (status, body, headers)."""
        raw = body if isinstance(body, str) else json.dumps(body)
        answer = self.intake.handler({"httpMethod": "POST", "path": "/payments", "body": raw}, None)
        return answer["statusCode"], json.loads(answer["body"]), answer["headers"]

    def get(self, payment_id: str) -> tuple[int, dict[str, Any]]:
        """``GET /payments/{payment_id}``."""
        event = {"httpMethod": "GET", "path": f"/payments/{payment_id}", "pathParameters": {"payment_id": payment_id}}
        answer = self.intake.handler(event, None)
        return answer["statusCode"], json.loads(answer["body"])

    def item(self, payment_id: str) -> dict[str, Any]:
        found = self.aws["dynamodb"].get_item(TableName=TABLE, Key={"idempotency_key": {"S": payment_id}})
        item: dict[str, Any] = found["Item"]
        return item

    def run(self, kwargs: dict[str, Any], workflow_type: str) -> asl.Execution:
        self.names.append(kwargs["name"])
        bus = os.environ.get("EVENT_BUS_NAME", BUS)
        document = definition("arn:aws:lambda:us-east-1:123456789012:function:tx", bus, "arn:topic", workflow_type)
        execution = asl.run(
            document,
            json.loads(kwargs["input"]),
            {
                "arn:aws:states:::lambda:invoke": asl.lambda_integration(self.transaction.handler),
                "arn:aws:states:::events:putEvents": self._put_events,
                "arn:aws:states:::sns:publish": self._publish,
            },
        )
        self.executions.append(execution)
        return execution

    def _put_events(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.notify_fails:
            raise asl.StatesError("EventBridge.EventBridgeException", "injected")
        entries = [{**e, "Detail": json.dumps(e["Detail"])} for e in arguments["Entries"]]
        self.events.extend(entries)
        answer: dict[str, Any] = self.aws["events"].put_events(Entries=entries)
        return answer

    def _publish(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self.alerts.append(arguments)
        return {"MessageId": "1"}


def workbench(
    aws: dict[str, Any], intake: ModuleType, transaction: ModuleType, monkeypatch: pytest.MonkeyPatch, workflow: str
) -> Workbench:
    """Wire ``intake``'s Step Functions client to the in-process workflow of type ``workflow``."""
    bench = Workbench(aws, intake, transaction)
    monkeypatch.setenv("WORKFLOW_TYPE", workflow)
    real_authorize, real_void = transaction.acquirer.authorize, transaction.acquirer.void

    def authorize(*args: Any) -> dict[str, Any]:
        decision: dict[str, Any] = real_authorize(*args)
        bench.authorizations.append(decision)
        return decision

    def void(*args: Any) -> dict[str, Any]:
        voided: dict[str, Any] = real_void(*args)
        bench.voids.append(voided)
        return voided

    monkeypatch.setattr(transaction.acquirer, "authorize", authorize)
    monkeypatch.setattr(transaction.acquirer, "void", void)

    def start_sync_execution(**kwargs: Any) -> dict[str, Any]:
        execution = bench.run(kwargs, "EXPRESS")
        if execution.status == "SUCCEEDED":
            return {"status": "SUCCEEDED", "output": json.dumps(execution.output)}
        return {"status": "FAILED", "error": execution.error, "cause": execution.cause}

    started: set[str] = set()

    def start_execution(**kwargs: Any) -> dict[str, Any]:
        if kwargs["name"] in started:
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": "x"}}, "StartExecution")
        started.add(kwargs["name"])
        bench.run(kwargs, "STANDARD")
        return {"executionArn": f"arn:execution:{kwargs['name']}"}

    monkeypatch.setattr(intake._states, "start_sync_execution", start_sync_execution)
    monkeypatch.setattr(intake._states, "start_execution", start_execution)
    return bench
