"""Keeping an evening's slots, break claims and parents' time in step with its set-up,
after every change (under the exclusive evening lock that `lock_for_setup` takes)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from schoolgate.evenings.booking.availability import eligible_pupils, live_q
from schoolgate.evenings.booking.cells import rebuild_cells, release_held_appointments
from schoolgate.evenings.booking.errors import ChangeRefused
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Slot,
    SlotClaim,
)
from schoolgate.evenings.planning import planner
from schoolgate.evenings.setup.checks import busy_of, live_appointments, refuse_if
from schoolgate.mis.models import GroupMembership, GroupTeacher, Staff


@dataclass
class TeacherChanges:
    """What deriving the teachers from the MIS mirror changed."""

    added: list[EveningTeacher] = field(default_factory=list)
    removed: list[Staff] = field(default_factory=list)
    # No longer teaching anyone the evening is for, but kept: they have appointments.
    kept: list[EveningTeacher] = field(default_factory=list)


def sync_slots(evening: Evening, *, now: datetime) -> None:
    """Make every active teacher's slots match the days and their length, keeping the
    slots that stay; refuse if a booked slot would go. Then re-apply the breaks."""
    teachers = list(
        EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
    )
    for teacher in teachers:
        teacher.evening = evening
    days = list(evening.days.all())
    desired = {}
    for teacher in teachers:
        length = timedelta(minutes=teacher.minutes)
        for day in days:
            at = day.starts_at
            while at + length <= day.ends_at:
                desired[(teacher.pk, at)] = (day.pk, at + length)
                at += length
    existing = {(s.teacher_id, s.starts_at): s for s in Slot.objects.filter(evening=evening)}
    going = {s.pk for key, s in existing.items() if desired.get(key) != (s.day_id, s.ends_at)}
    booked = Appointment.objects.filter(claims__slot_id__in=list(going)).distinct()
    refuse_if(
        booked.filter(live_q(now)),
        _("This change would remove or reshape booked appointment times."),
        field="slots",
    )
    release_held_appointments(evening, booked.filter(status=Appointment.Status.HELD))
    Slot.objects.filter(pk__in=going).delete()
    kept = {key for key, s in existing.items() if s.pk not in going}
    Slot.objects.bulk_create(
        [
            Slot(evening=evening, teacher_id=teacher_id, day_id=day_id, starts_at=at, ends_at=end)
            for (teacher_id, at), (day_id, end) in desired.items()
            if (teacher_id, at) not in kept
        ]
    )
    sync_break_claims(evening, now)


def sync_break_claims(evening: Evening, now: datetime) -> None:
    """Claim every slot a break covers (so it cannot be booked), and only those."""
    # Each break's teachers as a set, read once: not a queryset per slot and break.
    breaks = [
        (brk, None if brk.all_teachers else {t.pk for t in brk.teachers.all()})
        for brk in evening.breaks.prefetch_related("teachers")
    ]
    slots = Slot.objects.filter(evening=evening).values_list(
        "pk", "teacher_id", "starts_at", "ends_at"
    )
    wanted = {}
    for slot_id, teacher_id, starts_at, ends_at in slots:
        for brk, teacher_ids in breaks:
            applies = teacher_ids is None or teacher_id in teacher_ids
            if applies and starts_at < brk.ends_at and brk.starts_at < ends_at:
                wanted[slot_id] = brk.pk
                break
    existing = {
        c.slot_id: c for c in SlotClaim.objects.filter(slot__evening=evening, brk__isnull=False)
    }
    SlotClaim.objects.filter(
        pk__in=[c.pk for slot_id, c in existing.items() if wanted.get(slot_id) != c.brk_id]
    ).delete()
    adding = {
        slot_id: brk_id
        for slot_id, brk_id in wanted.items()
        if slot_id not in existing or existing[slot_id].brk_id != brk_id
    }
    booked = Appointment.objects.filter(claims__slot_id__in=list(adding)).distinct()
    refuse_if(
        booked.filter(live_q(now)),
        _("The break would cover booked appointments."),
        field="break",
    )
    release_held_appointments(evening, booked.filter(status=Appointment.Status.HELD))
    try:
        with transaction.atomic():
            SlotClaim.objects.bulk_create(
                [SlotClaim(slot_id=slot_id, brk_id=brk_id) for slot_id, brk_id in adding.items()]
            )
    except IntegrityError:  # cannot happen under the exclusive lock; say so if it does
        raise ChangeRefused(
            _("The break would cover booked appointments."), appointments=[]
        ) from None


def rebuild_parent_time(evening: Evening, now: datetime) -> None:
    """After a room, travel gap or mode change: check every booked parent can still
    keep the travel gap, then rewrite their minutes."""
    gap = timedelta(minutes=evening.travel_gap_minutes)
    appointments = list(
        live_appointments(evening, now).select_related("teacher", "pupil", "teacher__staff")
    )
    by_parent = defaultdict(list)
    for a in appointments:
        by_parent[a.parent_id].append(a)
    broken = []
    for mine in by_parent.values():
        for i, first in enumerate(mine):
            for second in mine[i + 1 :]:
                if not planner.apart(busy_of(first), busy_of(second), gap=gap):
                    broken += [first, second]
    if broken:
        raise ChangeRefused(
            _("Some parents would no longer have time to get from one room to the next."),
            appointments=list(dict.fromkeys(broken)),
            field="travel_gap_minutes",
        )
    rebuild_cells(evening, appointments)


def derive_teachers(evening: Evening, *, now: datetime) -> TeacherChanges:
    changes = TeacherChanges()
    pupils = eligible_pupils(evening).values("pk")
    groups = GroupMembership.objects.filter(pupil__in=pupils, group__current=True).values(
        "group_id"
    )
    derived = set(
        GroupTeacher.objects.filter(group__in=groups, staff__current=True).values_list(
            "staff_id", flat=True
        )
    )
    existing = {t.staff_id: t for t in EveningTeacher.objects.filter(evening=evening)}
    new = [
        EveningTeacher(evening=evening, staff_id=staff_id)
        for staff_id in sorted(derived - set(existing))
    ]
    EveningTeacher.objects.bulk_create(new)
    changes.added = list(
        EveningTeacher.objects.filter(evening=evening, staff_id__in=[t.staff_id for t in new])
    )
    for staff_id, teacher in existing.items():
        if teacher.source != EveningTeacher.Source.DERIVED or staff_id in derived:
            continue
        if not Appointment.objects.filter(teacher=teacher).exists():
            changes.removed.append(teacher.staff)
            teacher.delete()
        elif not teacher.removed:
            changes.kept.append(teacher)
    return changes
