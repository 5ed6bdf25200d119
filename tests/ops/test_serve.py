"""`schoolgate serve`: one supervised group that starts, restarts and stops cleanly.

These run the real command in a process of its own, on SQLite in a temporary folder."""

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection
from ops_helpers import SCHOOLGATE, command_env, free_port, get, migrate, wait_for_health


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` (children, grandchildren ...): pid -> command line."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: the fields follow the last ')'.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        commands[int(entry.name)] = command.strip()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, *, seconds: float, message: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message)


# What does not depend on the database runs with the SQLite suite only.
sqlite_suite = pytest.mark.skipif(connection.vendor != "sqlite", reason="run on SQLite")


@pytest.fixture
def serve(tmp_path, run_process):
    """Start `schoolgate serve` on a free port; returns (process, base URL, log path)."""

    def start(*args, **env):
        port = free_port()
        log = tmp_path / "serve.log"
        process = run_process(
            [*SCHOOLGATE, "serve", "--port", str(port), *args],
            env=command_env(tmp_path / "data", **env),
            log=log,
        )
        return process, f"http://127.0.0.1:{port}", log

    return start


def test_serve_starts_everything_and_stops_cleanly_on_sigterm(serve, scratch_postgres):
    # On the PostgreSQL suite, serve runs on a PostgreSQL database of its own.
    env = {}
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = scratch_postgres("serve")[0]
    process, base, log = serve("--workers", "2", "--task-workers", "2", **env)
    report = wait_for_health(base, process=process)
    # Healthy means a worker ran a heartbeat task the scheduler enqueued.
    assert report["checks"]["worker"]["ok"] and report["checks"]["scheduler"]["ok"]
    status, headers, body = get(f"{base}/accounts/sign-in/")
    assert status == 200 and headers["X-Request-ID"]

    family = descendants(process.pid)
    commands = list(family.values())
    assert sum(" web " in c for c in commands) == 3  # gunicorn's master and 2 workers
    assert sum(c.endswith(" worker") for c in commands) == 2
    assert sum(c.endswith(" scheduler") for c in commands) == 1

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0, log.read_text()
    assert time.monotonic() - started < 30
    left = [f"{pid} {family[pid]}" for pid in family if alive(pid)]
    assert not left, f"still running after serve stopped: {left}"
    assert '"message": "Stopped"' in log.read_text()


@sqlite_suite
def test_a_child_that_dies_is_restarted(serve):
    process, base, log = serve("--task-workers", "1")
    wait_for_health(base, process=process)

    def worker_pids():
        return {pid for pid, c in descendants(process.pid).items() if c.endswith(" worker")}

    [first] = worker_pids()
    os.kill(first, signal.SIGKILL)
    [second] = wait_until(
        lambda: worker_pids() - {first}, seconds=20, message="the worker was not restarted"
    )
    assert second != first
    assert "worker-1 exited with -9" in log.read_text()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0


@sqlite_suite
def test_a_part_that_cannot_start_stops_the_group_with_an_error(serve):
    # Every web server start fails (bad WEB_THREADS): serve gives up, and says so.
    process, base, log = serve(WEB_THREADS="0")
    code = process.wait(timeout=60)
    assert code != 0
    text = log.read_text()
    assert "web exited with 1 3 times in a row on starting: giving up" in text
    assert "could not start" in text


@sqlite_suite
def test_serve_refuses_a_port_in_use(serve):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, _, log = serve("--port", str(port))
        assert process.wait(timeout=30) != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in log.read_text()


@sqlite_suite
def test_serve_refuses_to_run_with_the_public_development_key(tmp_path, run_process):
    env = command_env(tmp_path)
    del env["SECRET_KEY"]
    process = run_process([*SCHOOLGATE, "serve"], env=env, log=tmp_path / "out.log")
    assert process.wait(timeout=30) != 0
    assert "SECRET_KEY is not set" in (tmp_path / "out.log").read_text()


@sqlite_suite
def test_migrations_pending_stop_serve_with_no_migrate(tmp_path, run_process):
    process = run_process(
        [*SCHOOLGATE, "serve", "--no-migrate", "--port", str(free_port())],
        env=command_env(tmp_path),
        log=tmp_path / "out.log",
    )
    assert process.wait(timeout=30) != 0
    assert "database migrations are pending" in (tmp_path / "out.log").read_text()


@sqlite_suite
def test_web_alone_serves_pages(tmp_path, run_process):
    env = command_env(tmp_path)
    migrate(env)
    port = free_port()
    process = run_process(
        [*SCHOOLGATE, "web", "--port", str(port), "--workers", "1"],
        env=env,
        log=tmp_path / "web.log",
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: _answers(f"{base}/healthz?checks=database,migrations"),
        seconds=30,
        message="web did not answer",
    )
    assert get(f"{base}/accounts/sign-in/")[0] == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def _answers(url: str) -> bool:
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:
        return False
