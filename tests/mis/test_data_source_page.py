"""The Data source page: choose and test a connection, secrets encrypted and never shown,
the last pull; the scheduled pull once per configured time; `schoolgate rotate-secrets`."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from connector_server import WONDE_TOKEN, start
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from wonde_data import wonde_records

from schoolgate.accounts.models import User
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.sender import current_sender
from schoolgate.core import secrets
from schoolgate.mis.connectors.pull import claim_due_pulls, pull_configured
from schoolgate.mis.demo import build_school
from schoolgate.mis.models import DataSource, Pupil, SyncRun

SCHOOL_ID = "A1930499544"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def staff(client):
    user = User.objects.create_user("office@school.example.org", "pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_sync", "view_mis_data"])
    )
    client.force_login(user)
    return user


@pytest.fixture
def wonde_server():
    server = start()
    school = build_school(pupils=40, seed=2)
    server.state.wonde = wonde_records(school)
    server.state.wonde_school = {"id": SCHOOL_ID, "name": school.name}
    server.school = school
    yield server
    server.shutdown()
    server.server_close()


def wonde_form(server, **changes) -> dict:
    return {
        "kind": "wonde",
        "wonde_school_id": SCHOOL_ID,
        "wonde_token": WONDE_TOKEN,
        "wonde_api_url": f"{server.url}/v1.0",
        "sync_times": "07:00, 13:00",
        "oneroster_version": "1.2",
        **changes,
    }


def test_the_page_defaults_to_files_at_seven_and_one(client, staff):
    response = client.get(reverse("mis:data-source"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="files"' in html and "checked" in html
    assert 'value="07:00,13:00"' in html or 'value="07:00, 13:00"' in html
    assert "No pull has run yet." in html


def test_testing_the_connection_shows_what_it_found_and_changes_nothing(
    client, staff, wonde_server
):
    response = client.post(
        reverse("mis:data-source"), {**wonde_form(wonde_server), "action": "test"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    school = wonde_server.school
    with_pr = {id(link.person) for p in school.pupils for link in p.links if link.responsibility}
    classes = sum(1 for g in school.groups if g.kind == "class")
    found = response.context["found"]
    assert found["pupils"] == len(school.pupils)
    assert found["contacts_with_pr"] == len(with_pr)
    assert found["staff"] == len(school.staff)
    assert found["classes"] == classes
    assert "The connection works" in html
    assert WONDE_TOKEN not in html
    assert Pupil.objects.count() == 0
    assert DataSource.load().kind == "files"  # testing saves nothing


def test_a_failed_test_says_why(client, staff, wonde_server):
    response = client.post(
        reverse("mis:data-source"),
        {**wonde_form(wonde_server, wonde_token="wrong"), "action": "test"},
    )
    assert "refused the credentials (HTTP 401)" in response.content.decode()


def test_saving_encrypts_the_token_and_blank_keeps_it(client, staff, wonde_server):
    client.post(reverse("mis:data-source"), {**wonde_form(wonde_server), "action": "save"})
    saved = DataSource.load()
    assert saved.kind == "wonde" and saved.sync_times == "07:00, 13:00"
    assert saved.wonde_token.startswith(secrets.PREFIX)
    assert WONDE_TOKEN not in saved.wonde_token
    assert secrets.decrypt(saved.wonde_token) == WONDE_TOKEN
    page = client.get(reverse("mis:data-source")).content.decode()
    assert WONDE_TOKEN not in page and saved.wonde_token not in page
    assert "A secret is saved. Leave blank to keep it." in page

    client.post(
        reverse("mis:data-source"),
        {**wonde_form(wonde_server, wonde_token="", sync_times="6:30"), "action": "save"},
    )
    again = DataSource.load()
    assert again.sync_times == "06:30"
    assert secrets.decrypt(again.wonde_token) == WONDE_TOKEN


def test_bad_settings_are_refused_with_messages(client, staff):
    response = client.post(
        reverse("mis:data-source"),
        {
            "kind": "oneroster",
            "oneroster_url": "http://mis.example.org/",
            "sync_times": "7am",
            "action": "save",
        },
    )
    form = response.context["form"]
    assert form.errors["oneroster_url"] == [
        "Enter an https:// address (plain http only to this server)"
    ]
    assert form.errors["oneroster_client_id"] == ["Enter the client id"]
    assert form.errors["oneroster_client_secret"] == ["Enter the client secret"]
    assert form.errors["sync_times"] == ["'7am' is not a time like 07:00"]
    assert DataSource.load().kind == "files"


def test_a_pull_records_the_last_run_and_the_page_shows_it(client, staff, wonde_server):
    client.post(reverse("mis:data-source"), {**wonde_form(wonde_server), "action": "save"})
    run = pull_configured()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.trigger == SyncRun.Trigger.PULL
    assert Pupil.objects.count() == 40
    page = client.get(reverse("mis:data-source")).content.decode()
    assert reverse("mis:sync-report", args=[run.pk]) in page


def test_each_configured_time_is_pulled_once_across_schedulers(wonde_server):
    source = DataSource.load()
    source.kind, source.sync_times = "wonde", "07:00, 13:00"
    source.save()
    enqueued = []
    at = datetime(2026, 3, 4, 7, 3, tzinfo=LONDON)
    # Two schedulers, checking a few minutes apart, both after 07:00.
    assert claim_due_pulls(lambda: enqueued.append("a"), now=at) == 1
    assert claim_due_pulls(lambda: enqueued.append("b"), now=at.replace(minute=8)) == 0
    assert enqueued == ["a"]
    # Before 13:00 nothing is due; just after, one more.
    assert claim_due_pulls(lambda: enqueued.append("c"), now=at.replace(hour=12, minute=59)) == 0
    assert claim_due_pulls(lambda: enqueued.append("d"), now=at.replace(hour=13, minute=1)) == 1
    assert enqueued == ["a", "d"]


def test_a_school_on_files_is_never_pulled():
    assert claim_due_pulls(lambda: None, now=datetime(2026, 3, 4, 7, 1, tzinfo=LONDON)) == 0
    assert pull_configured() is None


def test_others_may_not_open_the_page(client):
    client.force_login(User.objects.create_user("grace@example.org", "pw"))
    assert client.get(reverse("mis:data-source")).status_code == 403


def test_smtp_password_is_stored_encrypted_and_read_back(settings):
    addon_settings = get_addon_settings()
    addon_settings.smtp_password = "mail-pass"
    addon_settings.smtp_host, addon_settings.from_email = "smtp.example.org", "office@example.org"
    addon_settings.save()
    stored = AddonSettings.objects.values_list("smtp_password", flat=True).get()
    assert stored.startswith(secrets.PREFIX) and "mail-pass" not in stored
    assert current_sender().smtp["password"] == "mail-pass"


def test_rotate_secrets_reencrypts_with_the_first_key(settings, capsys):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    source = DataSource.load()
    source.wonde_token = secrets.encrypt("tok")
    source.save()
    addon_settings = get_addon_settings()
    addon_settings.smtp_password = "mail-pass"
    addon_settings.save()

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate-secrets")
    assert "2 stored secrets" in capsys.readouterr().out

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key is gone: all must open with the new
    assert secrets.decrypt(DataSource.load().wonde_token) == "tok"
    stored = AddonSettings.objects.values_list("smtp_password", flat=True).get()
    assert secrets.decrypt(stored) == "mail-pass"


def test_pull_now_enqueues_the_pull_task_and_the_task_pulls(client, staff, wonde_server):
    from django_tasks_db.models import DBTaskResult

    from schoolgate.mis.tasks import pull_data_source_task

    client.post(reverse("mis:data-source"), {**wonde_form(wonde_server), "action": "save"})
    response = client.post(reverse("mis:data-source"), {"action": "pull"})
    assert response.status_code == 302
    queued = DBTaskResult.objects.filter(task_path__endswith="pull_data_source_task")
    assert queued.count() == 1
    run = SyncRun.objects.get(pk=pull_data_source_task.call())
    assert run.status == SyncRun.Status.SUCCEEDED and run.trigger == SyncRun.Trigger.PULL
    assert DataSource.load().last_run == run


def test_a_scheduled_pull_generates_accounts_when_the_add_on_says_so(wonde_server, parent_role):
    from schoolgate.accounts.models import AuditEntry
    from schoolgate.outbox.models import OutboxMessage

    addon_settings = get_addon_settings()
    addon_settings.auto_generate = True
    addon_settings.save()
    source = DataSource.load()
    source.kind, source.wonde_school_id = "wonde", SCHOOL_ID
    source.wonde_token = secrets.encrypt(WONDE_TOKEN)
    source.wonde_api_url = f"{wonde_server.url}/v1.0"
    source.save()

    run = pull_configured()

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    parents = User.objects.filter(is_staff=False)
    assert parents.count() > 0
    assert OutboxMessage.objects.filter(template="invitation").count() == parents.count()
    assert AuditEntry.objects.get(action="accounts.generated").actor_label == f"sync {run.pk}"
