"""The emulator server's request handling around moto: timings, retries, one request per service.

:func:`timed` times every request by the ``platform-call/<id>`` tag Terraform appends to its
User-Agent (``TF_APPEND_USER_AGENT``) and answers ``GET /platform/timings``. A request answered
with a server error (or not at all), handled for longer than :data:`SLOW_S`, or whose client
dropped the connection before the answer (:func:`dropped_line`) is written to the server's log,
every line starting with :data:`LINE_PREFIX`. A request the SDK sends again (``amz-sdk-request:
attempt=2`` or later) is written there too, with the answer its earlier attempt got; an answer
the client never read (a success sent again) is sent again instead of doing the work twice
(:class:`Attempts`). :func:`serialized` handles one signed request per service at a time.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CALL_TAG = re.compile(r"platform-call/([\w.-]+)")
"""The tag of the harness's Terraform call in a request's User-Agent."""
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
UNSERIALIZED = frozenset({"sqs"})
"""Services whose requests may wait inside the server (SQS long polls): never serialized."""


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
    match = CALL_TAG.search(str(found.get("HTTP_USER_AGENT", "")))
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
