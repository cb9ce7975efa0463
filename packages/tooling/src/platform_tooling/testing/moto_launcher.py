"""The emulator's server process: moto on 127.0.0.1, made as strict as AWS on what we send.

``python -m platform_tooling.testing.moto_launcher --port-file FILE`` binds a free port, writes
it to ``FILE`` and serves until terminated. It runs apart from the test process, so the
emulator's request handling never shares an interpreter lock with pytest or the harness.
Before serving it registers what the platform adds to moto:

- answers for the calls moto lacks, and what moto drops and AWS returns (:mod:`.moto_answers`);
- CreateRole validates the trust policy as IAM does (moto's ``IAMTrustPolicyDocumentValidator``,
  which moto itself calls only from UpdateAssumeRolePolicy); identity policies are validated by
  moto on CreatePolicy, CreatePolicyVersion and PutRolePolicy;
- IAM enforcement: moto's own switch (``POST /moto-api/reset-auth`` with ``0`` turns it on,
  ``inf`` off) authorizes every request signed with other credentials than the operator's
  (:data:`OPERATOR_ACCESS_KEY`, which Terraform and the harness use as the account's
  administrator, and sessions it assumes as :data:`OPERATOR_SESSION` to act in another account)
  against the caller's identity policies. Terraform's requests (their User-Agent carries the
  ``platform-call/<id>`` tag of the harness's Terraform calls) act as the operator, in whatever
  account its providers assume a role in, so that packages deploy and are destroyed while
  other packages' tests run as their deployed roles. Where moto does not work out the
  resource a request acts on (most services), a statement is judged by its action alone; an
  Allow with a condition counts as allowing and a Deny with one as not applying, since moto
  passes no request context to evaluate it. Resource and key policies are not evaluated;
- one signed request per service at a time, SQS apart (:func:`serialized`): moto's backends
  are not thread-safe;
- timings: each request's handling time, grouped by the ``platform-call/<id>`` tag Terraform
  appends to its User-Agent (``TF_APPEND_USER_AGENT``); ``GET /platform/timings`` answers them.
  A request answered with a server error (or not at all), handled for longer than
  :data:`SLOW_S`, or whose client dropped the connection before the answer, is written to the
  server's log: the provider may send it again, and a create sent again meets what the first
  attempt made. A request the SDK sends again (``amz-sdk-request: attempt=2`` or later) is
  written there too, with the answer its earlier attempt got; an answer the client never read
  (a success sent again) is sent again instead of doing the work twice (:class:`Attempts`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tooling.testing import moto_answers

OPERATOR_ACCESS_KEY = "testing"
"""The access key of the operator (Terraform, harness set-up and checks): never authorized."""

_CALL_TAG = re.compile(r"platform-call/([\w.-]+)")
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
UNSERIALIZED = frozenset({"sqs"})
"""Services whose requests may wait inside the server (SQS long polls): never serialized."""
OPERATOR_SESSION = "platform-operator"
"""The role session name of the operator acting in another account (through its deployment role)."""

_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
"""moto names an action by the request's signing name; IAM by the service prefix where they differ."""
_IAM_ACTION = {"s3:HeadBucket": "s3:ListBucket"}
"""moto's S3 operation names that are not the IAM action authorizing the operation."""
_PUBLIC_ACCESS_BLOCK = {
    "GET": "GetBucketPublicAccessBlock",
    "PUT": "PutBucketPublicAccessBlock",
    "DELETE": "PutBucketPublicAccessBlock",
}
"""IAM's actions for a bucket's public access block (moto misses the ``publicAccessBlock`` query
and authorizes these requests as ListBucket, CreateBucket and DeleteBucket)."""


def _is_operator(access_key: str, account: str) -> bool:
    """The operator's key, or credentials the operator got from AssumeRole (another account)."""
    if access_key == OPERATOR_ACCESS_KEY:
        return True
    from moto.sts.models import sts_backends

    sessions = sts_backends[account]["aws"].assumed_roles
    return any(s.access_key_id == access_key and s.session_name == OPERATOR_SESSION for s in sessions)


def _validate_trust_policies_on_create() -> None:
    """CreateRole refuses a trust policy IAM would refuse (``Resource``, missing ``Principal``...).

    Service-linked roles moto creates for itself (``linked_service``) carry its own documents.
    """
    from moto.iam.exceptions import MalformedPolicyDocument
    from moto.iam.models import IAMBackend
    from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

    create_role = IAMBackend.create_role

    def validated(self: Any, role_name: str, assume_role_policy_document: str, *args: Any, **kwargs: Any) -> Any:
        linked = kwargs.get("linked_service") or (args[6] if len(args) > 6 else None)
        if not linked:
            IAMTrustPolicyDocumentValidator(assume_role_policy_document).validate()
            # moto's validator lets a statement without a principal through; IAM does not.
            statements = json.loads(assume_role_policy_document).get("Statement", [])
            for statement in statements if isinstance(statements, list) else [statements]:
                if "Principal" not in statement and "NotPrincipal" not in statement:
                    raise MalformedPolicyDocument("Missing required field Principal")
        return create_role(self, role_name, assume_role_policy_document, *args, **kwargs)

    IAMBackend.create_role = validated  # type: ignore[method-assign]


def _elements(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _enforce_for_callers_only() -> None:
    """Authorize requests of other credentials than the operator's, statement by statement."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult
    from moto.s3.responses import S3Response

    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def operator_exempt(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if _CALL_TAG.search(str(self.headers.get("User-Agent", ""))):
            return  # Terraform, run by the harness as the operator (in any account it assumes a role in)
        match = _CREDENTIAL.search(str(self.headers.get("Authorization", "")))
        if match and _is_operator(match.group(1), str(self.current_account)):
            return
        authorize(self, iam_request_cls, resource)

    statement_permits = IAMPolicyStatement.is_action_permitted

    def judged(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        if principal is not None:  # a trust policy judging sts:AssumeRole: moto's own evaluation
            return statement_permits(self, action, resource, principal, incoming_condition_values)
        statement = self._statement
        if "NotAction" in statement:
            concerned = not self._check_element_matches("NotAction", action)
        else:
            concerned = self._check_element_matches("Action", action)
        allow = statement.get("Effect") == "Allow"
        if not concerned or ("Condition" in statement and not allow):
            return PermissionResult.NEUTRAL
        if resource == "*":  # moto did not work out the resource of this request
            covers = allow or "*" in _elements(statement.get("Resource"))
        elif "NotResource" in statement:
            covers = not self._check_element_matches("NotResource", resource)
        else:
            covers = self._check_element_matches("Resource", resource)
        if not covers:
            return PermissionResult.NEUTRAL
        return PermissionResult.PERMITTED if allow else PermissionResult.DENIED

    request_init = IAMRequestBase.__init__

    def iam_action(self: Any, *args: Any, **kwargs: Any) -> None:
        request_init(self, *args, **kwargs)
        prefix, _, name = self._action.partition(":")
        action = f"{_IAM_PREFIX.get(prefix, prefix)}:{name}"
        self._action = _IAM_ACTION.get(action, action)

    IAMRequestBase.__init__ = iam_action  # type: ignore[method-assign]
    set_action = S3Response._set_action

    def s3_action(self: Any, action_resource_type: str, method: str, querystring: dict[str, Any]) -> None:
        set_action(self, action_resource_type, method, querystring)
        if action_resource_type == "BUCKET" and "publicAccessBlock" in querystring and method in _PUBLIC_ACCESS_BLOCK:
            self.data["Action"] = _PUBLIC_ACCESS_BLOCK[method]

    S3Response._set_action = s3_action  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_action = operator_exempt  # type: ignore[method-assign]
    IAMPolicyStatement.is_action_permitted = judged  # type: ignore[method-assign]


class Timings:
    """Per Terraform call: requests, summed and overlapping handling time, first and last request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, list[tuple[float, float]]] = {}

    def add(self, call: str, started: float, ended: float) -> None:
        with self._lock:
            self._calls.setdefault(call, []).append((started, ended))

    @staticmethod
    def _busy(intervals: Iterable[tuple[float, float]]) -> float:
        busy, reach = 0.0, float("-inf")
        for start, end in sorted(intervals):
            if end > reach:
                busy += end - max(start, reach)
                reach = end
        return busy

    def summary(self) -> dict[str, dict[str, float]]:
        with self._lock:
            calls = {name: list(items) for name, items in self._calls.items()}
        return {
            name: {
                "requests": len(items),
                "handling_s": sum(end - start for start, end in items),
                "busy_s": self._busy(items),
                "first": min(start for start, _ in items),
                "last": max(end for _, end in items),
            }
            for name, items in calls.items()
        }


@dataclass(frozen=True)
class Answer:
    """What the server answered one attempt: status, headers and, for a success of at most
    :attr:`Attempts.KEPT_BYTES`, the body (kept to be sent again)."""

    status: str
    headers: tuple[tuple[str, str], ...] = ()
    body: tuple[bytes, ...] | None = None


class Attempts:
    """The latest answer to each SDK invocation (``amz-sdk-invocation-id``, the same on every
    attempt of one call), so that a request sent again can say what its earlier attempt got: an
    error it retries, nothing (the earlier attempt never reached the server), or a success.

    A success sent again is an answer the client never read. The server closes the connection
    after every answer (werkzeug's development server); a fresh clone's log showed reads sent
    again after a 200, and earlier ones failed on a create and a delete that met their own work
    (a WAF web ACL "duplicate", a network ACL entry gone). AWS would not have lost that answer,
    so the emulator sends the kept answer again instead of doing the work twice
    (:meth:`started`)."""

    IN_PROGRESS = "still being handled"
    KEPT_BYTES = 1 << 20

    def __init__(self, size: int = 4096) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._answers: dict[str, Answer] = {}

    def started(self, environ: dict[str, Any]) -> tuple[str | None, Answer | None]:
        """Note the request's invocation as being handled. For a request sent again (attempt 2 or
        later): the server-log line, and the earlier attempt's answer when it is to be sent again
        (a success that was kept); else ``(None, None)``."""
        invocation = str(environ.get("HTTP_AMZ_SDK_INVOCATION_ID", ""))
        if not invocation:
            return None, None
        match = _ATTEMPT.search(str(environ.get("HTTP_AMZ_SDK_REQUEST", "")))
        with self._lock:
            earlier = self._answers.pop(invocation, None)
            replay = earlier if earlier is not None and earlier.body is not None else None
            self._answers[invocation] = replay or Answer(self.IN_PROGRESS)
            while len(self._answers) > self._size:
                del self._answers[next(iter(self._answers))]
        if match is None or int(match.group(1)) < 2:
            return None, None
        where, call = _request(environ)
        before = earlier.status if earlier is not None else "never reached the server"
        line = f"{ATTEMPT_LINE}{match.group(1)} of {where} ({call}); the attempt before: {before}"
        return (f"{line} (that answer sent again)" if replay else line), replay

    def answered(self, environ: dict[str, Any], answer: Answer) -> None:
        """Keep ``answer`` for the request's invocation (its body only for a success, at most
        :attr:`KEPT_BYTES`)."""
        invocation = str(environ.get("HTTP_AMZ_SDK_INVOCATION_ID", ""))
        if not invocation:
            return
        body = answer.body
        if body is not None and (not answer.status.startswith("2") or sum(map(len, body)) > self.KEPT_BYTES):
            body = None
        with self._lock:
            if invocation in self._answers:
                self._answers[invocation] = Answer(answer.status or "no answer", answer.headers, body)


_ATTEMPT = re.compile(r"attempt=(\d+)")
LINE_PREFIX = "platform: "
"""How every line the platform adds to the server's log starts."""
ATTEMPT_LINE = f"{LINE_PREFIX}attempt "
"""How the server's log line for a request sent again starts."""
SERVER_ERROR = re.compile(r"(?:platform: )?(?:5\d\d\b|no answer after)")
"""A server-log line (with or without :data:`LINE_PREFIX`) for a request answered with a server
error or not at all (:func:`_noted`)."""

SLOW_S = 30.0
"""A request handled for longer than this is written to the server's log (:func:`timed`)."""


def _request(environ: dict[str, Any] | None) -> tuple[str, str]:
    """A request as the server's log names it (method, host, path, target and signing service),
    and its Terraform call."""
    found = environ or {}
    match = _CALL_TAG.search(str(found.get("HTTP_USER_AGENT", "")))
    where = f"{found.get('REQUEST_METHOD', '')} {found.get('HTTP_HOST', '')}{found.get('PATH_INFO', '')}"
    target = found.get("HTTP_X_AMZ_TARGET", "")
    service = _SERVICE.search(str(found.get("HTTP_AUTHORIZATION", "")))
    named = f"{where} {target}".strip()
    return (f"{named} [{service.group(1)}]" if service else named), match.group(1) if match else "other"


def _noted(environ: dict[str, Any], status: str, seconds: float) -> str | None:
    """The server-log line for a request answered with a server error (or not at all, the backend
    having raised) or handled slowly; nothing for any other."""
    if status and not status.startswith("5") and seconds <= SLOW_S:
        return None
    where, call = _request(environ)
    return f"platform: {status or 'no answer'} after {seconds:.1f} s: {where} ({call})"


def dropped_line(error: BaseException, environ: dict[str, Any] | None) -> str:
    """The server-log line for a request whose client went away before its answer was written."""
    where, call = _request(environ)
    return f"platform: connection dropped ({type(error).__name__}: {error}): {where} ({call})"


def timed(
    app: Callable[..., Iterable[bytes]], timings: Timings, attempts: Attempts | None = None
) -> Callable[..., Iterable[bytes]]:
    """The WSGI application ``app``, timing every request and answering ``GET /platform/timings``;
    server errors, requests left unanswered, slow ones and requests sent again are written to
    stderr (the server's log)."""
    attempts = attempts if attempts is not None else Attempts()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/platform/timings":
            body = json.dumps(timings.summary()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        _, call = _request(environ)
        answered: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        again, replay = attempts.started(environ)
        if again:
            print(again, file=sys.stderr, flush=True)
        if replay is not None and replay.body is not None:
            start_response(replay.status, list(replay.headers))
            return list(replay.body)

        def recording(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            answered.append((status, tuple(headers)))
            return start_response(status, headers, *args)

        started = time.time()
        chunks: list[bytes] | None = None
        try:
            chunks = list(app(environ, recording))  # handled here, inside the timed span
            return chunks
        finally:
            ended = time.time()
            timings.add(call, started, ended)
            status, headers = answered[-1] if answered else ("", ())
            attempts.answered(environ, Answer(status, headers, tuple(chunks) if chunks is not None else None))
            line = _noted(environ, status, ended - started)
            if line:
                print(line, file=sys.stderr, flush=True)

    return application


def serialized(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI application ``app`` handling one signed request per service at a time (but for
    :data:`UNSERIALIZED`). moto's backends are not thread-safe: two requests changing the same
    resource at once lose one change (two GuardDuty detector features updated together left one
    unset). The interpreter lock runs one request's Python at a time anyway."""
    locks: dict[str, threading.Lock] = {}
    guard = threading.Lock()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _SERVICE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        if match is None or match.group(1) in UNSERIALIZED:
            return app(environ, start_response)
        with guard:
            lock = locks.setdefault(match.group(1), threading.Lock())
        with lock:
            return list(app(environ, start_response))

    return application


def serve(port_file: Path) -> None:
    """Register the platform's additions, bind a free port, write it to ``port_file``, serve."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    moto_answers.register()
    _validate_trust_policies_on_create()
    _enforce_for_callers_only()
    app = serialized(timed(DomainDispatcherApplication(create_backend_app), Timings()))

    class Handler(MotoRequestHandler):
        def connection_dropped(self, error: BaseException, environ: dict[str, Any] | None = None) -> None:
            print(dropped_line(error, environ), file=sys.stderr, flush=True)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
    staging = port_file.with_suffix(".tmp")
    staging.write_text(str(server.server_address[1]))
    staging.replace(port_file)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m platform_tooling.testing.moto_launcher")
    parser.add_argument("--port-file", type=Path, required=True, help="where to write the bound port")
    serve(parser.parse_args().port_file)


if __name__ == "__main__":
    main()
