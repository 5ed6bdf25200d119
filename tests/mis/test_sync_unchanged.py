"""A file set byte for byte the same as the last one applied is not read again."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from mirror import mirror_checksum

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS
from schoolgate.mis import importers
from schoolgate.mis.demo import generate_school
from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.sync import sync_mis


@pytest.fixture
def files(tmp_path):
    generated = generate_school(tmp_path / "school", pupils=60, seed=5)
    return [generated.ctf, generated.timetable]


@pytest.fixture
def reads(monkeypatch):
    """How many times the importers were asked to read (sync_mis imports them per call)."""
    calls = []
    real = importers.read_sources

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(importers, "read_sources", counting)
    return calls


def test_the_same_bytes_again_are_skipped_unread_and_say_unchanged(files, reads, client):
    first = sync_mis(files, trigger=SyncRun.Trigger.COMMAND)
    assert first.status == SyncRun.Status.SUCCEEDED and len(reads) == 1
    before = mirror_checksum()

    again = sync_mis(list(reversed(files)), trigger=SyncRun.Trigger.COMMAND)

    assert len(reads) == 1  # not read again
    assert again.status == SyncRun.Status.SUCCEEDED and again.unchanged
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in again.counts.values())
    assert mirror_checksum() == before
    admin = User.objects.create_user("office@school.example.org", "pw", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(admin)
    page = client.get(reverse("mis:sync-report", args=[again.pk])).content.decode()
    assert "Unchanged: the files are byte for byte those of the last sync" in page


def test_one_changed_byte_is_read_and_applied(files, reads):
    sync_mis(files, trigger=SyncRun.Trigger.COMMAND)
    ctf = files[0]
    text = ctf.read_text()
    first = Pupil.objects.order_by("legal_surname").first()
    ctf.write_text(text.replace(f"<Surname>{first.legal_surname}<", "<Surname>Zed<", 1))

    run = sync_mis(files, trigger=SyncRun.Trigger.COMMAND)

    assert len(reads) == 2
    assert not run.unchanged and run.counts["pupils"]["changed"] == 1


def test_only_a_succeeded_run_counts_as_applied(files, reads, tmp_path):
    """After a failed or different run, the same files are read again."""
    sync_mis(files, trigger=SyncRun.Trigger.COMMAND)
    other = tmp_path / "other.csv"
    other.write_text("pupil_id,legal_forename,legal_surname\n1,,\n")  # fails: names missing
    assert sync_mis([other], trigger=SyncRun.Trigger.COMMAND).status == SyncRun.Status.FAILED

    assert sync_mis(files, trigger=SyncRun.Trigger.COMMAND).unchanged  # failed runs apply nothing
    sync_mis(files[:1], trigger=SyncRun.Trigger.COMMAND)  # a different set succeeds
    run = sync_mis(files, trigger=SyncRun.Trigger.COMMAND)

    assert not run.unchanged
    assert len(reads) == 4  # first, the failed one, files[:1], and this one


def test_the_format_asked_for_is_part_of_what_must_be_the_same(files, reads):
    sync_mis(files[:1], trigger=SyncRun.Trigger.COMMAND)

    run = sync_mis(files[:1], trigger=SyncRun.Trigger.COMMAND, source_format="ctf")

    assert not run.unchanged and len(reads) == 2
