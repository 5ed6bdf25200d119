"""The organiser's grid: every teacher of an evening against the day's times, each
cell free, held, booked, a break, absent, or no time at all.

A selector: nothing here writes. `build_grid` reads a fixed number of queries
whatever the number of teachers and slots (tests/evenings/test_grid.py counts them,
bench/grid.py times it): the days, the teachers, what they teach the evening's pupils
(for the year and department filters), the day's slots, the claims on them (with the
appointment and pupil) and the absences. Values, not model instances, where there are
thousands of rows."""

import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from schoolgate.accounts.access import pupils_visible_to, qualifying_links
from schoolgate.accounts.models import User
from schoolgate.evenings.availability import (
    BookableTeacher,
    bookable_teachers,
    eligible_pupils,
    free_starts_by_teacher,
    live_q,
)
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningDay,
    EveningTeacher,
    Slot,
    SlotClaim,
    TeacherAbsence,
)
from schoolgate.mis.models import GroupMembership, GroupTeacher, Pupil, TeachingGroup

FREE = "free"
HELD = "held"
BOOKED = "booked"
BREAK = "break"
ABSENT = "absent"
PAST = "past"  # free, but too late to book: it has started
NONE = "none"  # the teacher has no appointment time in this column
STATES = (FREE, PAST, HELD, BOOKED, BREAK, ABSENT, NONE)


@dataclass(slots=True)
class Cell:
    """One cell of a teacher's row: `span` columns from `starts_at`."""

    state: str
    span: int = 1
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    slot_id: int | None = None
    appointment_id: int | None = None
    pupil: str = ""
    by_school: bool = False  # booked by someone other than the parent (staff)
    label: str = ""  # a break's name
    column: int = 0  # the index of its first column


@dataclass
class Row:
    teacher: EveningTeacher
    subjects: list[str]
    cells: list[Cell]


@dataclass
class Grid:
    evening: Evening
    days: list[EveningDay]
    day: EveningDay | None
    columns: list[datetime]
    rows: list[Row]
    teachers: list[EveningTeacher]  # every teacher of the evening, for the filter
    years: list[int]
    departments: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def teaching(evening: Evening, staff_ids) -> dict[int, set[tuple[str, int | None]]]:
    """{staff id: {(subject, pupil's year)}} for the classes each teaches to the
    evening's pupils (registration groups have no subject): one query."""
    rows = (
        GroupMembership.objects.filter(
            pupil__in=eligible_pupils(evening).values("pk"),
            group__current=True,
            group__in=GroupTeacher.objects.filter(staff_id__in=staff_ids).values("group_id"),
        )
        .values_list("group__groupteacher__staff_id", "group__subject", "pupil__year_group")
        .distinct()
    )
    found = defaultdict(set)
    for staff_id, subject, year in rows:
        found[staff_id].add((subject or "", year))
    return found


def filter_values(taught: dict) -> tuple[list[int], list[str]]:
    """The year groups and departments a filter may choose from."""
    years = sorted({y for pairs in taught.values() for _s, y in pairs if y is not None})
    departments = sorted({s for pairs in taught.values() for s, _y in pairs if s})
    return years, departments


def evening_teachers(evening: Evening) -> list[EveningTeacher]:
    """The teachers taking part, by name."""
    return list(
        EveningTeacher.objects.filter(evening=evening, removed=False)
        .select_related("staff")
        .order_by("staff__surname", "staff__forename", "pk")
    )


def build_grid(
    evening: Evening,
    *,
    day: EveningDay | None = None,
    year: int | None = None,
    department: str = "",
    teacher: EveningTeacher | None = None,
    now: datetime | None = None,
    days: list[EveningDay] | None = None,
    teachers: list[EveningTeacher] | None = None,
    taught: dict | None = None,
) -> Grid:
    """The grid of one day (the first when `day` is None), filtered by the year group
    of the pupils a teacher teaches here, by department (the subject of those classes)
    and by teacher. Teachers added by the organiser (every pupil may book them) are
    kept by a year filter but not by a department filter. `days`, `teachers` and
    `taught` (from `teaching`), when the caller has read them already, save queries."""
    now = now or timezone.now()
    if days is None:
        days = list(evening.days.all())
    if teachers is None:
        teachers = evening_teachers(evening)
    day = day or (days[0] if days else None)
    if taught is None:
        taught = teaching(evening, [t.staff_id for t in teachers])
    years, departments = filter_values(taught)

    shown = []
    for t in teachers:
        pairs = taught.get(t.staff_id, set())
        added = t.source == EveningTeacher.Source.ADDED
        if teacher is not None and t.pk != teacher.pk:
            continue
        if year is not None and not added and not any(y == year for _s, y in pairs):
            continue
        if department and not any(
            s == department and (year is None or y == year) for s, y in pairs
        ):
            continue
        shown.append((t, sorted({s for s, _y in pairs if s})))

    if day is None or not shown:
        return Grid(evening, days, day, [], [], teachers, years, departments, _counts([]))

    ids = [t.pk for t, _s in shown]
    # A teacher's slots all last their length (setup._sync_slots): the end is not read,
    # which spares converting thousands of datetimes.
    length = {t.pk: timedelta(minutes=t.slot_minutes or evening.slot_minutes) for t, _s in shown}
    slots = defaultdict(list)
    for slot_id, teacher_id, starts_at in (
        Slot.objects.filter(evening=evening, day=day, teacher_id__in=ids)
        .order_by("starts_at")
        .values_list("pk", "teacher_id", "starts_at")
    ):
        slots[teacher_id].append((slot_id, starts_at, starts_at + length[teacher_id]))
    claims = {}
    for (
        slot_id,
        brk_id,
        brk_label,
        appointment_id,
        status,
        expires_at,
        legal_forename,
        legal_surname,
        preferred_forename,
        preferred_surname,
        parent_id,
        booked_by_id,
    ) in SlotClaim.objects.filter(
        slot__evening=evening, slot__day=day, slot__teacher_id__in=ids
    ).values_list(
        "slot_id",
        "brk_id",
        "brk__label",
        "appointment_id",
        "appointment__status",
        "appointment__expires_at",
        "appointment__pupil__legal_forename",
        "appointment__pupil__legal_surname",
        "appointment__pupil__preferred_forename",
        "appointment__pupil__preferred_surname",
        "appointment__parent_id",
        "appointment__booked_by_id",
    ):
        if brk_id is not None:
            claims[slot_id] = (BREAK, None, "", False, brk_label or "")
        elif status == Appointment.Status.CONFIRMED or (
            status == Appointment.Status.HELD and expires_at > now
        ):
            name = f"{preferred_forename or legal_forename} {preferred_surname or legal_surname}"
            claims[slot_id] = (
                BOOKED if status == Appointment.Status.CONFIRMED else HELD,
                appointment_id,
                name,
                booked_by_id is not None and booked_by_id != parent_id,
                "",
            )
        # An expired hold frees itself: its slot shows as free.
    absences = defaultdict(list)
    for teacher_id, starts_at, ends_at in TeacherAbsence.objects.filter(
        Q(starts_at__isnull=True) | Q(starts_at__lt=day.ends_at, ends_at__gt=day.starts_at),
        evening=evening,
        teacher_id__in=ids,
    ).values_list("teacher_id", "starts_at", "ends_at"):
        absences[teacher_id].append((starts_at, ends_at))

    # Staff booking for a parent pass the parents' cut-off; a time that has started is
    # too late for anyone.
    late = now
    columns = sorted({starts_at for mine in slots.values() for _i, starts_at, _e in mine})
    index = {at: i for i, at in enumerate(columns)}
    rows = [
        Row(
            t,
            subjects,
            _cells(slots.get(t.pk, []), claims, absences.get(t.pk, []), columns, index, late),
        )
        for t, subjects in shown
    ]
    return Grid(evening, days, day, columns, rows, teachers, years, departments, _counts(rows))


def _cells(mine, claims, absent, columns, index, late) -> list[Cell]:
    """A teacher's cells across the columns: each slot in the column of its start,
    spanning the columns until its end; one appointment or break over several slots
    is one cell; columns without a slot of theirs are NONE cells. Runs once per slot
    of the page (thousands): tuples and bisect, no per-slot queries or copies."""
    cells: list[Cell] = []
    at = 0  # the next column to fill
    previous = None
    for slot_id, starts_at, ends_at in mine:
        first = index[starts_at]
        if first > at:
            cells.append(Cell(NONE, span=first - at, column=at))
            previous = None
        span = bisect_left(columns, ends_at, lo=first + 1) - first
        claim = claims.get(slot_id)
        if claim is None:
            state = FREE if starts_at > late else PAST
            if absent and any(s is None or (s < ends_at and e > starts_at) for s, e in absent):
                state = ABSENT
            claim = (state, None, "", False, "")
        state, appointment_id, pupil, by_school, label = claim
        if (
            previous is not None
            and state not in (FREE, PAST)
            and previous.state == state
            and previous.appointment_id == appointment_id
            and previous.label == label
            and previous.ends_at == starts_at
        ):
            previous.span += span
            previous.ends_at = ends_at
        else:
            previous = Cell(
                state,
                span,
                starts_at,
                ends_at,
                slot_id,
                appointment_id,
                pupil,
                by_school,
                label,
                first,
            )
            cells.append(previous)
        at = first + span
    if at < len(columns):
        cells.append(Cell(NONE, span=len(columns) - at, column=at))
    return cells


def _counts(rows: list[Row]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        for cell in row.cells:
            counts[cell.state] += 1
    return counts


# --- on a parent's behalf: which pupil, parent, appointment (404 otherwise) ---------


def _int(value) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise Http404 from None
    if number < 1 or number > 2**62:
        raise Http404
    return number


def parse_id(value) -> int:
    """A positive whole number, or 404."""
    return _int(value)


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
        return eligible_pupils(evening).get(pk=_int(pupil_id))
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
    wanted = _int(parent_id)
    for parent in parents:
        if parent.pk == wanted:
            return parent
    raise Http404


def appointment_or_404(evening: Evening, appointment_id) -> Appointment:
    """An appointment of this evening (any status)."""
    try:
        return Appointment.objects.select_related(
            "pupil", "teacher__staff", "day", "parent", "booked_by", "cancelled_by"
        ).get(pk=_int(appointment_id), evening=evening)
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
    wanted = _int(teacher_id)
    for entry in teachers:
        if entry.teacher.pk == wanted:
            return entry
    raise Http404


def slot_or_404(evening: Evening, slot_id, *, teacher_id: int | None = None) -> Slot:
    query = Slot.objects.select_related("teacher__staff", "day").filter(evening=evening)
    if teacher_id is not None:
        query = query.filter(teacher_id=teacher_id)
    try:
        return query.get(pk=_int(slot_id))
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
