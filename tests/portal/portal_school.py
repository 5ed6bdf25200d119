"""The school of tests/school.py with parent accounts and parents' evenings for the
portal's tests.

Evenings run on the real clock (the pages use it), `in_days` from today, 16:00–19:00
in London with 10-minute slots. The staff: Tom Teach (tutor of 7A, 9 Science), Ria
Reed (tutor of 8C, 7 Maths A, 9 Science), Sam Scott (tutor of 9B, 7 English)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from school import make_parent_role

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import User
from schoolgate.evenings import booking
from schoolgate.evenings.models import Evening, EveningTeacher, Slot
from schoolgate.evenings.setup import services as setup

LONDON = ZoneInfo("Europe/London")


def make_parents(school) -> dict[str, User]:
    """Accounts for every contact who may have one ("all contacts"), by short name."""
    make_parent_role()
    generate_accounts(mode="all")
    return {
        key: User.objects.filter(email=c.email_key).first() for key, c in school.contacts.items()
    }


def make_evening(
    school, *, in_days: int = 10, opens_in_days: int = -5, publish: bool = True, **overrides
) -> Evening:
    """A published evening for Years 7 and 9 (unless `year_groups` says otherwise)."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=in_days)
    start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=LONDON)
    values = {
        "actor": school.admin,
        "name": "Spring parents' evening",
        "days": [(start, start.replace(hour=19))],
        "booking_opens": now + timedelta(days=opens_in_days),
        "booking_closes": start - timedelta(hours=4),
        "slot_minutes": 10,
        "year_groups": [7, 9],
        "now": now - timedelta(days=30),
    }
    values.update(overrides)
    evening = setup.create_evening(**values)
    if not publish:
        return evening
    return setup.set_status(
        evening=evening, actor=school.admin, status=Evening.Status.PUBLISHED, now=values["now"]
    )


def teacher(evening: Evening, school, staff: str) -> EveningTeacher:
    return EveningTeacher.objects.get(evening=evening, staff=school.staff[staff])


def at(evening: Evening, school, staff: str, hour: int, minute: int) -> Slot:
    day = timezone.localtime(evening.days.first().starts_at)
    return Slot.objects.get(
        teacher=teacher(evening, school, staff), starts_at=day.replace(hour=hour, minute=minute)
    )


def book(school, evening, parent, *choices, actor=None, now=None):
    """Book [(pupil key, staff key, hour, minute)] for `parent` through the engine."""
    return booking.book_slots(
        parent=parent,
        evening=evening,
        choices=[
            (school.pupils[p], teacher(evening, school, s), at(evening, school, s, h, m))
            for p, s, h, m in choices
        ],
        actor=actor,
        now=now,
    ).appointments
