"""A sync is an administrator's act with a safety catch: a full file that would take a
large share of the roll off, or deactivate many parent accounts, is held until a
person who may run syncs confirms it; and a teacher cannot sync at all."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from mirror import mirror_checksum

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS, TEACHERS
from schoolgate.mis.demo import build_school, generate_school, write_ctf
from schoolgate.mis.dropfolder import sync_drop_folder
from schoolgate.mis.models import Contact, Pupil, PupilContact, SyncRun
from schoolgate.mis.sync import sync_mis

PUPILS = 120  # the size of school the one-pupil file emptied
SEED = 3


@pytest.fixture
def loaded(tmp_path, parent_role):
    """The generated school synced, every qualifying contact given an account."""
    generated = generate_school(tmp_path / "school", pupils=PUPILS, seed=SEED)
    run = sync_mis([generated.ctf, generated.timetable], trigger=SyncRun.Trigger.COMMAND)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    generate_accounts(mode="all", actor_label="test")
    return generated


@pytest.fixture
def one_pupil(tmp_path) -> tuple:
    """A full CTF holding only the first pupil of the same school, and that pupil's UPN."""
    school = build_school(pupils=PUPILS, seed=SEED)
    school.pupils = school.pupils[:1]
    path = tmp_path / "one-pupil.xml"
    write_ctf(school, path)
    return path, school.pupils[0].upn


def expected_hold(upn: str) -> dict:
    """The counts worked out from the mirror directly, not through the sync engine."""
    on_roll = Pupil.objects.filter(on_roll=True).count()
    kept_contacts = set(
        PupilContact.objects.filter(pupil__upn=upn).values_list("contact_id", flat=True)
    )
    kept_emails = set(
        Contact.objects.filter(pk__in=kept_contacts).values_list("email_key", flat=True)
    )
    parents = User.objects.filter(is_active=True, is_staff=False, groups__name="MIS Parent")
    return {
        "on_roll_before": on_roll,
        "pupils_leaving": on_roll - 1,
        "contacts_removed": Contact.objects.count() - len(kept_contacts),
        "accounts_deactivated": parents.exclude(email__in=kept_emails).count(),
    }


def active_parents() -> int:
    return User.objects.filter(is_active=True, is_staff=False).count()


@pytest.fixture
def admin_client(client):
    user = User.objects.create_user("office@school.example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(user)
    return client


def post_file(client, path, name=None):
    with path.open("rb") as handle:
        upload = SimpleUploadedFile(name or path.name, handle.read(), "application/xml")
    return client.post(reverse("mis:sync"), {"files": [upload]})


def test_a_one_pupil_full_file_is_held_then_confirmed_and_applied(admin_client, loaded, one_pupil):
    path, upn = one_pupil
    expected = expected_hold(upn)
    assert expected["accounts_deactivated"] > 50  # the school is big enough to trip it
    before, parents_before = mirror_checksum(), active_parents()

    response = post_file(admin_client, path)

    run = SyncRun.objects.latest("pk")
    assert response.status_code == 302 and response.url == reverse("mis:sync-report", args=[run.pk])
    assert run.status == SyncRun.Status.HELD
    assert run.hold["counts"] == expected
    assert mirror_checksum() == before
    assert active_parents() == parents_before

    page = admin_client.get(response.url).content.decode()
    assert "Needs confirming" in page
    assert f"{expected['pupils_leaving']} of {expected['on_roll_before']} on roll" in page
    assert "Confirm and apply this sync" in page

    response = admin_client.post(reverse("mis:sync-confirm", args=[run.pk]), expected)

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.hold["confirmed_by"]["name"]
    assert list(Pupil.objects.filter(on_roll=True).values_list("upn", flat=True)) == [upn]
    assert active_parents() == parents_before - expected["accounts_deactivated"]
    assert admin_client.get(response.url).status_code == 200


def test_a_confirm_with_other_counts_than_now_is_refused_and_stays_held(
    admin_client, loaded, one_pupil
):
    path, _upn = one_pupil
    post_file(admin_client, path)
    run = SyncRun.objects.latest("pk")
    stale = {**run.hold["counts"], "accounts_deactivated": 3}
    before = mirror_checksum()

    response = admin_client.post(reverse("mis:sync-confirm", args=[run.pk]), stale)

    assert response.status_code == 409
    assert "The counts have changed" in response.content.decode()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.HELD
    assert mirror_checksum() == before


def test_a_confirm_after_another_sync_succeeded_is_refused(admin_client, loaded, one_pupil):
    path, _upn = one_pupil
    post_file(admin_client, path)
    held = SyncRun.objects.latest("pk")
    counts = held.hold["counts"]
    # Another sync (a real change: one pupil's record) succeeds after the hold.
    Pupil.objects.filter(on_roll=True).update(preferred_forename="")
    later = sync_mis([loaded.ctf], trigger=SyncRun.Trigger.COMMAND)
    assert later.status == SyncRun.Status.SUCCEEDED
    before = mirror_checksum()

    response = admin_client.post(reverse("mis:sync-confirm", args=[held.pk]), counts)

    assert response.status_code == 409
    assert "out of date" in response.content.decode()
    assert mirror_checksum() == before
    held.refresh_from_db()
    assert held.status == SyncRun.Status.HELD
    page = admin_client.get(reverse("mis:sync-report", args=[held.pk])).content.decode()
    assert "out of date" in page and "Confirm and apply this sync" not in page


def test_a_second_confirmation_is_refused(admin_client, loaded, one_pupil):
    path, _upn = one_pupil
    post_file(admin_client, path)
    run = SyncRun.objects.latest("pk")
    counts = run.hold["counts"]
    url = reverse("mis:sync-confirm", args=[run.pk])
    assert admin_client.post(url, counts).status_code == 302
    before = mirror_checksum()

    response = admin_client.post(url, counts)

    assert response.status_code == 409
    assert "not waiting to be confirmed" in response.content.decode()
    assert mirror_checksum() == before
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED


def test_the_command_holds_a_large_change_unless_confirmed(loaded, one_pupil, capsys):
    path, upn = one_pupil
    expected = expected_hold(upn)
    before = mirror_checksum()

    with pytest.raises(SystemExit) as exited:
        call_command("sync", str(path), "--json")

    assert exited.value.code == 2
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "held" and report["held"] == expected
    assert mirror_checksum() == before

    call_command("sync", str(path), "--confirm-large-change")

    assert SyncRun.objects.latest("pk").status == SyncRun.Status.SUCCEEDED
    assert Pupil.objects.filter(on_roll=True).count() == 1


def test_the_drop_folder_holds_a_large_change(loaded, one_pupil, tmp_path):
    path, _upn = one_pupil
    folder = tmp_path / "drop"
    folder.mkdir()
    path.rename(folder / "export.xml")
    before = mirror_checksum()

    run = sync_drop_folder(folder=folder, settle_seconds=0)

    assert run.status == SyncRun.Status.HELD
    assert mirror_checksum() == before
    [held] = (folder / "held").iterdir()
    assert (held / "export.xml").exists()
    assert json.loads((held / "schoolgate-report.json").read_text())["held"]["pupils_leaving"]


def test_a_small_change_is_not_held(loaded, tmp_path, settings):
    """Under both limits a full file applies at once (here 2 of 120 pupils leave)."""
    school = build_school(pupils=PUPILS, seed=SEED)
    school.pupils = school.pupils[2:]
    path = tmp_path / "most.xml"
    write_ctf(school, path)

    run = sync_mis([path], trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.SUCCEEDED, run.hold
    assert run.counts["pupils"]["removed"] == 2


def test_a_teacher_posting_a_ctf_to_the_sync_page_gets_403_and_nothing_changes(
    client, loaded, tmp_path
):
    """The attack of issue 11: a teacher uploads a partial CTF making themselves a parent."""
    teacher = User.objects.create_user("tom.teach@school.example.org", "pw", is_staff=True)
    teacher.groups.add(Group.objects.get(name=TEACHERS))
    client.force_login(teacher)
    pupil = Pupil.objects.filter(on_roll=True).first()
    ctf = tmp_path / "partial.xml"
    ctf.write_text(
        "<CTfile><Header><DocumentQualifier>partial</DocumentQualifier></Header>"
        f"<CTFpupilData><Pupil><UPN>{pupil.upn}</UPN><Surname>{pupil.legal_surname}</Surname>"
        f"<Forename>{pupil.legal_forename}</Forename><Contacts><Contact><Order>1</Order>"
        "<Forename>Tom</Forename><Surname>Teach</Surname>"
        "<Email>tom.teach@school.example.org</Email><Responsibility>true</Responsibility>"
        "</Contact></Contacts></Pupil></CTFpupilData></CTfile>"
    )
    before, runs = mirror_checksum(), SyncRun.objects.count()

    response = post_file(client, ctf)

    assert response.status_code == 403
    assert mirror_checksum() == before
    assert SyncRun.objects.count() == runs
    held = SyncRun.objects.create(trigger="upload", status=SyncRun.Status.HELD)
    assert client.post(reverse("mis:sync-confirm", args=[held.pk])).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_people_confirming_at_once_apply_it_once(loaded, one_pupil):
    """Two confirmations racing on PostgreSQL: the held run is claimed by one; the other
    is refused, and the run ends succeeded (never held again by the loser)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    from schoolgate.mis.sync import HoldRefused, confirm_held_sync

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's test database is not shared between threads")
    path, upn = one_pupil
    held = sync_mis([path], trigger=SyncRun.Trigger.COMMAND)
    assert held.status == SyncRun.Status.HELD
    counts = held.hold["counts"]
    people = [
        User.objects.create_user(f"office{n}@school.example.org", "pw", is_staff=True)
        for n in (1, 2)
    ]

    def confirm(person):
        try:
            run = SyncRun.objects.get(pk=held.pk)
            return confirm_held_sync(run, user=person, expected_counts=counts).status
        except HoldRefused:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(confirm, people))

    assert outcomes == ["refused", SyncRun.Status.SUCCEEDED]
    held.refresh_from_db()
    assert held.status == SyncRun.Status.SUCCEEDED
    assert list(Pupil.objects.filter(on_roll=True).values_list("upn", flat=True)) == [upn]
