"""Fixtures for the ops tests (helpers in ops_helpers.py)."""

import signal
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def run_process():
    """Start processes (with their output in a file); any left are killed at the end."""
    started = []

    def start(args, *, env, log: Path):
        handle = open(log, "wb")  # noqa: SIM115 - closed at teardown
        process = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
        started.append((process, handle))
        return process

    yield start
    for process, handle in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        handle.close()
