"""Helpers for the teacher's tools tests: staff accounts linked to the MIS staff of
evenings_school.py by email, and evenings relative to the real clock (the pages use it)."""

from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from evenings_school import LONDON, make_evening, teacher

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import TEACHERS
from schoolgate.core.emails import normalise_email
from schoolgate.evenings import booking
from schoolgate.evenings.models import Slot
from schoolgate.mis.models import Staff

EMAILS = {"S-MIA": "mia.maths@school.example", "S-EVE": "eve.english@school.example"}


def teacher_account(mis_id: str) -> User:
    """A staff account whose email matches the MIS staff record (as a sync would give)."""
    email = EMAILS.get(mis_id, f"{mis_id.lower()}@school.example")
    Staff.objects.filter(mis_id=mis_id).update(email=email, email_key=normalise_email(email))
    user = User.objects.create_user(email, is_staff=True, first_name=mis_id[2:].title())
    user.groups.add(Group.objects.get(name=TEACHERS))
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def evening_at(school, *, in_days: int, opens_in_days: int, **overrides):
    """An evening `in_days` from today, 16:00-19:00, booking opening `opens_in_days`
    from now (negative: already open)."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=in_days)
    start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=LONDON)
    values = {
        "days": [(start, start.replace(hour=19))],
        "booking_opens": now + timedelta(days=opens_in_days),
        "booking_closes": start - timedelta(hours=4),
        "now": now,
    }
    values.update(overrides)
    return make_evening(school, **values)


def book_at(school, evening, parent, pupil, mis_id, hour, minute, *, now=None, **kwargs):
    """Book `pupil` with the teacher at hour:minute on the evening's first day."""
    day = timezone.localtime(evening.days.first().starts_at)
    entry = teacher(evening, school, mis_id)
    found = Slot.objects.get(teacher=entry, starts_at=day.replace(hour=hour, minute=minute))
    [appointment] = booking.book_slots(
        parent=parent, evening=evening, choices=[(pupil, entry, found)], now=now, **kwargs
    ).appointments
    return appointment
