"""Helpers for tests that run Schoolgate's commands as real processes."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SCHOOLGATE = [sys.executable, "-m", "schoolgate"]
SECRET = "h8-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command_env(data_dir: Path, **extra: str) -> dict:
    """A production-like environment of its own: no DEBUG, a secret key, its own data."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "SCHOOLGATE_DATA_DIR": str(data_dir),
        "SECRET_KEY": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def get(url: str, *, timeout: float = 5.0, headers: dict | None = None):
    """(status, headers, body) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def wait_for_health(base: str, *, process: subprocess.Popen, seconds: float = 60.0) -> dict:
    """Poll /healthz until it answers 200; the report."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited early with {process.returncode}"
        try:
            status, _, body = get(f"{base}/healthz", timeout=2)
        except OSError as error:
            last = error
        else:
            last = body
            if status == 200:
                return json.loads(body)
        time.sleep(0.25)
    raise AssertionError(f"/healthz did not become healthy in {seconds} s: {last}")


def migrate(env: dict) -> None:
    subprocess.run([*SCHOOLGATE, "migrate", "-v0"], env=env, check=True, capture_output=True)
