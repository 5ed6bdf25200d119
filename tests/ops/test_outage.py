"""A running web server whose database goes away answers with the friendly 503 page,
and serves again by itself once the database is back: no restart of Schoolgate."""

import json
import time

import pytest
from django.db import connection
from ops_helpers import SCHOOLGATE, command_env, free_port, get, migrate

SIGN_IN = "/accounts/sign-in/"


def start_web(*, env, tmp_path, run_process) -> str:
    port = free_port()
    process = run_process(
        [*SCHOOLGATE, "web", "--port", str(port), "--workers", "1"],
        env=env,
        log=tmp_path / "web.log",
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "web.log").read_text()
        try:
            if get(f"{base}{SIGN_IN}", timeout=2)[0] == 200:
                return base
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the web server did not start")


def assert_unavailable(base: str) -> None:
    status, headers, body = get(f"{base}{SIGN_IN}")
    assert status == 503
    assert "Sorry, the service is unavailable" in body and "Traceback" not in body
    assert headers["Retry-After"] == "30"
    status, _, body = get(f"{base}/healthz")
    assert status == 503
    assert json.loads(body)["checks"]["database"]["ok"] is False


def assert_serving(base: str) -> None:
    assert get(f"{base}{SIGN_IN}")[0] == 200
    status, _, body = get(f"{base}/healthz?checks=database,migrations")
    assert status == 200, body


@pytest.mark.skipif(connection.vendor != "sqlite", reason="run with the SQLite suite")
def test_sqlite_file_unreachable_then_back(tmp_path, run_process):
    database_dir = tmp_path / "db"
    database_dir.mkdir()
    env = command_env(tmp_path / "data", DATABASE_URL=f"sqlite:///{database_dir}/site.sqlite3")
    migrate(env)
    base = start_web(env=env, tmp_path=tmp_path, run_process=run_process)

    database_dir.rename(tmp_path / "db-away")  # the disk is gone
    assert_unavailable(base)
    (tmp_path / "db-away").rename(database_dir)
    assert_serving(base)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgresql_refusing_connections_then_back(tmp_path, run_process, scratch_postgres):
    url, admin, name = scratch_postgres("outage")
    # Persistent connections: recovery rests on CONN_HEALTH_CHECKS, not on reconnecting.
    env = command_env(tmp_path / "data", DATABASE_URL=url, DB_CONN_MAX_AGE="600")
    migrate(env)
    base = start_web(env=env, tmp_path=tmp_path, run_process=run_process)

    # As in a restart: every connection is cut and no new one is let in for a while.
    admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    assert_unavailable(base)
    admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert_serving(base)
