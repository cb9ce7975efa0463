"""The emulator server's request handling (:mod:`platform_tooling.testing.moto_requests`), in
process: timings, the server's log lines, requests sent again, one request per service."""

from __future__ import annotations

from typing import Any

import pytest
from platform_tooling.testing import moto_requests
from platform_tooling.testing.moto_requests import Timings


def test_busy_time_counts_overlapping_requests_once() -> None:
    timings = Timings()
    for started, ended in [(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]:
        timings.add("call", started, ended)
    summary = timings.summary()["call"]
    assert summary["handling_s"] == 5.0
    assert summary["busy_s"] == 4.0
    assert (summary["first"], summary["last"]) == (0.0, 6.0)


@pytest.mark.parametrize(
    ("status", "seconds", "logged"),
    [
        ("500 Internal Server Error", 0.0, True),
        ("200 OK", 0.0, False),
        ("200 OK", moto_requests.SLOW_S + 1, True),
        ("", 0.0, True),
    ],
    ids=["server-error", "quick", "slow", "no-answer"],
)
def test_server_errors_and_slow_requests_are_written_to_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: str, seconds: float, logged: bool
) -> None:
    clock = iter([100.0, 100.0 + seconds])
    monkeypatch.setattr(moto_requests.time, "time", lambda: next(clock))

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if not status:
            raise RuntimeError("the backend failed")  # the server answers 500 itself
        start_response(status, [])
        return [b"{}"]

    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/2015-03-31/functions",
        "HTTP_USER_AGENT": "Terraform platform-call/7",
    }
    app = moto_requests.timed(backend, Timings())
    if status:
        assert app(environ, lambda *args: None) == [b"{}"]
    else:
        with pytest.raises(RuntimeError):
            app(environ, lambda *args: None)
    written = capsys.readouterr().err
    assert ("POST 127.0.0.1:5000/2015-03-31/functions" in written and "(7)" in written) is logged
    assert (status in written) is logged


def test_a_dropped_connection_names_the_request_its_service_and_the_call() -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": "",
        "HTTP_USER_AGENT": "Terraform platform-call/12",
        **_signed("ec2"),
    }
    line = moto_requests.dropped_line(BrokenPipeError("pipe"), environ)
    assert "POST 127.0.0.1:5000/ [ec2]" in line
    assert "(12)" in line
    assert "BrokenPipeError" in line
    assert "(other)" in moto_requests.dropped_line(TimeoutError(), None)


def _signed(service: str) -> dict[str, Any]:
    credential = f"Credential=testing/20261201/us-east-1/{service}/aws4_request"
    return {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=0"}


def test_requests_to_one_service_are_handled_one_at_a_time_but_sqs_long_polls() -> None:
    import threading
    import time as clock

    lock = threading.Lock()
    inside: dict[str, int] = {}
    most: dict[str, int] = {}

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        service = environ["service"]
        with lock:
            inside[service] = inside.get(service, 0) + 1
            most[service] = max(most.get(service, 0), inside[service])
        clock.sleep(0.05)
        with lock:
            inside[service] -= 1
        return [b"ok"]

    app = moto_requests.serialized(backend)
    calls = [{**_signed(s), "service": s} for s in ["guardduty"] * 4 + ["sqs"] * 4 + ["ec2"] * 2]
    threads = [threading.Thread(target=lambda e=e: list(app(e, lambda *a: None))) for e in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most["guardduty"] == 1
    assert most["ec2"] == 1
    assert most["sqs"] > 1  # a long poll must not hold up the message it waits for


def _attempt(number: int, invocation: str = "inv-1") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1:5000",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": "AWSWAF_20190729.CreateWebACL",
        "HTTP_USER_AGENT": "Terraform platform-call/9",
        "HTTP_AMZ_SDK_INVOCATION_ID": invocation,
        "HTTP_AMZ_SDK_REQUEST": f"attempt={number}; max=4",
    }


def test_a_success_sent_again_gets_its_first_answer_and_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    handled: list[str] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        handled.append(environ["HTTP_AMZ_SDK_REQUEST"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [f'{{"made": {len(handled)}}}'.encode()]

    sent: list[str] = []
    app = moto_requests.timed(backend, Timings())
    assert app(_attempt(1), lambda status, headers: sent.append(status)) == [b'{"made": 1}']
    assert capsys.readouterr().err == ""  # a first attempt is not news
    assert app(_attempt(2), lambda status, headers: sent.append(status)) == [b'{"made": 1}']
    assert handled == ["attempt=1; max=4"]  # the work was not done twice
    assert sent == ["200 OK", "200 OK"]
    written = capsys.readouterr().err
    assert "attempt 2 of POST 127.0.0.1:5000/ AWSWAF_20190729.CreateWebACL (9)" in written
    assert "the attempt before: 200 OK (that answer sent again)" in written


def test_an_error_sent_again_is_handled_again_and_logged(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["400 Bad Request", "200 OK"])
    handled: list[str] = []

    def backend(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        handled.append(environ["HTTP_AMZ_SDK_REQUEST"])
        start_response(next(answers), [])
        return [b"{}"]

    app = moto_requests.timed(backend, Timings())
    app(_attempt(1), lambda *args: None)
    app(_attempt(2), lambda *args: None)
    assert handled == ["attempt=1; max=4", "attempt=2; max=4"]
    written = capsys.readouterr().err
    assert "the attempt before: 400 Bad Request" in written
    assert "sent again)" not in written
    attempts = moto_requests.Attempts()
    assert "never reached the server" in (attempts.started(_attempt(2, "inv-2"))[0] or "")
    assert moto_requests.Attempts.IN_PROGRESS in (attempts.started(_attempt(3, "inv-2"))[0] or "")


def test_a_large_success_is_not_kept(capsys: pytest.CaptureFixture[str]) -> None:
    attempts = moto_requests.Attempts()
    attempts.started(_attempt(1))
    big = b"x" * (moto_requests.Attempts.KEPT_BYTES + 1)
    attempts.answered(_attempt(1), moto_requests.Answer("200 OK", (), (big,)))
    line, replay = attempts.started(_attempt(2))
    assert replay is None
    assert "the attempt before: 200 OK" in (line or "")


def test_the_servers_own_lines_reach_the_runs_summary(tmp_path: Any) -> None:
    from platform_tooling.testing.emulator import server_lines

    log = tmp_path / "server.log"
    attempts = moto_requests.Attempts()
    first = _attempt(1, "i")
    attempts.started(first)
    attempts.answered(first, moto_requests.Answer("200 OK", (), (b"{}",)))
    again = attempts.started(_attempt(2, "i"))[0] or ""
    error = moto_requests._noted(_attempt(1, "j"), "", 0.2) or ""
    log.write_text(f"docker noise\n{again}\nTraceback (most recent call last):\n{error}\n" * 2)
    shown = server_lines(log)
    assert shown == [f"emulator: {line.removeprefix('platform: ')}" for line in (again, error, again, error)]
    assert [bool(moto_requests.SERVER_ERROR.match(line.removeprefix("emulator: "))) for line in shown] == [
        False,
        True,
        False,
        True,
    ]
    assert not moto_requests.SERVER_ERROR.match(moto_requests._noted(_attempt(1), "200 OK", 31.0) or "")
    limited = server_lines(log, limit=1)
    assert len(limited) == 2
    assert "3 more lines of the server" in limited[1]
    log.write_text("docker noise\n")
    assert server_lines(log) == []
