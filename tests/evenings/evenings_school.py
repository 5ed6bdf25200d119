"""A small school for the evenings tests, loaded through the sync engine.

Families: Ann Ash has Amy (Y7) and Ben (Y9); Bea Best has Cal (Y7); Dan Dee (Y7) has
separated parents, Deb and Don, both with parental responsibility. Staff: Tom Tutor
(form tutor of 7A), Mia Maths (7 Maths: Amy, Cal, Dan), Eve English (7 English: Amy,
Dan), Sam Science (9 Science: Ben), Fay Form (tutor of 9B), Sue Senco (no classes).
The evening is on Tuesday 10 March 2026, 16:00–19:00 in London (GMT), 10-minute slots."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import TEACHERS
from schoolgate.addons.models import AddonSettings
from schoolgate.evenings import booking
from schoolgate.evenings.models import Evening, EveningTeacher, Slot
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.models import Pupil, Staff, TeachingGroup
from schoolgate.mis.snapshot import ContactRow, GroupRow, LinkRow, PupilRow, Snapshot, StaffRow
from schoolgate.mis.sync import apply_snapshot

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=LONDON)  # booking is open
VIDEO_SERVER = "https://meet.school.example"
EVERYTHING = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def snapshot(*, extra_families: int = 0) -> Snapshot:
    """The school; `extra_families` adds Year 7 families R01, R02... (one child each, in
    7A and 7 Maths, parent rNN@example.org) for races between many parents."""
    s = Snapshot(covers=set(EVERYTHING), full=True, source_format="test", files=["school"])
    for row in (
        PupilRow("P-AMY", "Amy", "Ash", year_group=7),
        PupilRow("P-BEN", "Ben", "Ash", year_group=9),
        PupilRow("P-CAL", "Cal", "Best", year_group=7),
        PupilRow("P-DAN", "Dan", "Dee", year_group=7),
        PupilRow("P-ZOE", "Zoe", "Zed", year_group=11),
    ):
        s.pupils[row.mis_id] = row
    for row in (
        ContactRow("C-ANN", "Ann", "Ash", "Mrs", "ann@example.org"),
        ContactRow("C-BEA", "Bea", "Best", "Ms", "bea@example.org"),
        ContactRow("C-DEB", "Deb", "Dee", "Ms", "deb@example.org"),
        ContactRow("C-DON", "Don", "Dee", "Mr", "don@example.org"),
        ContactRow("C-ZAK", "Zak", "Zed", "Mr", "zak@example.org"),
    ):
        s.contacts[row.mis_id] = row
    for row in (
        LinkRow("P-AMY", "C-ANN", "PAM", True, 1),
        LinkRow("P-BEN", "C-ANN", "PAM", True, 1),
        LinkRow("P-CAL", "C-BEA", "PAM", True, 1),
        LinkRow("P-DAN", "C-DEB", "PAM", True, 1),
        LinkRow("P-DAN", "C-DON", "PAF", True, 2),
        LinkRow("P-ZOE", "C-ZAK", "PAF", True, 1),
    ):
        s.links[(row.pupil_id, row.contact_id)] = row
    for row in (
        StaffRow("S-TOM", "Tom", "Tutor", "Mr"),
        StaffRow("S-MIA", "Mia", "Maths", "Ms"),
        StaffRow("S-EVE", "Eve", "English", "Dr"),
        StaffRow("S-SAM", "Sam", "Science", "Mr"),
        StaffRow("S-FAY", "Fay", "Form", "Mrs"),
        StaffRow("S-SUE", "Sue", "Senco", "Ms"),
        StaffRow("S-ZED", "Zed", "Eleven", "Mr"),
    ):
        s.staff[row.mis_id] = row
    for row in (
        GroupRow("7A", "registration", "7A", year_group=7),
        GroupRow("9B", "registration", "9B", year_group=9),
        GroupRow("11C", "registration", "11C", year_group=11),
        GroupRow("7MA", "class", "7 Maths", "Maths", 7),
        GroupRow("7EN", "class", "7 English", "English", 7),
        GroupRow("9SC", "class", "9 Science", "Science", 9),
    ):
        s.groups[row.mis_id] = row
    s.memberships |= {
        ("7A", "P-AMY"),
        ("7A", "P-CAL"),
        ("7A", "P-DAN"),
        ("9B", "P-BEN"),
        ("11C", "P-ZOE"),
        ("7MA", "P-AMY"),
        ("7MA", "P-CAL"),
        ("7MA", "P-DAN"),
        ("7EN", "P-AMY"),
        ("7EN", "P-DAN"),
        ("9SC", "P-BEN"),
    }
    s.group_teachers |= {
        ("7A", "S-TOM"),
        ("9B", "S-FAY"),
        ("11C", "S-ZED"),
        ("7MA", "S-MIA"),
        ("7EN", "S-EVE"),
        ("9SC", "S-SAM"),
    }
    for n in range(1, extra_families + 1):
        pupil, contact = f"P-R{n:02}", f"C-R{n:02}"
        s.pupils[pupil] = PupilRow(pupil, f"Rae{n:02}", "Race", year_group=7)
        s.contacts[contact] = ContactRow(contact, f"Rob{n:02}", "Race", "", f"r{n:02}@example.org")
        s.links[(pupil, contact)] = LinkRow(pupil, contact, "PAF", True, 1)
        s.memberships |= {("7A", pupil), ("7MA", pupil)}
    return s


@dataclass
class School:
    ann: User
    bea: User
    deb: User
    don: User
    zak: User
    organiser: User
    teacher_user: User
    amy: Pupil
    ben: Pupil
    cal: Pupil
    dan: Pupil
    zoe: Pupil
    staff: dict

    def group(self, mis_id: str) -> TeachingGroup:
        return TeachingGroup.objects.get(mis_id=mis_id)

    def racers(self) -> list[tuple[User, Pupil]]:
        """The extra families, as (parent, child)."""
        return [
            (User.objects.get(email=f"r{p.legal_forename[3:]}@example.org"), p)
            for p in Pupil.objects.filter(legal_surname="Race").order_by("legal_forename")
        ]


def make_school(*, extra_families: int = 0) -> School:
    with transaction.atomic():
        apply_snapshot(snapshot(extra_families=extra_families))
    for n in range(1, extra_families + 1):
        User.objects.create_user(f"r{n:02}@example.org")
    parents = {
        name: User.objects.create_user(f"{name}@example.org", first_name=name.title())
        for name in ("ann", "bea", "deb", "don", "zak")
    }
    organiser = User.objects.create_user("office@school.example", is_staff=True)
    organiser.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="evenings",
            codename__in=["organise_evenings", "book_for_parents"],
        )
    )
    teacher_user = User.objects.create_user("teacher@school.example", is_staff=True)
    teacher_user.groups.add(Group.objects.get(name=TEACHERS))
    # The school's video service (docs/video.md): video evenings can be published.
    AddonSettings.objects.update_or_create(pk=1, defaults={"video_server": VIDEO_SERVER})
    pupils = {p.legal_forename.lower(): p for p in Pupil.objects.exclude(legal_surname="Race")}
    staff = {s.mis_id: s for s in Staff.objects.all()}
    return School(
        organiser=User.objects.get(pk=organiser.pk),  # fresh permission cache
        teacher_user=teacher_user,
        staff=staff,
        **parents,
        **pupils,
    )


@pytest.fixture
def school() -> School:
    return make_school()


def make_evening(school: School, **overrides) -> Evening:
    values = {
        "actor": school.organiser,
        "name": "Spring parents' evening",
        "days": [(london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0))],
        "booking_opens": london(2026, 2, 20, 9, 0),
        "booking_closes": london(2026, 3, 10, 12, 0),
        "slot_minutes": 10,
        "year_groups": [7, 9],
        "now": NOW,
    }
    values.update(overrides)
    evening = setup.create_evening(**values)
    return setup.set_status(
        evening=evening, actor=school.organiser, status=Evening.Status.PUBLISHED, now=NOW
    )


@pytest.fixture
def evening(school) -> Evening:
    return make_evening(school)


def teacher(evening: Evening, school: School, mis_id: str) -> EveningTeacher:
    return EveningTeacher.objects.get(evening=evening, staff=school.staff[mis_id])


def slot(evening: Evening, school: School, mis_id: str, hour: int, minute: int, day=10) -> Slot:
    return Slot.objects.get(
        teacher=teacher(evening, school, mis_id), starts_at=london(2026, 3, day, hour, minute)
    )


def book(school, evening, parent, *choices, now=NOW, **kwargs):
    """Book [(pupil, staff mis id, hour, minute)] straight away for `parent`."""
    resolved = [
        (pupil, teacher(evening, school, mis_id), slot(evening, school, mis_id, h, m))
        for pupil, mis_id, h, m in choices
    ]
    return booking.book_slots(parent=parent, evening=evening, choices=resolved, now=now, **kwargs)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
