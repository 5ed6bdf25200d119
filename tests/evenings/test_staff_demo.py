"""The demo's parents' evening: `schoolgate demo` leaves one published evening, open
for booking now, that the demo parent can book; running the demo again keeps it."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from schoolgate.accounts.models import User
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import (
    evenings_for_parent,
    free_starts,
    teachers_for_pupil,
)
from schoolgate.evenings.demo import DEMO_EVENING_NAME, set_up_demo_evening
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher
from schoolgate.mis.demo import demo_parent

SMALL = "60"


def test_demo_leaves_a_published_evening_the_demo_parent_can_book(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", "--pupils", SMALL, stdout=StringIO())
    evening = Evening.objects.get()
    now = timezone.now()

    assert evening.name == DEMO_EVENING_NAME
    assert evening.status == Evening.Status.PUBLISHED
    assert evening.booking_opens <= now < evening.booking_closes
    day = evening.days.get()
    assert timedelta(days=7) <= day.starts_at - now <= timedelta(days=14)
    assert timezone.localtime(day.starts_at).hour == 16
    assert len(evening.year_groups) == 3
    teachers = EveningTeacher.objects.filter(evening=evening, removed=False)
    assert teachers.count() >= 5
    assert not teachers.filter(room="").exists()
    assert evening.breaks.get().all_teachers

    contact, children = demo_parent()
    parent = User.objects.get(email=contact.email_key)
    assert evenings_for_parent(parent, now=now) == [evening]
    child = children[0]
    choices = []
    for bookable in teachers_for_pupil(evening=evening, pupil=child)[:2]:
        free = free_starts(evening=evening, teacher=bookable.teacher, now=now)
        choices.append((child, bookable.teacher, free[len(choices) * 3]))
    assert choices
    booking.book_slots(parent=parent, evening=evening, choices=choices, now=now)
    assert Appointment.objects.filter(parent=parent, status="confirmed").count() == len(choices)


def test_demo_evening_is_made_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", "--pupils", SMALL, stdout=StringIO())
    first = Evening.objects.get()
    call_command("demo", "--pupils", SMALL, stdout=StringIO())
    assert set_up_demo_evening() == first
    assert list(Evening.objects.all()) == [first]


def test_no_demo_evening_without_the_demo_school():
    assert set_up_demo_evening() is None
    assert not Evening.objects.exists()
