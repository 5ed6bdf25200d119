"""Reads for booking on a parent's behalf: which pupil, parent, teacher, slot and
appointment the member of staff may act on (404 otherwise), and a pupil's free times."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.http import Http404

from schoolgate.accounts.access import pupils_visible_to, qualifying_links
from schoolgate.accounts.models import User
from schoolgate.evenings.booking.availability import (
    BookableTeacher,
    bookable_teachers,
    eligible_pupils,
    free_starts_by_teacher,
    live_q,
)
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Slot,
)
from schoolgate.evenings.web.ids import parse_id
from schoolgate.mis.models import GroupMembership, Pupil, TeachingGroup

YEAR = re.compile(r"(?:y|yr|year|bl)?(?P<n>\d{1,2})", re.IGNORECASE)
YEAR_WORDS = {"year", "yr", "blwyddyn", "bl"}


def find_pupils(evening: Evening, query: str, *, teacher: EveningTeacher | None = None, limit=50):
    """The evening's pupils whose name (legal or preferred, forename, surname or both)
    or registration group matches `query`, as [(pupil, registration group names)],
    by surname; with `teacher`, only pupils who may book that teacher. A number is a
    year group ("7", "Y7", "year 7"); any part of a name matches ("ash" finds Ashby)."""
    words = [word for word in query.split() if word.casefold() not in YEAR_WORDS]
    if not words:
        return []
    match = Q()
    for word in words:
        year = YEAR.fullmatch(word)
        match &= (
            (Q(year_group=int(year["n"])) if year else Q(pk__in=[]))
            | Q(legal_forename__icontains=word)
            | Q(legal_surname__icontains=word)
            | Q(preferred_forename__icontains=word)
            | Q(preferred_surname__icontains=word)
            | Q(
                pk__in=GroupMembership.objects.filter(
                    group__kind=TeachingGroup.Kind.REGISTRATION,
                    group__current=True,
                    group__name__iexact=word,
                ).values("pupil_id")
            )
        )
    pupils = list(
        eligible_pupils(evening)
        .filter(match)
        .order_by("legal_surname", "legal_forename", "pk")[: limit * 2]
    )
    if teacher is not None:
        bookable = bookable_teachers(evening=evening, pupil_ids=[p.pk for p in pupils])
        pupils = [p for p in pupils if teacher.pk in bookable.get(p.pk, {})]
    return _with_forms(pupils[:limit])


def teachers_pupils(evening: Evening, teacher: EveningTeacher, *, now: datetime, limit=60):
    """The pupils a class teacher or form tutor teaches here who have no meeting with
    them yet, as find_pupils gives them: a short list to pick from instead of typing a
    name. None for staff every pupil may book, or when there are more than `limit`."""
    if teacher.source == EveningTeacher.Source.ADDED:
        return None
    pupils = eligible_pupils(evening).filter(
        pk__in=GroupMembership.objects.filter(
            group__current=True, group__groupteacher__staff_id=teacher.staff_id
        ).values("pupil_id")
    )
    if evening.shared_meetings:
        pupils = pupils.exclude(
            pk__in=Appointment.objects.filter(live_q(now), evening=evening, teacher=teacher).values(
                "pupil_id"
            )
        )
    pupils = list(pupils.order_by("legal_surname", "legal_forename", "pk")[: limit + 1])
    if len(pupils) > limit:
        return None
    return _with_forms(pupils)


def _with_forms(pupils: list[Pupil]) -> list[tuple[Pupil, list[str]]]:
    """[(pupil, their registration groups' names)]."""
    forms = defaultdict(list)
    for pupil_id, name in GroupMembership.objects.filter(
        pupil_id__in=[p.pk for p in pupils],
        group__kind=TeachingGroup.Kind.REGISTRATION,
        group__current=True,
    ).values_list("pupil_id", "group__name"):
        forms[pupil_id].append(name)
    return [(p, sorted(forms[p.pk])) for p in pupils]


def pupil_or_404(evening: Evening, pupil_id) -> Pupil:
    """A pupil the evening is for."""
    try:
        return eligible_pupils(evening).get(pk=parse_id(pupil_id))
    except Pupil.DoesNotExist:
        raise Http404 from None


def parents_of(pupil: Pupil) -> list[User]:
    """The accounts that may see the pupil now (accounts.access): those a booking can
    be for. In the order of the MIS's contact priority."""
    links = qualifying_links().filter(pupil=pupil).order_by("priority", "contact_id")
    keys = list(links.values_list("contact__email_key", flat=True))
    users = {u.email: u for u in User.objects.filter(is_active=True, email__in=keys)}
    return [users[k] for k in dict.fromkeys(keys) if k in users]


def contacts_without_account(pupil: Pupil) -> list:
    """Contacts who may see the pupil but have no account yet (nobody to book for)."""
    links = qualifying_links().filter(pupil=pupil).select_related("contact")
    with_account = set(
        User.objects.filter(
            is_active=True, email__in=[link.contact.email_key for link in links]
        ).values_list("email", flat=True)
    )
    return [link.contact for link in links if link.contact.email_key not in with_account]


def family(evening: Evening, parent: User, pupil: Pupil, *, now: datetime):
    """The parent's other children at this evening, and their own live appointments
    here for any other child: what the organiser on the phone needs in view."""
    others = list(
        eligible_pupils(evening)
        .filter(pk__in=pupils_visible_to(parent))
        .exclude(pk=pupil.pk)
        .order_by("legal_forename", "pk")
    )
    visit = list(
        Appointment.objects.filter(live_q(now), evening=evening, parent=parent)
        .exclude(pupil=pupil)
        .select_related("pupil", "teacher__staff")
        .order_by("starts_at", "pk")
    )
    return others, visit


def parent_or_404(parents: list[User], parent_id) -> User:
    wanted = parse_id(parent_id)
    for parent in parents:
        if parent.pk == wanted:
            return parent
    raise Http404


def appointment_or_404(evening: Evening, appointment_id) -> Appointment:
    """An appointment of this evening (any status)."""
    try:
        return Appointment.objects.select_related(
            "pupil", "teacher__staff", "day", "parent", "booked_by", "cancelled_by"
        ).get(pk=parse_id(appointment_id), evening=evening)
    except Appointment.DoesNotExist:
        raise Http404 from None


def pupil_teachers(evening: Evening, pupil: Pupil) -> list[BookableTeacher]:
    """The teachers the pupil may book here, by name."""
    found = bookable_teachers(evening=evening, pupil_ids=[pupil.pk]).get(pupil.pk, {})
    return sorted(
        found.values(),
        key=lambda b: (b.teacher.staff.surname, b.teacher.staff.forename, b.teacher.pk),
    )


def teacher_or_404(teachers: list[BookableTeacher], teacher_id) -> BookableTeacher:
    wanted = parse_id(teacher_id)
    for entry in teachers:
        if entry.teacher.pk == wanted:
            return entry
    raise Http404


def slot_or_404(evening: Evening, slot_id, *, teacher_id: int | None = None) -> Slot:
    query = Slot.objects.select_related("teacher__staff", "day").filter(evening=evening)
    if teacher_id is not None:
        query = query.filter(teacher_id=teacher_id)
    try:
        return query.get(pk=parse_id(slot_id))
    except Slot.DoesNotExist:
        raise Http404 from None


def pupil_appointments(evening: Evening, pupil: Pupil, *, now: datetime) -> list[Appointment]:
    """The pupil's live appointments here, whoever booked them."""
    return list(
        Appointment.objects.filter(live_q(now), evening=evening, pupil=pupil)
        .select_related("teacher__staff", "parent", "booked_by", "day")
        .order_by("starts_at", "pk")
    )


@dataclass
class TeacherTimes:
    """A teacher the pupil may book, their free start times, and the meeting if any."""

    bookable: BookableTeacher
    free: list[Slot]
    booked: Appointment | None = None
    picked: int | None = None  # the slot id chosen, when the page is shown again

    @property
    def teacher(self) -> EveningTeacher:
        return self.bookable.teacher

    @property
    def field_name(self) -> str:
        return f"slot-{self.bookable.teacher.pk}"


def free_times(
    evening: Evening, teachers: list[BookableTeacher], *, now: datetime, booked=()
) -> list[TeacherTimes]:
    """Each teacher's free start times for an appointment of the pupil's length (one
    query per length asked for; nearly always one)."""
    met = {a.teacher_id: a for a in booked}
    by_length = defaultdict(dict)
    for entry in teachers:
        by_length[entry.minutes][entry.teacher.pk] = entry.minutes
    free = {}
    for minutes, wanted in by_length.items():
        for teacher_id, slots in free_starts_by_teacher(
            evening=evening, wanted=wanted, now=now
        ).items():
            free[(teacher_id, minutes)] = slots
    return [
        TeacherTimes(e, free.get((e.teacher.pk, e.minutes), []), met.get(e.teacher.pk))
        for e in teachers
    ]
