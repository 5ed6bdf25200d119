"""What the parent portal shows about a child, read through accounts.access only."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.mis.dashboard import year_label
from schoolgate.mis.models import Pupil, Staff, TeachingGroup


@dataclass(frozen=True)
class GroupInfo:
    name: str
    subject: str
    teachers: tuple[str, ...]


@dataclass(frozen=True)
class Child:
    id: int
    name: str
    legal_name: str
    date_of_birth: date | None
    year: str
    registration_group: str
    form_tutors: tuple[str, ...]
    classes: tuple[GroupInfo, ...]


def _with_groups(pupils):
    teachers = Staff.objects.filter(current=True).order_by("surname", "forename")
    groups = TeachingGroup.objects.filter(current=True).prefetch_related(
        Prefetch("teachers", queryset=teachers)
    )
    return pupils.prefetch_related(Prefetch("groups", queryset=groups.order_by("subject", "name")))


def _child(pupil: Pupil) -> Child:
    registration = [g for g in pupil.groups.all() if g.kind == TeachingGroup.Kind.REGISTRATION]
    classes = [g for g in pupil.groups.all() if g.kind == TeachingGroup.Kind.CLASS]
    return Child(
        id=pupil.pk,
        name=pupil.display_name,
        legal_name=f"{pupil.legal_forename} {pupil.legal_surname}",
        date_of_birth=pupil.date_of_birth,
        year=year_label(pupil.year_group),
        registration_group=", ".join(g.name for g in registration),
        form_tutors=tuple(t.display_name for g in registration for t in g.teachers.all()),
        classes=tuple(
            GroupInfo(g.name, g.subject, tuple(t.display_name for t in g.teachers.all()))
            for g in classes
        ),
    )


def children_of(user) -> list[Child]:
    """The children this person may see now, by name, with their groups (4 queries)."""
    pupils = _with_groups(pupils_visible_to(user).order_by("legal_surname", "legal_forename"))
    return [_child(p) for p in pupils]


def child(pupil: Pupil) -> Child:
    """One child's details; the caller has already checked access."""
    return _child(_with_groups(Pupil.objects.filter(pk=pupil.pk)).get())
