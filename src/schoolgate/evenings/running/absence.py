"""A teacher's absence: for the whole evening or part of one day, their appointments
are cancelled (parents told and offered to rebook) or transferred to a substitute at
the same times, and the time is blocked so that nothing new is booked in it.

`mark_absent` does it all in one transaction, under the evening's exclusive lock (no
booking runs meanwhile): the appointments first, then an "Absent" break for the
teacher over the period (breaks claim slots, and the engine refuses a break over a
live booking), then the TeacherAbsence row with what happened. An appointment the
substitute cannot take at its time (busy, in a break, no such time, the pupil already
meets them, the parent could not get there) is a clash: it is cancelled like the
others, since the absent teacher will not be there, and listed for the organiser.
docs/absence-and-waiting-lists.md explains the choices."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import live_q
from schoolgate.evenings.booking.cells import release_held_appointments
from schoolgate.evenings.booking.errors import BookingError, InvalidSetup
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    TeacherAbsence,
    WaitingListEntry,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.setup.checks import lock_for_setup, require_organiser, validate_times
from schoolgate.mis.models import Staff

CANCEL = TeacherAbsence.Action.CANCEL
TRANSFER = TeacherAbsence.Action.TRANSFER


def mark_absent(
    *,
    evening: Evening,
    teacher: EveningTeacher,
    actor,
    action: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    substitute: EveningTeacher | Staff | None = None,
    now: datetime | None = None,
) -> TeacherAbsence:
    """Mark `teacher` absent for the whole evening (no times) or from `starts_at` to
    `ends_at`, and cancel or transfer their appointments in that time.

    `substitute` (transfer only) is a teacher of the evening or any member of staff,
    who is then added to the evening. Raises InvalidSetup (with the field) for bad
    input and NotAllowed for someone who may not organise evenings; then nothing
    changes. Returns the TeacherAbsence, whose `outcome` says what happened."""
    require_organiser(actor)
    now = now or timezone.now()
    if action not in (CANCEL, TRANSFER):
        raise InvalidSetup(_("Choose what to do with the appointments."), field="action")
    if (starts_at is None) != (ends_at is None):
        raise InvalidSetup(_("Give both the start and the end of the absence."), field="starts")
    if starts_at is not None:
        validate_times(starts_at, ends_at, field="ends")
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        teacher = _teacher_of(evening, teacher)
        days = list(evening.days.all())
        if starts_at is None:
            block_from, block_to = days[0].starts_at, days[-1].ends_at
        else:
            if not any(d.starts_at < ends_at and starts_at < d.ends_at for d in days):
                raise InvalidSetup(
                    _("The absence must fall within one of the evening's days."), field="starts"
                )
            block_from, block_to = starts_at, ends_at
        sub = None
        if action == TRANSFER:
            sub = _substitute(evening, teacher, substitute, actor=actor, now=now)
        affected = (
            Appointment.objects.filter(
                evening=evening,
                teacher=teacher,
                starts_at__lt=block_to,
                ends_at__gt=block_from,
            )
            .filter(live_q(now))
            .select_related("pupil", "parent", "teacher__staff")
            .order_by("starts_at", "pk")
        )
        held = [a for a in affected if a.status == Appointment.Status.HELD]
        confirmed = [a for a in affected if a.status == Appointment.Status.CONFIRMED]
        _release_holds(evening, held)
        absent_name = str(teacher.staff)
        outcome = {"cancelled": [], "transferred": [], "clashes": [], "holds_released": len(held)}
        to_cancel = []
        for appointment in confirmed:
            if sub is None:
                to_cancel.append(appointment)
                continue
            try:
                new = booking.transfer_appointment(
                    appointment=appointment, teacher=sub, user=actor, now=now, step=True
                )
            except BookingError as refused:
                outcome["clashes"].append(
                    {"appointment": appointment.pk, "reason": _why_not(refused, sub)}
                )
                to_cancel.append(appointment)
            else:
                outcome["transferred"].append({"from": appointment.pk, "to": new.pk})
        booking.cancel_confirmed(
            evening, to_cancel, user=actor, now=now, extra={"absent_teacher": absent_name}
        )
        outcome["cancelled"] = [a.pk for a in to_cancel]
        # One break per day it covers: the Breaks page shows and edits a break on a day.
        outcome["breaks"] = [
            setup.add_break(
                evening=evening,
                actor=actor,
                starts_at=max(block_from, day.starts_at),
                ends_at=min(block_to, day.ends_at),
                teachers=[teacher],
                label=_("Absent"),
                now=now,
            ).pk
            for day in days
            if day.starts_at < block_to and block_from < day.ends_at
        ]
        return TeacherAbsence.objects.create(
            evening=evening,
            teacher=teacher,
            starts_at=starts_at,
            ends_at=ends_at,
            action=action,
            substitute=sub,
            outcome=outcome,
            created_at=now,
            created_by=actor,
        )


@dataclass
class Clash:
    appointment: Appointment
    reason: str


@dataclass
class Outcome:
    """What an absence did, with the appointments, for the organiser's page."""

    absence: TeacherAbsence
    cancelled: list[Appointment]
    transferred: list[tuple[Appointment, Appointment]]
    clashes: list[Clash]

    @property
    def holds_released(self) -> int:
        return self.absence.outcome.get("holds_released", 0)


def outcome_of(absence: TeacherAbsence) -> Outcome:
    data = absence.outcome or {}
    ids = set(data.get("cancelled", []))
    for pair in data.get("transferred", []):
        ids |= {pair["from"], pair["to"]}
    found = Appointment.objects.select_related("pupil", "parent", "teacher__staff").in_bulk(ids)
    clash_ids = {c["appointment"] for c in data.get("clashes", [])}
    return Outcome(
        absence=absence,
        cancelled=[
            found[pk] for pk in data.get("cancelled", []) if pk in found and pk not in clash_ids
        ],
        transferred=[
            (found[p["from"]], found[p["to"]])
            for p in data.get("transferred", [])
            if p["from"] in found and p["to"] in found
        ],
        clashes=[
            Clash(found[c["appointment"]], c["reason"])
            for c in data.get("clashes", [])
            if c["appointment"] in found
        ],
    )


def absences_of(evening: Evening) -> list[TeacherAbsence]:
    return list(
        TeacherAbsence.objects.filter(evening=evening)
        .select_related("teacher__staff", "substitute__staff", "created_by")
        .order_by("-created_at", "-pk")
    )


def cancelled_for_parent(*, parent, evening: Evening) -> list[Appointment]:
    """Appointments of this parent's children (their own when meetings are separate)
    that an absence cancelled, for their evening page: never another family's."""
    ids = set()
    for data in TeacherAbsence.objects.filter(evening=evening).values_list("outcome", flat=True):
        ids |= set((data or {}).get("cancelled", []))
    if not ids:
        return []
    found = Appointment.objects.filter(
        pk__in=ids,
        evening=evening,
        status=Appointment.Status.CANCELLED,
        pupil__in=pupils_visible_to(parent),
    )
    if not evening.shared_meetings:
        found = found.filter(parent=parent)
    return list(found.select_related("pupil", "teacher__staff").order_by("starts_at", "pk"))


# --- helpers -------------------------------------------------------------------


def _why_not(refused: BookingError, substitute: EveningTeacher) -> str:
    """A transfer's refusal in the organiser's words."""
    name = substitute.staff
    reasons = {
        "slot_taken": _("%(name)s has another appointment then.") % {"name": name},
        "already_booked": _("The pupil already has an appointment with %(name)s.") % {"name": name},
        "clash": _(
            "The parent could not get there: another of their appointments is at that "
            "time, or too far away."
        ),
    }
    return reasons.get(refused.code, refused.message)


def _teacher_of(evening: Evening, teacher) -> EveningTeacher:
    pk = teacher if isinstance(teacher, int) else teacher.pk
    found = (
        EveningTeacher.objects.filter(evening=evening, pk=pk, removed=False)
        .select_related("staff")
        .first()
    )
    if found is None:
        raise InvalidSetup(_("Choose a teacher of this evening."), field="teacher")
    found.evening = evening
    return found


def _substitute(evening, teacher, substitute, *, actor, now) -> EveningTeacher:
    if substitute is None:
        raise InvalidSetup(_("Choose who takes the appointments."), field="substitute")
    if isinstance(substitute, Staff):
        existing = EveningTeacher.objects.filter(evening=evening, staff=substitute).first()
        if existing is None or existing.removed:
            substitute = setup.add_teacher(
                evening=evening, actor=actor, staff=substitute, room=teacher.room, now=now
            )
        else:
            substitute = existing
    substitute = _teacher_of(evening, substitute)
    if substitute.pk == teacher.pk:
        raise InvalidSetup(
            _("The substitute must be someone other than the absent teacher."),
            field="substitute",
        )
    return substitute


def _release_holds(evening: Evening, held: list[Appointment]) -> None:
    """Free the absent teacher's held times. A waiting-list offer among them goes back
    to waiting, in its place: the family did not let it lapse."""
    if not held:
        return
    hold_ids = {a.hold_id for a in held if a.hold_id}
    WaitingListEntry.objects.filter(
        Q(hold_id__in=hold_ids), status=WaitingListEntry.Status.OFFERED
    ).update(status=WaitingListEntry.Status.WAITING, hold=None, offer_expires_at=None)
    release_held_appointments(evening, Appointment.objects.filter(pk__in=[a.pk for a in held]))
