"""Fixtures for the ops tests (helpers in ops_helpers.py)."""

import signal
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection


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


@pytest.fixture
def scratch_postgres():
    """scratch_postgres(purpose) -> (url, admin, name): a PostgreSQL database of the
    test's own, dropped afterwards; admin(sql) runs SQL from the maintenance database."""
    params = connection.get_connection_params()
    created = []

    def admin(sql: str) -> None:
        with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
            conn.execute(sql)

    def create(purpose: str):
        # Named after the test database in use, so that suites run at the same time
        # (each with its own test database) never share a scratch database.
        name = f"{connection.settings_dict['NAME']}_{purpose}"[:63]
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin(f"CREATE DATABASE {name}")
        created.append(name)
        settings = connection.settings_dict
        url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{name}?application_name=h8-tests"
        )
        return url, admin, name

    yield create
    for name in created:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
