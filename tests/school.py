"""A small, complete school for tests, loaded straight through the sync engine.

`build_school()` returns a namespace: pupils, contacts and staff by short name, the
Snapshot it was loaded from (change it and call `resync`), and two staff users.
The families, and what each is for:

| pupil (year, form) | contacts: PR, priority, email | for |
| --- | --- | --- |
| Amy Ash (7, 7A), Ben Ash (9, 9B) | ann (PR, 1), al (PR, 2) | siblings, both parents |
| Cal Cole (8, 8C) | cara (PR, 1), colin (PR, 2, mixed case), steve (3) | separated family |
| Dan Dent (10) | dee (PR, 1, no email), don (PR, 2) | PR but no email |
| Eve East (7, 7A) | eva (PR, 1, invalid email) | invalid email |
| Fay Fox (8) | fred (PR, 1), fiona (PR, 2): one shared email | a household's one account |
| Gus Gray (9, 9B) | gina (PR, 1), gary (PR, 2, court order), gran (3) | court order |
| Hal Hunt (11) | hugh (1, no PR), helen (PR, 2) | priority 1 without PR |

Expected accounts: all contacts 8 (ann al cara colin don gina helen, and fred and fiona's
one address), primary only 4 (ann cara gina fred). Every one of the 15 contacts is
counted there, as sharing the Foxes' account (fiona, all contacts), or left out."""

import dataclasses
from datetime import date
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.db import transaction

from schoolgate.accounts.models import User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.mis.models import Contact, Pupil, Staff, SyncRun
from schoolgate.mis.snapshot import (
    ContactRow,
    GroupRow,
    LinkRow,
    PupilRow,
    Snapshot,
    StaffRow,
)
from schoolgate.mis.sync import apply_snapshot, sync_snapshot

COVERS = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}

PUPILS = {
    "amy": PupilRow("P-AMY", "Amy", "Ash", "A100", "", "", date(2014, 1, 5), 7),
    "ben": PupilRow("P-BEN", "Benjamin", "Ash", "A101", "Ben", "", date(2012, 3, 9), 9),
    "cal": PupilRow("P-CAL", "Cal", "Cole", "A102", "", "", date(2013, 6, 1), 8),
    "dan": PupilRow("P-DAN", "Dan", "Dent", "A103", "", "", date(2011, 2, 2), 10),
    "eve": PupilRow("P-EVE", "Eve", "East", "A104", "", "", date(2014, 4, 4), 7),
    "fay": PupilRow("P-FAY", "Fay", "Fox", "A105", "", "", date(2013, 5, 5), 8),
    "gus": PupilRow("P-GUS", "Gus", "Gray", "A106", "", "", date(2012, 7, 7), 9),
    "hal": PupilRow("P-HAL", "Hal", "Hunt", "A107", "", "", date(2010, 8, 8), 11),
}
CONTACTS = {
    "ann": ContactRow("C-ANN", "Ann", "Ash", "Mrs", "ann.ash@example.org"),
    "al": ContactRow("C-AL", "Al", "Ash", "Mr", "al.ash@example.org"),
    "cara": ContactRow("C-CARA", "Cara", "Cole", "Ms", "cara.cole@example.org"),
    "colin": ContactRow("C-COLIN", "Colin", "Cole", "Mr", "Colin.Cole@Example.ORG"),
    "steve": ContactRow("C-STEVE", "Steve", "Stone", "Mr", "steve.stone@example.org"),
    "dee": ContactRow("C-DEE", "Dee", "Dent", "Mrs", ""),
    "don": ContactRow("C-DON", "Don", "Dent", "Mr", "don.dent@example.org"),
    "eva": ContactRow("C-EVA", "Eva", "East", "Ms", "eva.east@"),
    "fred": ContactRow("C-FRED", "Fred", "Fox", "Mr", "fox.family@example.org"),
    "fiona": ContactRow("C-FIONA", "Fiona", "Fox", "Mrs", "Fox.Family@example.org"),
    "gina": ContactRow("C-GINA", "Gina", "Gray", "Ms", "gina.gray@example.org"),
    "gary": ContactRow("C-GARY", "Gary", "Gray", "Mr", "gary.gray@example.org"),
    "gran": ContactRow("C-GRAN", "Grace", "Gray", "Mrs", "grace.gray@example.org"),
    "hugh": ContactRow("C-HUGH", "Hugh", "Hunt", "Mr", "hugh.hunt@example.org"),
    "helen": ContactRow("C-HELEN", "Helen", "Hunt", "Mrs", "helen.hunt@example.org"),
}
# (pupil, contact, relationship, PR, priority, court order)
LINKS = [
    ("amy", "ann", "PAM", True, 1, False),
    ("amy", "al", "PAF", True, 2, False),
    ("ben", "ann", "PAM", True, 1, False),
    ("ben", "al", "PAF", True, 2, False),
    ("cal", "cara", "PAM", True, 1, False),
    ("cal", "colin", "PAF", True, 2, False),
    ("cal", "steve", "STF", False, 3, False),
    ("dan", "dee", "PAM", True, 1, False),
    ("dan", "don", "PAF", True, 2, False),
    ("eve", "eva", "PAM", True, 1, False),
    ("fay", "fred", "PAF", True, 1, False),
    ("fay", "fiona", "PAM", True, 2, False),
    ("gus", "gina", "PAM", True, 1, False),
    ("gus", "gary", "PAF", True, 2, True),
    ("gus", "gran", "FAM", False, 3, False),
    ("hal", "hugh", "PAF", False, 1, False),
    ("hal", "helen", "PAM", True, 2, False),
]
STAFF = {
    "tom": StaffRow("S-TOM", "Tom", "Teach", "Mr", "tom.teach@school.example", "Teacher"),
    "ria": StaffRow("S-RIA", "Ria", "Reed", "Dr", "ria.reed@school.example", "Teacher"),
    "sam": StaffRow("S-SAM", "Sam", "Scott", "Ms", "sam.scott@school.example", "Teacher"),
}
# (id, kind, name, subject, year, teachers, pupils)
GROUPS = [
    ("7A", "registration", "7A", "", 7, ["tom"], ["amy", "eve"]),
    ("8C", "registration", "8C", "", 8, ["ria"], ["cal", "fay"]),
    ("9B", "registration", "9B", "", 9, ["sam"], ["ben", "gus"]),
    ("7MA", "class", "7 Maths A", "Maths", 7, ["ria"], ["amy", "eve"]),
    ("7EN", "class", "7 English", "English", 7, ["sam"], ["amy"]),
    ("9SC", "class", "9 Science", "Science", 9, ["tom", "ria"], ["ben", "gus"]),
]

# no_email: dee, eva (invalid); no_pr: steve, gary (court order), gran, hugh.
ALL_COUNTS = {
    "created": 8,
    "existing": 0,
    "invited": 8,
    "same_account": 1,  # fiona: fred's address, both with PR for Fay
    "skipped": {"no_email": 2, "no_pr": 4, "not_primary": 0, "conflict": 0},
}
# not_primary: al, colin, don, helen, fiona (priority 2, although fred's account exists).
PRIMARY_COUNTS = {
    "created": 4,
    "existing": 0,
    "invited": 4,
    "same_account": 0,
    "skipped": {"no_email": 2, "no_pr": 4, "not_primary": 5, "conflict": 0},
}
ALL_PARENTS = ["ann", "al", "cara", "colin", "don", "gina", "helen", "fred"]
PRIMARY_PARENTS = ["ann", "cara", "gina", "fred"]


def school_snapshot() -> Snapshot:
    """The whole school as one full snapshot (a fresh copy each call)."""
    snapshot = Snapshot(covers=set(COVERS), full=True, source_format="test", files=["school"])
    snapshot.pupils = {row.mis_id: row for row in PUPILS.values()}
    snapshot.contacts = {row.mis_id: row for row in CONTACTS.values()}
    for pupil, contact, relationship, pr, priority, court_order in LINKS:
        row = LinkRow(
            PUPILS[pupil].mis_id, CONTACTS[contact].mis_id, relationship, pr, priority, court_order
        )
        snapshot.links[(row.pupil_id, row.contact_id)] = row
    snapshot.staff = {row.mis_id: row for row in STAFF.values()}
    for mis_id, kind, name, subject, year, teachers, pupils in GROUPS:
        snapshot.groups[mis_id] = GroupRow(mis_id, kind, name, subject, year)
        snapshot.group_teachers |= {(mis_id, STAFF[t].mis_id) for t in teachers}
        snapshot.memberships |= {(mis_id, PUPILS[p].mis_id) for p in pupils}
    return snapshot


def build_school() -> SimpleNamespace:
    """Load the school into the mirror and create an admin and a teacher account."""
    snapshot = school_snapshot()
    with transaction.atomic():
        apply_snapshot(snapshot)
    admin = User.objects.create_user(
        "admin@school.example",
        "correct horse battery staple",
        first_name="Ada",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
    )
    teacher = User.objects.create_user(
        "tom.teach@school.example",
        "correct horse battery staple",
        first_name="Tom",
        last_name="Teach",
        is_staff=True,
    )
    return SimpleNamespace(
        snapshot=snapshot,
        pupils={key: Pupil.objects.get(mis_id=row.mis_id) for key, row in PUPILS.items()},
        contacts={key: Contact.objects.get(mis_id=row.mis_id) for key, row in CONTACTS.items()},
        staff={key: Staff.objects.get(mis_id=row.mis_id) for key, row in STAFF.items()},
        admin=admin,
        teacher=teacher,
    )


def make_parent_role(name: str = "MIS Parent") -> Group:
    """A role with no permissions, chosen in the add-on settings for contact accounts."""
    group, _ = Group.objects.get_or_create(name=name)
    addon_settings = get_addon_settings()
    addon_settings.parent_group = group
    addon_settings.save()
    return group


def parent_user(contact: Contact | str, *, password: str | None = None) -> User:
    """The account of a contact (found by email), created if there is none."""
    email = contact if isinstance(contact, str) else contact.email_key
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email, password)


def link_key(pupil: str, contact: str) -> tuple[str, str]:
    return (PUPILS[pupil].mis_id, CONTACTS[contact].mis_id)


def change_link(snapshot: Snapshot, pupil: str, contact: str, **changes) -> None:
    key = link_key(pupil, contact)
    snapshot.links[key] = dataclasses.replace(snapshot.links[key], **changes)


def change_contact(snapshot: Snapshot, contact: str, **changes) -> None:
    mis_id = CONTACTS[contact].mis_id
    snapshot.contacts[mis_id] = dataclasses.replace(snapshot.contacts[mis_id], **changes)


def resync(snapshot: Snapshot) -> SyncRun:
    """Sync the (changed) snapshot the way an upload would; fails loudly if it fails."""
    run = sync_snapshot(snapshot, trigger=SyncRun.Trigger.COMMAND)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return run
