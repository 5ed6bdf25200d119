"""OneRoster REST pulls against a real HTTP server on 127.0.0.1 (tests/mis/connector_server.py)."""

import json
from pathlib import Path

import pytest
from connector_server import CLIENT_ID, CLIENT_SECRET, bundle_records, start
from django.core.management import call_command
from mirror_rows import empty_mirror, mirror_rows

from schoolgate.mis.connectors.oneroster_api import OneRosterSource
from schoolgate.mis.connectors.pull import run_pull
from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.sync import sync_mis

BUNDLES = Path(__file__).parent / "fixtures" / "oneroster"
UK = BUNDLES / "uk_v1p1_secondary"


@pytest.fixture(autouse=True)
def _fast_limits(settings):
    settings.SCHOOLGATE = {
        **settings.SCHOOLGATE,
        "MIS_HTTP": {
            "connect_timeout": 2,
            "read_timeout": 0.5,
            "retries": 2,
            "backoff": 0.01,
            "max_retry_after": 3,
        },
    }


@pytest.fixture
def server():
    server = start()
    yield server
    server.shutdown()
    server.server_close()


def source(server, version="1.1", **overrides) -> OneRosterSource:
    values = {
        "url": server.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "version": version,
        "token_url": f"{server.url}/token",
    }
    return OneRosterSource(**{**values, **overrides})


def serve(server, folder: Path, version: str, *, page_size: int = 3) -> None:
    server.state.oneroster = bundle_records(folder, version=version)
    server.state.page_size = page_size


def pull(server, version="1.1", **overrides) -> SyncRun:
    return run_pull(source(server, version, **overrides), trigger=SyncRun.Trigger.COMMAND)


def pages_requested(server, collection: str) -> list[str]:
    return [p for m, p in server.state.requests if m == "GET" and f"/{collection}?" in p]


def students(server) -> int:
    """Students the service lists as current (not 'tobedeleted')."""
    return sum(
        1
        for u in server.state.oneroster["users"]
        if u["role"] == "student" and u["status"] != "tobedeleted"
    )


def bundle_version(folder: Path) -> str:
    return "1.2" if folder.name.startswith(("or12", "uk_v1p2")) else "1.1"


@pytest.mark.parametrize(
    "folder", sorted(p for p in BUNDLES.iterdir() if p.is_dir()), ids=lambda p: p.name
)
def test_a_pull_gives_the_same_mirror_as_the_csv_bundle(server, folder, capsys):
    version = bundle_version(folder)
    by_file = sync_mis([folder], trigger=SyncRun.Trigger.COMMAND, source_format="oneroster")
    if by_file.status != SyncRun.Status.SUCCEEDED:
        pytest.skip(f"the CSV bundle itself does not sync: {by_file.errors[:1]}")
    expected = mirror_rows()
    call_command("dashboard", "--json")
    expected_dashboard = json.loads(capsys.readouterr().out)
    empty_mirror()

    serve(server, folder, version, page_size=2)
    run = pull(server, version)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert mirror_rows() == expected
    call_command("dashboard", "--json")
    got_dashboard = json.loads(capsys.readouterr().out)
    for figures in (expected_dashboard, got_dashboard):
        figures.pop("last_sync")
    assert got_dashboard == expected_dashboard
    # The same things are pointed out, located by record instead of CSV line.
    assert len(run.warnings) == len(by_file.warnings)


def test_every_page_is_read_with_limit_and_offset(server):
    serve(server, UK, "1.1", page_size=3)
    users = len(server.state.oneroster["users"])
    run = pull(server)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    offsets = [p.split("offset=")[1] for p in pages_requested(server, "users")]
    assert offsets == [str(o) for o in range(0, users, 3)]
    assert Pupil.objects.count() == students(server)


def test_paging_by_next_link_and_by_short_last_page(server):
    for paging in ("link", "short"):
        serve(server, UK, "1.1", page_size=3)
        server.state.paging = paging
        server.state.requests.clear()
        run = pull(server)
        assert run.status == SyncRun.Status.SUCCEEDED, (paging, run.errors)
        assert len(pages_requested(server, "users")) >= len(server.state.oneroster["users"]) // 3


def test_oneroster_12_with_client_credentials(server):
    serve(server, BUNDLES / "uk_v1p2_roles", "1.2")
    run = pull(server, "1.2")
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert server.state.tokens_issued == 1
    assert run.source_format == "oneroster-api-1.2"


def test_a_wrong_signature_is_refused_and_changes_nothing(server):
    serve(server, UK, "1.1")
    run = pull(server, client_secret="not-the-secret")
    assert run.status == SyncRun.Status.FAILED
    assert "refused the credentials (HTTP 401)" in run.errors[0]["message"]
    assert "nothing was changed" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_a_wrong_client_secret_is_refused_at_the_token_url(server):
    serve(server, UK, "1.1")
    run = pull(server, "1.2", client_secret="wrong")
    assert run.status == SyncRun.Status.FAILED
    assert "refused the client id and secret" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_a_token_that_expires_mid_pull_is_renewed(server):
    serve(server, BUNDLES / "uk_v1p2_roles", "1.2", page_size=2)
    server.state.token_uses = 3  # the service stops honouring each token after 3 requests
    run = pull(server, "1.2")
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert server.state.tokens_issued >= 2


def test_429_then_success_honours_retry_after(server):
    serve(server, UK, "1.1")
    server.state.faults[("users", 2)] = [("retry-after", "1")]
    waits = []
    from schoolgate.mis.connectors import oneroster_api

    pull_ = oneroster_api.OneRosterPull(source(server))
    pull_.client.sleep = waits.append
    pull_.read()
    assert waits == [1.0]


def test_a_retry_after_too_long_stops_the_pull(server):
    serve(server, UK, "1.1")
    server.state.faults[("users", 1)] = [("retry-after", "3600")]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "asked us to wait 3600 seconds" in run.errors[0]["message"]


def test_500_on_page_3_applies_nothing(server):
    serve(server, UK, "1.1", page_size=3)
    assert pull(server).status == SyncRun.Status.SUCCEEDED
    before = mirror_rows()
    # The next pull would change names, but page 3 of users keeps failing.
    for user in server.state.oneroster["users"]:
        user["familyName"] += "-changed"
    server.state.faults[("users", 3)] = [500, 500, 500]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    message = run.errors[0]["message"]
    assert "had an error (HTTP 500) after 3 tries" in message
    assert "offset=6" in run.errors[0]["file"]
    assert "stopped after 2 pages" in message
    assert mirror_rows() == before


def test_a_500_that_clears_is_retried(server):
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 3)] = [500, 503]
    run = pull(server)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors


def test_truncated_json_applies_nothing(server):
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 2)] = [("truncate", None)]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "is not valid JSON" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_a_body_shorter_than_its_length_applies_nothing(server):
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 2)] = [("short-body", None)] * 3
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "closed before the whole response arrived" in run.errors[0]["message"]


def test_a_page_that_is_not_a_page_applies_nothing(server):
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 2)] = [("huge", 0)]  # "[]": JSON, but not a page of users
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "does not hold a 'users' list" in run.errors[0]["message"]


def test_a_missing_page_is_noticed(server):
    serve(server, UK, "1.1", page_size=3)
    # The service says 13 users, then answers the third page with none.
    server.state.faults[("users", 3)] = [("empty-page", None)]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "a page is missing" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_a_response_over_the_cap_stops_the_pull(server, settings):
    settings.SCHOOLGATE["MIS_HTTP"]["max_bytes"] = 4000
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 1)] = [("huge", 50_000)]
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "sent more than" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_a_slow_server_past_the_read_timeout(server):
    serve(server, UK, "1.1", page_size=3)
    server.state.faults[("users", 1)] = [("sleep", 1.5)] * 3
    run = pull(server)
    assert run.status == SyncRun.Status.FAILED
    assert "no answer within 0.5 seconds (read timeout)" in run.errors[0]["message"]
    assert Pupil.objects.count() == 0


def test_plain_http_to_another_machine_is_refused():
    run = run_pull(
        OneRosterSource(
            url="http://roster.example.org", client_id="a", client_secret="b", version="1.1"
        ),
        trigger=SyncRun.Trigger.COMMAND,
    )
    assert run.status == SyncRun.Status.FAILED
    assert "uses plain http" in run.errors[0]["message"]


def test_the_command_prints_the_file_sync_report(server, capsys):
    serve(server, UK, "1.1")
    code = 0
    try:
        call_command(
            "sync",
            "--oneroster-api",
            server.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--oneroster-version",
            "1.1",
            "--json",
        )
    except SystemExit as exit:
        code = exit.code
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert set(report) == {
        "status",
        "counts",
        "warnings",
        "errors",
        "run_id",
        "duration_ms",
        "held",
        "unchanged",
    }
    assert report["counts"]["pupils"]["added"] == students(server)
    assert CLIENT_SECRET not in json.dumps(report)


def test_the_command_reports_a_failed_pull_and_exits_1(server, capsys):
    serve(server, UK, "1.1")
    with pytest.raises(SystemExit) as exit:
        call_command(
            "sync",
            "--oneroster-api",
            server.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            "wrong",
            "--oneroster-version",
            "1.1",
            "--json",
        )
    assert exit.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "failed"
    assert "HTTP 401" in report["errors"][0]["text"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give the files to sync"),
        (["x.csv", "--wonde", "A1", "--token", "t"], "one at a time"),
        (["--oneroster-api", "https://mis.example.org"], "needs --client-id and --client-secret"),
        (["--wonde", "A1"], "--wonde needs --token"),
    ],
)
def test_the_command_says_what_is_missing(args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("sync", *args)
    assert not SyncRun.objects.exists()
