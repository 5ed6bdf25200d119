"""Request ids, and JSON log lines that carry them."""

import io
import json
import logging
import re
import subprocess

import pytest
from django.db import OperationalError, connection
from ops_helpers import SCHOOLGATE, command_env

from schoolgate.ops.logging import JsonFormatter

SIGN_IN = "/accounts/sign-in/"


@pytest.fixture
def log_lines():
    """What the configured console handler writes, as parsed JSON lines."""
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


def test_a_new_request_id_is_returned_when_none_came_in(client):
    response = client.get(SIGN_IN)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get(SIGN_IN)["X-Request-ID"] != response["X-Request-ID"]


@pytest.fixture
def behind_a_proxy(settings):
    settings.TRUSTED_PROXIES = 1


def test_the_proxys_request_id_is_kept(client, behind_a_proxy):
    response = client.get(SIGN_IN, headers={"x-request-id": "Root=1-67891233-abcdef012345"})
    assert response["X-Request-ID"] == "Root=1-67891233-abcdef012345"


@pytest.mark.parametrize(
    "incoming", ["two words", "forged\nlevel=ERROR", "x" * 300, '"quoted"', "ünïcode"]
)
def test_an_unsafe_request_id_is_replaced(client, incoming, behind_a_proxy):
    response = client.get(SIGN_IN, headers={"x-request-id": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_without_a_trusted_proxy_the_clients_request_id_is_not_believed(client, settings):
    settings.TRUSTED_PROXIES = 0
    response = client.get(SIGN_IN, headers={"x-request-id": "someone-elses-id"})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_each_request_logs_one_json_line_with_its_id_and_route_not_path(
    client, log_lines, behind_a_proxy
):
    client.get("/accounts/sign-in/", headers={"x-request-id": "lb-7f3a9c"})
    [line] = [line for line in log_lines() if line["logger"] == "schoolgate.request"]
    assert line["request_id"] == "lb-7f3a9c"
    assert line["level"] == "INFO"
    assert line["route"] == "accounts/sign-in/" and line["status"] == 200
    assert line["method"] == "GET" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_lines_written_during_a_request_carry_its_id(client, log_lines, behind_a_proxy):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        client.get(SIGN_IN, headers={"x-request-id": "req-42"})
    lines = log_lines()
    warning = next(line for line in lines if line["logger"] == "schoolgate.errors")
    assert warning["request_id"] == "req-42"
    assert "Database unavailable (OperationalError)" in warning["message"]
    assert all(line.get("request_id") == "req-42" for line in lines)


def test_lines_outside_requests_have_no_request_id(log_lines):
    logging.getLogger("schoolgate.test").warning("nightly job done", extra={"count": 3})
    [line] = log_lines()
    assert line["message"] == "nightly job done" and line["count"] == 3
    assert "request_id" not in line


def test_exceptions_are_one_json_line(log_lines):
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("schoolgate.test").exception("it failed")
    [line] = log_lines()
    assert "ValueError: bad value" in line["exception"]


@pytest.mark.parametrize(("debug", "json_lines"), [("1", False), ("0", True)])
def test_console_format_is_text_when_debugging_and_json_otherwise(tmp_path, debug, json_lines):
    done = subprocess.run(
        [*SCHOOLGATE, "shell", "-c", "import logging; logging.getLogger('x').warning('hello')"],
        env=command_env(tmp_path, DEBUG=debug),
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = [line for line in done.stderr.splitlines() if "hello" in line]
    if json_lines:
        assert json.loads(line)["message"] == "hello"
    else:
        assert re.fullmatch(r"\S+ \S+ WARNING x \[-\] hello", line)
