"""A small interpreter of the States Language subset the payment workflow uses, so that handler
tests run the synthesized definition (``payments_multiregion.workflow.definition``) against the
transaction handler in-process: Task (Lambda invoke, EventBridge PutEvents, SNS Publish), Choice
(``IsPresent``, ``BooleanEquals``), Pass, Succeed and Fail, with Retry, Catch, Parameters,
ResultPath and OutputPath. Anything else raises, so the definition cannot outgrow the tests quietly.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Integration = Callable[[dict[str, Any]], Any]


class StatesError(Exception):
    """An error a state raised, named as Step Functions names it (``Error``, ``Cause``)."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    """The result of :func:`run`: ``status`` SUCCEEDED or FAILED, the output or the error, and the
    states visited in order."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    path: list[str] = field(default_factory=list)


def get(data: Any, path: str) -> Any:
    """The value at a ``$``-path (``$``, ``$.a.b``); KeyError when absent."""
    value = data
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        value = value[part]
    return value


def _put(data: Any, path: str | None, value: Any) -> Any:
    if path is None:
        return data
    if path == "$":
        return value
    result = copy.deepcopy(data)
    parts = path.removeprefix("$.").split(".")
    target = result
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return result


def _parameters(template: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = get(context, value[1:]) if value.startswith("$$") else get(data, value)
            else:
                out[key] = _parameters(value, data, context)
        return out
    if isinstance(template, list):
        return [_parameters(v, data, context) for v in template]
    return template


def _matches(errors: list[str], error: str) -> bool:
    return "States.ALL" in errors or error in errors


def _task(state: dict[str, Any], data: Any, integrations: dict[str, Integration], context: dict[str, Any]) -> Any:
    resource = state["Resource"]
    if resource not in integrations:
        raise NotImplementedError(f"no integration for {resource}")
    arguments = _parameters(state.get("Parameters", {}), data, context)
    attempts = 0
    while True:
        try:
            return integrations[resource](arguments)
        except StatesError as exc:
            retry = next((r for r in state.get("Retry", []) if _matches(r["ErrorEquals"], exc.error)), None)
            attempts += 1
            if retry is None or attempts > retry.get("MaxAttempts", 3):
                raise


def _choose(state: dict[str, Any], data: Any) -> str:
    for rule in state["Choices"]:
        try:
            value = get(data, rule["Variable"])
            present = True
        except (KeyError, TypeError):
            value, present = None, False
        if "IsPresent" in rule and present is rule["IsPresent"]:
            return str(rule["Next"])
        if "BooleanEquals" in rule and present and value is rule["BooleanEquals"]:
            return str(rule["Next"])
    return str(state["Default"])


def _step(name: str, state: dict[str, Any], data: Any, integrations: dict[str, Integration]) -> tuple[Any, str | None]:
    """Run one non-terminal state: (new data, next state name)."""
    context = {"Execution": {"Id": f"arn:aws:states:local:execution:{name}"}}
    kind = state["Type"]
    if kind == "Choice":
        return data, _choose(state, data)
    if kind == "Pass":
        result = _parameters(state["Parameters"], data, context) if "Parameters" in state else state.get("Result", data)
        return _put(data, state.get("ResultPath", "$"), result), state.get("Next")
    if kind != "Task":
        raise NotImplementedError(f"state type {kind}")
    try:
        result = _task(state, data, integrations, context)
    except StatesError as exc:
        catch = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], exc.error)), None)
        if catch is None:
            raise
        error = {"Error": exc.error, "Cause": exc.cause}
        return _put(data, catch.get("ResultPath", "$"), error), catch["Next"]
    if "OutputPath" in state:
        result = get(result, state["OutputPath"])
    return _put(data, state.get("ResultPath", "$"), result), state.get("Next")


def run(definition: dict[str, Any], data: Any, integrations: dict[str, Integration]) -> Execution:
    """Execute ``definition`` on input ``data``; ``integrations`` maps a Task's Resource to a callable
    that takes the task's Parameters and returns its result or raises :class:`StatesError`."""
    name, path = definition["StartAt"], []
    for _ in range(100):
        path.append(name)
        state = definition["States"][name]
        if state["Type"] == "Succeed":
            return Execution("SUCCEEDED", output=get(data, state.get("OutputPath", "$")), path=path)
        if state["Type"] == "Fail":
            return Execution("FAILED", error=state.get("Error"), cause=state.get("Cause"), path=path)
        try:
            data, following = _step(name, state, data, integrations)
        except StatesError as exc:
            return Execution("FAILED", error=exc.error, cause=exc.cause, path=path)
        if following is None:
            return Execution("SUCCEEDED", output=data, path=path)
        name = following
    raise RuntimeError(f"execution did not end within 100 states: {path[-10:]}")


def lambda_integration(handler: Callable[[dict[str, Any], object], Any]) -> Integration:
    """``arn:aws:states:::lambda:invoke`` over an in-process handler: the Payload in, ``{"Payload": ...}``
    out; an exception becomes the error named by its class, with Lambda's JSON cause."""

    def invoke(arguments: dict[str, Any]) -> Any:
        try:
            payload = json.loads(json.dumps(arguments["Payload"]))
            return {"Payload": json.loads(json.dumps(handler(payload, None)))}
        except Exception as exc:  # every handler error becomes a States error, as in Lambda
            cause = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__})
            raise StatesError(type(exc).__name__, cause) from exc

    return invoke
