"""Wonde pulls against a real HTTP server on 127.0.0.1, serving the demo school."""

import json

import pytest
from connector_server import WONDE_TOKEN, start
from django.core.management import call_command
from mirror_rows import empty_mirror, mirror_rows
from wonde_data import wonde_records

from schoolgate.mis.connectors.pull import run_pull
from schoolgate.mis.connectors.wonde import WondeSource
from schoolgate.mis.demo import generate_school
from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.sync import sync_mis

SCHOOL_ID = "A1930499544"


@pytest.fixture(autouse=True)
def _fast_limits(settings):
    settings.SCHOOLGATE = {
        **settings.SCHOOLGATE,
        "MIS_HTTP": {"read_timeout": 0.5, "retries": 2, "backoff": 0.01, "max_retry_after": 3},
    }


@pytest.fixture
def demo(tmp_path):
    return generate_school(tmp_path / "demo", pupils=60, seed=7)


@pytest.fixture
def server(demo):
    server = start()
    server.state.wonde = wonde_records(demo.school)
    server.state.wonde_school = {"id": SCHOOL_ID, "name": demo.school.name}
    server.state.page_size = 25
    yield server
    server.shutdown()
    server.server_close()


def pull(server, **overrides) -> SyncRun:
    values = {"school_id": SCHOOL_ID, "token": WONDE_TOKEN, "api_url": f"{server.url}/v1.0"}
    return run_pull(WondeSource(**{**values, **overrides}), trigger=SyncRun.Trigger.COMMAND)


def test_a_pull_gives_the_same_mirror_as_the_demo_school_files(server, demo, capsys):
    by_files = sync_mis(demo.paths, trigger=SyncRun.Trigger.COMMAND)
    assert by_files.status == SyncRun.Status.SUCCEEDED, by_files.errors
    expected = mirror_rows(contact_ids=False)
    call_command("dashboard", "--json")
    expected_dashboard = json.loads(capsys.readouterr().out)
    empty_mirror()

    run = pull(server)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    got = mirror_rows(contact_ids=False)
    for kind in expected:
        assert got[kind] == expected[kind], kind
    call_command("dashboard", "--json")
    got_dashboard = json.loads(capsys.readouterr().out)
    for figures in (expected_dashboard, got_dashboard):
        figures.pop("last_sync")
    assert got_dashboard == expected_dashboard
    # Every page of the 60 students was read, 25 to a page.
    pages = [p for m, p in server.state.requests if "/students?" in p]
    assert len(pages) == 3


def test_a_second_pull_changes_nothing(server):
    assert pull(server).status == SyncRun.Status.SUCCEEDED
    again = pull(server)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in again.counts.values())


def test_a_wrong_token_is_refused(server):
    run = pull(server, token="wrong")
    assert run.status == SyncRun.Status.FAILED
    assert "refused the credentials (HTTP 401)" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_500_on_page_3_applies_nothing(server):
    server.state.page_size = 10
    assert pull(server).status == SyncRun.Status.SUCCEEDED
    before = mirror_rows()
    server.state.wonde["students"] = server.state.wonde["students"][:-5]
    server.state.faults[("students", 3)] = [500, 500, 500]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 500" in run.errors[0]["message"]
    assert "page=3" in run.errors[0]["file"]
    assert mirror_rows() == before


def test_429_then_success(server):
    server.state.faults[("employees", 1)] = [429]
    run = pull(server)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors


def test_truncated_json_applies_nothing(server):
    server.state.faults[("classes", 1)] = [("truncate", None)]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "not valid JSON" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_the_command(server, capsys):
    code = 0
    try:
        call_command(
            "sync",
            "--wonde",
            SCHOOL_ID,
            "--token",
            WONDE_TOKEN,
            "--api-url",
            f"{server.url}/v1.0",
            "--json",
        )
    except SystemExit as exit:
        code = exit.code
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["counts"]["pupils"]["added"] == 60
    assert WONDE_TOKEN not in json.dumps(report)


def test_secrets_stay_out_of_the_logs(server, caplog):
    caplog.set_level("DEBUG")
    server.state.faults[("students", 1)] = [500, 429]
    assert pull(server).status == SyncRun.Status.SUCCEEDED
    assert "trying again" in caplog.text  # the retries were logged...
    assert WONDE_TOKEN not in caplog.text  # ...without the token
