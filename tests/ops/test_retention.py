"""The retention policy (ops.retention): what goes, when, and that a dry run says so
without changing anything. Orphaned accounts (accounts.orphans) stop at the sync."""

import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from school import change_link, resync

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.evenings import booking
from schoolgate.evenings.models import (
    Appointment,
    AppointmentNote,
    Evening,
    EveningTeacher,
    Slot,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.models import SyncRun
from schoolgate.ops.retention import apply_retention
from schoolgate.scheduler.registry import jobs

LONDON = ZoneInfo("Europe/London")
EVENING_DAY = datetime(2026, 3, 10, 16, 0, tzinfo=LONDON)
BOOKED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=LONDON)


@pytest.fixture
def accounts(school, parent_role):
    generate_accounts(mode="all", actor_label="test")
    return {u.email.split(".")[0]: u for u in User.objects.filter(is_staff=False)}


def make_evening(school, *, day=EVENING_DAY, name="Spring evening") -> Evening:
    evening = setup.create_evening(
        actor=school.admin,
        name=name,
        days=[(day, day + timedelta(hours=2))],
        booking_opens=day - timedelta(days=20),
        booking_closes=day - timedelta(hours=1),
        slot_minutes=10,
        year_groups=[7, 9],
        now=day - timedelta(days=30),
    )
    return setup.set_status(
        evening=evening, actor=school.admin, status=Evening.Status.PUBLISHED, now=BOOKED_AT
    )


def book_amy(school, evening, parent, *, message="Reading at home", now=BOOKED_AT):
    teacher = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    slot = Slot.objects.filter(teacher=teacher).order_by("starts_at").first()
    made = booking.book_slots(
        parent=parent, evening=evening, choices=[(school.pupils["amy"], teacher, slot)], now=now
    )
    appointment = made.appointments[0]
    appointment.message = message
    appointment.save(update_fields=["message"])
    return appointment


def lose_amy_and_ben(school, who="al"):
    change_link(school.snapshot, "amy", who, parental_responsibility=False)
    change_link(school.snapshot, "ben", who, parental_responsibility=False)
    resync(school.snapshot)


def test_an_account_with_no_pupil_left_is_deactivated_by_the_sync(accounts, school):
    al = accounts["al"]
    client = Client()
    client.force_login(al)
    assert client.get("/parents/").status_code == 200

    lose_amy_and_ben(school)

    al.refresh_from_db()
    assert not al.is_active and al.orphaned_at is not None
    # Their session ended: the next page asks them to sign in.
    response = client.get("/parents/")
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
    entry = AuditEntry.objects.get(action="user.deactivated", subject=al.email)
    assert entry.actor_label.startswith("sync ")
    assert "no longer linked" in entry.reason
    # Ann, still linked, is untouched.
    assert User.objects.get(pk=accounts["ann"].pk).is_active


def test_an_orphaned_account_comes_back_when_the_mis_links_it_again(accounts, school):
    lose_amy_and_ben(school)
    change_link(school.snapshot, "amy", "al", parental_responsibility=True)
    resync(school.snapshot)

    al = User.objects.get(pk=accounts["al"].pk)
    assert al.is_active and al.orphaned_at is None
    assert AuditEntry.objects.filter(action="user.reactivated", subject=al.email).exists()


def test_staff_and_accounts_outside_the_parent_role_are_never_deactivated(accounts, school):
    al = accounts["al"]
    al.is_staff = True
    al.save()
    outsider = User.objects.create_user("governor@example.org")  # no role, no pupils

    lose_amy_and_ben(school)

    assert User.objects.get(pk=al.pk).is_active
    assert User.objects.get(pk=outsider.pk).is_active


def test_an_account_a_member_of_staff_deactivated_stays_deactivated(accounts, school):
    from schoolgate.accounts.users import deactivate_user

    deactivate_user(user=accounts["al"], actor=school.admin, reason="asked us to")
    resync(school.snapshot)
    al = User.objects.get(pk=accounts["al"].pk)
    assert not al.is_active and al.orphaned_at is None


def test_messages_are_blanked_after_the_evening_and_the_appointment_kept(accounts, school):
    evening = make_evening(school)
    appointment = book_amy(school, evening, accounts["ann"])
    ends = EVENING_DAY + timedelta(hours=2)

    early = apply_retention(now=ends + timedelta(days=89))
    assert early.messages == {}
    report = apply_retention(now=ends + timedelta(days=90))

    assert report.messages == {"Spring evening": 1}
    appointment.refresh_from_db()
    assert appointment.message == "" and appointment.status == "confirmed"


def test_teachers_private_notes_are_deleted_with_the_messages(accounts, school):
    evening = make_evening(school)
    appointment = book_amy(school, evening, accounts["ann"])
    other = make_evening(school, day=EVENING_DAY + timedelta(days=200), name="Later evening")
    later = book_amy(school, other, accounts["ann"], now=EVENING_DAY + timedelta(days=190))
    teacher = User.objects.create_user("ria.reed@school.example", is_staff=True)
    AppointmentNote.objects.create(appointment=appointment, author=teacher, text="Dyslexia?")
    AppointmentNote.objects.create(appointment=later, author=teacher, text="Keep for later")
    ends = EVENING_DAY + timedelta(hours=2)

    assert apply_retention(now=ends + timedelta(days=89)).notes == {}
    assert apply_retention(now=ends + timedelta(days=90), dry_run=True).notes == {
        "Spring evening": 1
    }
    assert AppointmentNote.objects.count() == 2
    report = apply_retention(now=ends + timedelta(days=90))

    assert report.notes == {"Spring evening": 1}
    assert list(AppointmentNote.objects.values_list("text", flat=True)) == ["Keep for later"]
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_a_dry_run_lists_what_would_go_and_changes_nothing(accounts, school):
    evening = make_evening(school)
    book_amy(school, evening, accounts["ann"])
    old_run = SyncRun.objects.create(trigger=SyncRun.Trigger.COMMAND)
    SyncRun.objects.filter(pk=old_run.pk).update(started_at=timezone.now() - timedelta(days=400))

    report = apply_retention(now=timezone.now(), dry_run=True)

    assert report.dry_run and report.messages == {"Spring evening": 1}
    assert report.sync_reports == 1
    assert Appointment.objects.exclude(message="").count() == 1
    assert SyncRun.objects.filter(pk=old_run.pk).exists()


def test_orphaned_accounts_are_deleted_after_the_set_time_with_their_past_bookings(
    accounts, school
):
    evening = make_evening(school)
    book_amy(school, evening, accounts["al"])
    lose_amy_and_ben(school)
    al = User.objects.get(pk=accounts["al"].pk)

    not_yet = apply_retention(now=al.orphaned_at + timedelta(days=364))
    assert not_yet.accounts_deleted == [] and User.objects.filter(pk=al.pk).exists()
    report = apply_retention(now=al.orphaned_at + timedelta(days=365))

    assert report.accounts_deleted == [al.email]
    assert not User.objects.filter(pk=al.pk).exists()
    assert not Appointment.objects.filter(parent_id=al.pk).exists()
    assert AuditEntry.objects.filter(action="user.deleted", subject=al.email).exists()


def test_an_orphan_with_an_appointment_still_to_come_is_kept_and_reported(accounts, school):
    lose_amy_and_ben(school)
    al = User.objects.get(pk=accounts["al"].pk)
    later = al.orphaned_at + timedelta(days=400)
    day = (later + timedelta(days=5)).replace(hour=16, minute=0, second=0, microsecond=0)
    evening = make_evening(school, day=day, name="Next year")
    # Booked by the office for Al while Al could still see Amy (the link came and went).
    teacher = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    slot = Slot.objects.filter(teacher=teacher).first()
    Appointment.objects.create(
        evening=evening,
        day=slot.day,
        pupil=school.pupils["amy"],
        teacher=teacher,
        parent=al,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status="confirmed",
    )

    report = apply_retention(now=later)

    assert report.accounts_kept == [al.email] and report.accounts_deleted == []
    assert User.objects.filter(pk=al.pk).exists()


def test_sync_reports_are_kept_for_a_year(school):
    now = timezone.now()
    runs = [SyncRun.objects.create(trigger=SyncRun.Trigger.COMMAND) for _ in range(2)]
    SyncRun.objects.filter(pk=runs[0].pk).update(started_at=now - timedelta(days=366))
    SyncRun.objects.filter(pk=runs[1].pk).update(started_at=now - timedelta(days=300))

    report = apply_retention(now=now)

    assert report.sync_reports == 1
    assert list(SyncRun.objects.filter(pk__in=[r.pk for r in runs])) == [runs[1]]


def test_the_command_prints_a_dry_run_as_json(accounts, school):
    lose_amy_and_ben(school)
    out = StringIO()
    call_command("retention", "--dry-run", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["dry_run"] is True
    assert printed["accounts_deleted"] == [] and printed["deactivated"] == []


def test_the_scheduler_applies_the_policy_daily():
    from schoolgate.scheduler.registry import autodiscover

    autodiscover()
    assert jobs()["ops.retention"].every_minutes == 24 * 60
