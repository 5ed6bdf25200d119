"""Reads for the parents' booking pages: which evening, pupil, teacher, slot, hold or
appointment a parent may see (otherwise 404), and what each page shows.

Access to pupils always comes from `schoolgate.accounts.access`; whom a pupil may
book, free times and plans come from `schoolgate.evenings.booking.availability`. Nothing here
writes."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.http import Http404

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.evenings.booking.availability import (
    BookableTeacher,
    bookable_teachers,
    eligible_pupils,
    evenings_for_parent,
    family_appointments,
    free_starts_for_lengths,
    parent_appointments,
)
from schoolgate.evenings.models import Appointment, Evening, Hold, Slot
from schoolgate.evenings.planning import planner
from schoolgate.evenings.web.ids import parse_id
from schoolgate.mis.models import Pupil

# What a parent can do at an evening now.
OPEN = "open"
NOT_YET = "not_yet"
CLOSED = "closed"


def booking_state(evening: Evening, *, now: datetime) -> str:
    if evening.status != Evening.Status.PUBLISHED or now >= evening.booking_closes:
        return CLOSED
    if now < evening.booking_opens:
        return NOT_YET
    return OPEN


def children_at(evening: Evening, user) -> list[Pupil]:
    """The parent's children the evening is for, by name."""
    return list(
        eligible_pupils(evening)
        .filter(pk__in=pupils_visible_to(user))
        .order_by("legal_forename", "legal_surname", "pk")
    )


def evening_or_404(user, evening_id) -> tuple[Evening, list[Pupil]]:
    """A published (or closed) evening for at least one of this parent's children, and
    those children; anything else is not found, so ids reveal nothing."""
    try:
        evening = Evening.objects.get(
            pk=parse_id(evening_id), status__in=[Evening.Status.PUBLISHED, Evening.Status.CLOSED]
        )
    except Evening.DoesNotExist:
        raise Http404 from None
    children = children_at(evening, user)
    if not children:
        raise Http404
    return evening, children


# --- the list ---------------------------------------------------------------------


@dataclass
class EveningRow:
    evening: Evening
    days: list
    children: list[Pupil]
    state: str
    booked: int


def evening_rows(user, *, now: datetime) -> list[EveningRow]:
    rows = []
    for evening in sorted(
        evenings_for_parent(user, now=now), key=lambda e: (e.booking_opens, e.name)
    ):
        booked = (
            family_appointments(parent=user, evening=evening, now=now)
            .filter(status=Appointment.Status.CONFIRMED)
            .count()
        )
        rows.append(
            EveningRow(
                evening=evening,
                days=list(evening.days.all()),
                children=children_at(evening, user),
                state=booking_state(evening, now=now),
                booked=booked,
            )
        )
    return rows


# --- the evening page -------------------------------------------------------------


@dataclass
class TeacherChoice:
    """One teacher a child may book, for a tick box."""

    pupil: Pupil
    bookable: BookableTeacher
    booked: Appointment | None = None  # this family's meeting with them, if any

    @property
    def value(self) -> str:
        return f"{self.pupil.pk}-{self.bookable.teacher.pk}"

    @property
    def teacher(self):
        return self.bookable.teacher

    @property
    def class_names(self) -> list[str]:
        return sorted(g.name for g in self.bookable.classes)


@dataclass
class ChildTeachers:
    pupil: Pupil
    teachers: list[TeacherChoice] = field(default_factory=list)

    @property
    def open(self) -> list[TeacherChoice]:
        """Teachers this child has no meeting with yet: tick boxes."""
        return [t for t in self.teachers if t.booked is None]

    @property
    def booked(self) -> list[TeacherChoice]:
        return [t for t in self.teachers if t.booked is not None]


def teachers_by_child(
    evening: Evening, user, children: list[Pupil], appointments
) -> list[ChildTeachers]:
    """For each child, the teachers they may book, with this family's meeting (if any):
    in shared meetings anyone's; in separate meetings this parent's own."""
    bookable = bookable_teachers(evening=evening, pupil_ids=[p.pk for p in children])
    met = {}
    for a in appointments:
        if evening.shared_meetings or a.parent_id == user.pk:
            met[(a.pupil_id, a.teacher_id)] = a
    result = []
    for pupil in children:
        entries = sorted(
            bookable.get(pupil.pk, {}).values(),
            key=lambda b: (b.teacher.staff.surname, b.teacher.staff.forename, b.teacher.pk),
        )
        result.append(
            ChildTeachers(
                pupil=pupil,
                teachers=[
                    TeacherChoice(pupil, b, met.get((pupil.pk, b.teacher.pk))) for b in entries
                ],
            )
        )
    return result


@dataclass
class ShownAppointment:
    appointment: Appointment
    mine: bool
    changeable: bool


def shown_appointments(evening: Evening, user, *, now: datetime) -> list[ShownAppointment]:
    """Every live appointment of the parent's children here, whoever booked it."""
    appointments = family_appointments(parent=user, evening=evening, now=now).select_related(
        "teacher__staff"
    )
    return [
        ShownAppointment(
            appointment=a,
            mine=a.parent_id == user.pk,
            changeable=changeable(a, user=user, evening=evening, now=now),
        )
        for a in appointments.order_by("starts_at", "pk")
    ]


def changeable(appointment: Appointment, *, user, evening: Evening, now: datetime) -> bool:
    """Whether to offer change and cancel links (the engine decides, when asked)."""
    cutoff = timedelta(hours=evening.cutoff_hours or 0)
    return (
        appointment.parent_id == user.pk
        and appointment.status == Appointment.Status.CONFIRMED
        and evening.status == Evening.Status.PUBLISHED
        and now < appointment.starts_at - cutoff
    )


# --- chosen teachers and slots ----------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    pupil: Pupil
    bookable: BookableTeacher

    @property
    def key(self) -> str:
        return f"{self.pupil.pk}-{self.bookable.teacher.pk}"

    @property
    def teacher(self):
        return self.bookable.teacher


def parse_pair(value) -> tuple[int, int]:
    """'<pupil id>-<evening teacher id>', or 404."""
    pupil_id, dash, teacher_id = str(value).partition("-")
    if not dash:
        raise Http404
    return parse_id(pupil_id), parse_id(teacher_id)


def chosen_or_404(evening: Evening, children: list[Pupil], values) -> list[Chosen]:
    """The (pupil, teacher) pairs named, each one this parent's child may book here;
    any other pair is not found. Duplicates are dropped; the order is kept."""
    pairs = list(dict.fromkeys(parse_pair(v) for v in values))
    pupils = {p.pk: p for p in children}
    if any(pupil_id not in pupils for pupil_id, _t in pairs):
        raise Http404
    bookable = bookable_teachers(evening=evening, pupil_ids={p for p, _t in pairs})
    chosen = []
    for pupil_id, teacher_id in pairs:
        entry = bookable.get(pupil_id, {}).get(teacher_id)
        if entry is None:
            raise Http404
        chosen.append(Chosen(pupils[pupil_id], entry))
    return chosen


def slot_or_404(evening: Evening, teacher_id: int, slot_id) -> Slot:
    try:
        return Slot.objects.get(pk=parse_id(slot_id), evening=evening, teacher_id=teacher_id)
    except Slot.DoesNotExist:
        raise Http404 from None


def chosen_for(evening: Evening, appointment: Appointment) -> Chosen | None:
    """The appointment's pupil and teacher as a choice, while the pupil may book them."""
    entry = (
        bookable_teachers(evening=evening, pupil_ids=[appointment.pupil_id])
        .get(appointment.pupil_id, {})
        .get(appointment.teacher_id)
    )
    return Chosen(appointment.pupil, entry) if entry else None


def slots_or_404(evening: Evening, pairs) -> dict[int, Slot]:
    """{slot id: slot} for [(teacher id, slot id)], each that teacher's slot at this
    evening (in one query); any other is not found."""
    pairs = list(pairs)
    slots = Slot.objects.in_bulk([slot_id for _t, slot_id in pairs])
    for teacher_id, slot_id in pairs:
        slot = slots.get(slot_id)
        if slot is None or slot.evening_id != evening.pk or slot.teacher_id != teacher_id:
            raise Http404
    return slots


# --- the manual grid --------------------------------------------------------------


@dataclass
class TimeOption:
    slot: Slot
    ends_at: datetime
    clashes: list[Appointment]


@dataclass
class DayTimes:
    day: object
    options: list[TimeOption]


@dataclass
class TeacherTimes:
    chosen: Chosen
    days: list[DayTimes]

    @property
    def field_name(self) -> str:
        return f"slot-{self.chosen.key}"

    @property
    def count(self) -> int:
        return sum(len(d.options) for d in self.days)


def own_busy(
    evening: Evening,
    user,
    *,
    now: datetime,
    exclude: int | None = None,
    confirmed_only: bool = False,
) -> list:
    """The parent's own live appointments here (any child): what their time holds.

    `confirmed_only` leaves out their held times (a new hold replaces them)."""
    appointments = parent_appointments(parent=user, evening=evening, now=now).select_related(
        "pupil", "teacher__staff", "day"
    )
    if confirmed_only:
        appointments = appointments.filter(status=Appointment.Status.CONFIRMED)
    if exclude is not None:
        appointments = appointments.exclude(pk=exclude)
    return list(appointments.order_by("starts_at", "pk"))


def free_times(
    evening: Evening, chosen: list[Chosen], *, user, now: datetime, busy: list, keep=()
) -> list[TeacherTimes]:
    """Each chosen teacher's free start times, by day, each marked with the parent's own
    appointments it would clash with (travel gap included). Slots in `keep` are listed
    even when the parent's own hold takes them (they are choosing again)."""
    gap = timedelta(minutes=evening.travel_gap_minutes)
    in_person = evening.mode != Evening.Mode.VIDEO
    days = {d.pk: d for d in evening.days.all()}
    lengths = {(c.teacher.pk, c.bookable.minutes) for c in chosen}
    free = free_starts_for_lengths(evening=evening, lengths=lengths, now=now)
    kept = {s.pk: s for s in Slot.objects.filter(pk__in=list(keep), evening=evening)}
    result = []
    for c in chosen:
        slots = {s.pk: s for s in free[(c.teacher.pk, c.bookable.minutes)]}
        for slot in kept.values():
            if slot.teacher_id == c.teacher.pk:
                slots.setdefault(slot.pk, slot)
        by_day = defaultdict(list)
        for slot in sorted(slots.values(), key=lambda s: s.starts_at):
            ends_at = slot.starts_at + timedelta(minutes=c.bookable.minutes)
            span = planner.Busy(slot.starts_at, ends_at, c.teacher.room, in_person)
            clashes = [
                a
                for a in busy
                if not planner.apart(
                    span,
                    planner.Busy(a.starts_at, a.ends_at, a.teacher.room, a.in_person),
                    gap=gap,
                )
            ]
            by_day[slot.day_id].append(TimeOption(slot, ends_at, clashes))
        result.append(
            TeacherTimes(
                chosen=c,
                days=[
                    DayTimes(days[d], by_day[d])
                    for d in sorted(by_day, key=lambda d: days[d].starts_at)
                ],
            )
        )
    return result


# --- holds and appointments -------------------------------------------------------


def hold_or_404(user, evening: Evening, hold_id) -> Hold:
    """A hold of this parent's at this evening."""
    try:
        return Hold.objects.get(pk=parse_id(hold_id), evening=evening, parent=user)
    except Hold.DoesNotExist:
        raise Http404 from None


def own_held(evening: Evening, user, *, now: datetime) -> list[Appointment]:
    """The parent's unconfirmed held appointments here, while they last."""
    return list(
        Appointment.objects.filter(
            evening=evening, parent=user, status=Appointment.Status.HELD, expires_at__gt=now
        ).order_by("starts_at", "pk")
    )


def first_slots(appointments) -> dict[int, Slot]:
    """{appointment id: the slot it starts in}."""
    query = Q(pk__in=[])
    for a in appointments:
        query |= Q(teacher_id=a.teacher_id, starts_at=a.starts_at)
    slots = {(s.teacher_id, s.starts_at): s for s in Slot.objects.filter(query)}
    return {
        a.pk: slots[(a.teacher_id, a.starts_at)]
        for a in appointments
        if (a.teacher_id, a.starts_at) in slots
    }


def held_appointments(hold: Hold, *, now: datetime) -> list[Appointment]:
    """The hold's appointments while it lasts (empty once it has run out)."""
    return list(
        Appointment.objects.filter(hold=hold, status=Appointment.Status.HELD, expires_at__gt=now)
        .select_related("pupil", "teacher__staff", "day")
        .order_by("starts_at", "pk")
    )


def appointment_or_404(user, evening: Evening, appointment_id) -> Appointment:
    """An appointment of a pupil this parent may see, at this evening (any status)."""
    try:
        return Appointment.objects.select_related(
            "pupil", "teacher__staff", "day", "parent", "booked_by"
        ).get(
            Q(pupil__in=pupils_visible_to(user)),
            pk=parse_id(appointment_id),
            evening=evening,
        )
    except Appointment.DoesNotExist:
        raise Http404 from None
