"""The demo's parents' evening: published, booking open now, the evening itself ten
days ahead, for the demo parent's children's year groups and more, with a room for
every teacher and a tea break. Made through the set-up services, as an organiser
would; `schoolgate demo` calls it after loading the demo school."""

from collections import Counter
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from schoolgate.accounts.models import User
from schoolgate.core.emails import normalise_email
from schoolgate.evenings.models import Evening, EveningTeacher
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.demo import DEMO_ADMIN_EMAIL, YEARS, demo_parent
from schoolgate.mis.models import GroupTeacher, TeachingGroup

DEMO_EVENING_NAME = "Demo parents' evening"
DAYS_AHEAD = 10
YEAR_GROUPS = 3
STARTS, ENDS = time(16, 0), time(19, 0)
BREAK = (time(17, 30), time(17, 45))


def set_up_demo_evening(*, now: datetime | None = None) -> Evening | None:
    """The demo evening, created if there is none by its name (running the demo again
    changes nothing). None when the demo school or its administrator is missing."""
    existing = Evening.objects.filter(name=DEMO_EVENING_NAME).first()
    if existing is not None:
        return existing
    organiser = User.objects.filter(email=normalise_email(DEMO_ADMIN_EMAIL)).first()
    parent, children = demo_parent()
    if organiser is None or parent is None:
        return None
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    day = timezone.localdate(now, zone) + timedelta(days=DAYS_AHEAD)
    starts = datetime.combine(day, STARTS).replace(tzinfo=zone)
    ends = datetime.combine(day, ENDS).replace(tzinfo=zone)
    years = [c.year_group for c in children if c.year_group is not None]
    years += [y for y in YEARS if y not in years]
    with transaction.atomic():
        evening = setup.create_evening(
            actor=organiser,
            name=DEMO_EVENING_NAME,
            description=(
                "Meet your child's teachers. Appointments are in the teachers' own rooms; "
                "the main entrance opens at 15:45."
            ),
            days=[(starts, ends)],
            booking_opens=now.replace(second=0, microsecond=0) - timedelta(hours=1),
            booking_closes=datetime.combine(day, time(12, 0)).replace(tzinfo=zone),
            slot_minutes=10,
            year_groups=sorted(set(years[:YEAR_GROUPS])),
            cutoff_hours=2,
            now=now,
        )
        for teacher, room in _rooms(evening).items():
            setup.update_teacher(teacher=teacher, actor=organiser, room=room, now=now)
        setup.add_break(
            evening=evening,
            actor=organiser,
            starts_at=datetime.combine(day, BREAK[0]).replace(tzinfo=zone),
            ends_at=datetime.combine(day, BREAK[1]).replace(tzinfo=zone),
            label="Tea break",
            now=now,
        )
        return setup.set_status(
            evening=evening, actor=organiser, status=Evening.Status.PUBLISHED, now=now
        )


def _rooms(evening: Evening) -> dict[EveningTeacher, str]:
    """A room per teacher, named for the subject they teach most ("Maths 2"); form
    tutors with no class of their own get a numbered room."""
    teachers = list(
        EveningTeacher.objects.filter(evening=evening, removed=False)
        .select_related("staff")
        .order_by("staff__surname", "staff__forename", "pk")
    )
    subjects: dict[int, Counter] = {}
    for staff_id, subject in (
        GroupTeacher.objects.filter(
            staff__in=[t.staff_id for t in teachers],
            group__kind=TeachingGroup.Kind.CLASS,
            group__current=True,
        )
        .values_list("staff_id", "group__subject")
        .order_by("staff_id", "group__mis_id")
    ):
        subjects.setdefault(staff_id, Counter())[subject or "Room"] += 1
    numbers: Counter = Counter()
    rooms = {}
    for teacher in teachers:
        mine = subjects.get(teacher.staff_id)
        subject = mine.most_common(1)[0][0] if mine else "Room"
        numbers[subject] += 1
        rooms[teacher] = f"{subject} {numbers[subject]}"
    return rooms


def on_demo_school_ready(sender, **kwargs) -> None:
    """Receiver of mis's demo_school_ready: a published evening the demo parent can book."""
    set_up_demo_evening()
