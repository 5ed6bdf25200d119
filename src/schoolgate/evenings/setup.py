"""Setting up an evening: its days, teachers, lengths, rooms and breaks.

Every change runs in one transaction with the evening row locked exclusively (no
booking runs meanwhile), keeps the precomputed slots in step, and never drops a
booking silently: a change that would break one raises ChangeRefused listing every
appointment affected, and changes nothing."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.core.access import ORGANISE_EVENINGS, has_capability
from schoolgate.evenings import planner
from schoolgate.evenings.availability import eligible_pupils, live_q
from schoolgate.evenings.booking import _lock_evening, _release_held, rebuild_cells
from schoolgate.evenings.errors import ChangeRefused, InvalidSetup, NotAllowed
from schoolgate.evenings.models import (
    Appointment,
    Break,
    ClassLength,
    Evening,
    EveningDay,
    EveningTeacher,
    Slot,
    SlotClaim,
)
from schoolgate.evenings.teachers import teacher_entries_for
from schoolgate.mis.models import GroupMembership, GroupTeacher, Staff, TeachingGroup


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()  # "leave as it is" for optional arguments that may be set to None


@dataclass
class TeacherChanges:
    """What deriving the teachers from the MIS mirror changed."""

    added: list[EveningTeacher] = field(default_factory=list)
    removed: list[Staff] = field(default_factory=list)
    # No longer teaching anyone the evening is for, but kept: they have appointments.
    kept: list[EveningTeacher] = field(default_factory=list)


def create_evening(
    *,
    actor,
    name: str,
    days: list[tuple[datetime, datetime]],
    booking_opens: datetime,
    booking_closes: datetime,
    slot_minutes: int = 5,
    description: str = "",
    year_groups=(),
    registration_groups=(),
    cutoff_hours: int | None = None,
    max_per_pupil: int | None = None,
    max_per_parent: int | None = None,
    travel_gap_minutes: int = 0,
    split_families: str = Evening.SplitFamilies.SHARED,
    mode: str = Evening.Mode.IN_PERSON,
    teachers_set_breaks: bool = False,
    waiting_offer_hours: int = 24,
    now: datetime | None = None,
) -> Evening:
    """Create a draft evening with its days, derive its teachers from the mirror (each
    eligible pupil's class teachers and form tutor) and precompute their slots."""
    _require_organiser(actor)
    if not name.strip():
        raise InvalidSetup(_("Give the evening a name."), field="name")
    evening = Evening(
        name=name.strip(),
        description=description,
        booking_opens=booking_opens,
        booking_closes=booking_closes,
        slot_minutes=slot_minutes,
        year_groups=sorted({int(y) for y in year_groups}),
        cutoff_hours=cutoff_hours,
        max_per_pupil=max_per_pupil,
        max_per_parent=max_per_parent,
        travel_gap_minutes=travel_gap_minutes,
        split_families=split_families,
        mode=mode,
        teachers_set_breaks=teachers_set_breaks,
        waiting_offer_hours=waiting_offer_hours,
        created_by=actor,
        created_at=now or timezone.now(),
    )
    _validate_evening(evening)
    if not days:
        raise InvalidSetup(_("An evening needs at least one day."), field="days")
    with transaction.atomic():
        evening.save()
        evening.registration_groups.set(_registration_groups(registration_groups))
        for starts_at, ends_at in days:
            _validate_day(evening, starts_at, ends_at)
            EveningDay.objects.create(evening=evening, starts_at=starts_at, ends_at=ends_at)
        _derive_teachers(evening, now=now or timezone.now())
        _sync_slots(evening, now=now or timezone.now())
    return evening


def update_evening(*, evening: Evening, actor, now: datetime | None = None, **changes) -> Evening:
    """Change an evening's settings (any of the create_evening arguments but days).

    Refused with ChangeRefused when bookings would break: a new default length for
    teachers with bookings, another split-family mode or meeting mode than the
    bookings were made under, an audience that leaves booked pupils out, or a travel
    gap that booked parents could no longer keep."""
    _require_organiser(actor)
    now = now or timezone.now()
    allowed = {
        "name",
        "description",
        "booking_opens",
        "booking_closes",
        "slot_minutes",
        "year_groups",
        "registration_groups",
        "cutoff_hours",
        "max_per_pupil",
        "max_per_parent",
        "travel_gap_minutes",
        "split_families",
        "mode",
        "teachers_set_breaks",
        "waiting_offer_hours",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"update_evening() got unexpected arguments: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        evening = _lock(evening, now)
        live = _live(evening, now)
        groups = changes.pop("registration_groups", UNSET)
        before = {name: getattr(evening, name) for name in changes}
        for name, value in changes.items():
            setattr(
                evening, name, sorted({int(y) for y in value}) if name == "year_groups" else value
            )
        _validate_evening(evening)
        if "split_families" in changes and changes["split_families"] != before["split_families"]:
            _refuse_if(
                live,
                _("Bookings were made with the other split-family setting; cancel them first."),
                field="split_families",
            )
        if "mode" in changes and evening.mode != Evening.Mode.BOTH:
            only = (
                Appointment.Method.VIDEO
                if evening.mode == Evening.Mode.VIDEO
                else Appointment.Method.IN_PERSON
            )
            _refuse_if(
                live.exclude(method=only),
                _("Some bookings are for the kind of meeting this change would remove."),
                field="mode",
            )
        if "slot_minutes" in changes and evening.slot_minutes != before["slot_minutes"]:
            _refuse_if(
                live.filter(teacher__slot_minutes__isnull=True),
                _("Teachers using the evening's length have bookings; their slots cannot change."),
                field="slot_minutes",
            )
            _validate_lengths(evening)
        evening.save()
        if groups is not UNSET:
            evening.registration_groups.set(_registration_groups(groups))
        if groups is not UNSET or "year_groups" in changes:
            eligible = eligible_pupils(evening).values("pk")
            _refuse_if(
                live.exclude(pupil__in=eligible),
                _("Some booked pupils would no longer be part of this evening."),
                field="year_groups",
            )
            _derive_teachers(evening, now=now)
        if "travel_gap_minutes" in changes or "mode" in changes:
            _rebuild_parent_time(evening, now)
        _sync_slots(evening, now=now)
    return evening


def set_status(*, evening: Evening, actor, status: str, now: datetime | None = None) -> Evening:
    """Publish (parents may book in the window), close, or return an evening to draft."""
    _require_organiser(actor)
    if status not in Evening.Status.values:
        raise InvalidSetup(_("Unknown status."), field="status")
    with transaction.atomic():
        evening = _lock(evening, now or timezone.now())
        if status == Evening.Status.PUBLISHED and not evening.days.exists():
            raise InvalidSetup(_("Add a day before publishing."), field="status")
        if status == Evening.Status.PUBLISHED and _video_service_missing(evening):
            raise InvalidSetup(
                _(
                    "Set the video service (Add-on settings, Video appointments) before "
                    "publishing an evening with video appointments."
                ),
                field="status",
            )
        evening.status = status
        evening.save(update_fields=["status"])
    return evening


def _video_service_missing(evening: Evening) -> bool:
    # Video appointments need the school's Jitsi server (docs/video.md).
    from schoolgate.evenings.video import rooms

    return rooms.needs_service(evening) and rooms.service() is None


def add_day(
    *, evening: Evening, actor, starts_at: datetime, ends_at: datetime, now=None
) -> EveningDay:
    """Add a session; every teacher taking part gets slots in it."""
    _require_organiser(actor)
    with transaction.atomic():
        evening = _lock(evening, now or timezone.now())
        _validate_day(evening, starts_at, ends_at)
        day = EveningDay.objects.create(evening=evening, starts_at=starts_at, ends_at=ends_at)
        _sync_slots(evening, now=now or timezone.now())
    return day


def change_day(
    *, day: EveningDay, actor, starts_at: datetime, ends_at: datetime, now=None
) -> EveningDay:
    """Move or resize a session; refused if a booked slot would fall outside it or off
    its teacher's grid of slots."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(day.evening_id, now)
        day = EveningDay.objects.get(pk=day.pk)
        _validate_day(evening, starts_at, ends_at, exclude=day)
        day.starts_at, day.ends_at = starts_at, ends_at
        day.save(update_fields=["starts_at", "ends_at"])
        _sync_slots(evening, now=now)
    return day


def remove_day(*, day: EveningDay, actor, now=None) -> None:
    """Remove a session that has no bookings."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(day.evening_id, now)
        _refuse_if(
            _live(evening, now).filter(day_id=day.pk),
            _("This day has bookings."),
            field="days",
        )
        if evening.days.count() == 1:
            raise InvalidSetup(_("An evening needs at least one day."), field="days")
        # Cancelled appointments keep their day; they go with it.
        Appointment.objects.filter(day_id=day.pk).exclude(status__in=Appointment.LIVE).delete()
        EveningDay.objects.filter(pk=day.pk).delete()


def refresh_teachers(*, evening: Evening, actor, now=None) -> TeacherChanges:
    """Derive the teachers again from the mirror (after a sync, say): teachers of new
    pupils join; teachers with no pupil left go, unless they have appointments.
    Teachers the organiser removed stay removed."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(evening, now)
        changes = _derive_teachers(evening, now=now)
        _sync_slots(evening, now=now)
    return changes


def add_teacher(
    *,
    evening: Evening,
    actor,
    staff: Staff,
    room: str = "",
    video_link: str = "",
    slot_minutes: int | None = None,
    now=None,
) -> EveningTeacher:
    """Add a member of staff (head of year, SENCO...): every pupil of the evening may
    book them. A teacher removed earlier is brought back."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(evening, now)
        teacher, created = EveningTeacher.objects.get_or_create(
            evening=evening,
            staff=staff,
            defaults={"source": EveningTeacher.Source.ADDED},
        )
        if not created and not teacher.removed:
            raise InvalidSetup(_("%(name)s already takes part.") % {"name": staff}, field="staff")
        teacher.removed = False
        teacher.room, teacher.video_link, teacher.slot_minutes = room, video_link, slot_minutes
        teacher.evening = evening
        _validate_teacher(teacher)
        teacher.save()
        _sync_slots(evening, now=now)
    return teacher


def update_teacher(
    *,
    teacher: EveningTeacher,
    actor,
    room=UNSET,
    video_link=UNSET,
    slot_minutes=UNSET,
    now=None,
) -> EveningTeacher:
    """Change a teacher's room, video link or appointment length (None: the evening's).

    A new length is refused while the teacher has bookings; a new room is refused when
    a booked parent would no longer have the travel gap to or from it."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(teacher.evening_id, now)
        teacher = EveningTeacher.objects.select_related("staff").get(pk=teacher.pk)
        teacher.evening = evening
        if room is not UNSET:
            teacher.room = room
        if video_link is not UNSET:
            teacher.video_link = video_link
        if slot_minutes is not UNSET and slot_minutes != teacher.slot_minutes:
            if (slot_minutes or evening.slot_minutes) != teacher.minutes:
                _refuse_if(
                    _live(evening, now).filter(teacher=teacher),
                    _("%(name)s has bookings; their appointment length cannot change.")
                    % {"name": teacher.staff},
                    field="slot_minutes",
                )
            teacher.slot_minutes = slot_minutes
        _validate_teacher(teacher)
        teacher.save()
        _validate_lengths(evening)
        if room is not UNSET:
            _rebuild_parent_time(evening, now)
        _sync_slots(evening, now=now)
    return teacher


def remove_teacher(*, teacher: EveningTeacher, actor, now=None) -> None:
    """Take a teacher out of the evening; refused while they have bookings."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(teacher.evening_id, now)
        teacher = EveningTeacher.objects.select_related("staff").get(pk=teacher.pk)
        _refuse_if(
            _live(evening, now).filter(teacher=teacher),
            _("%(name)s has bookings; move or cancel them first.") % {"name": teacher.staff},
            field="teachers",
        )
        teacher.removed = True
        teacher.save(update_fields=["removed"])
        _sync_slots(evening, now=now)


def set_class_length(
    *, evening: Evening, actor, group: TeachingGroup, minutes: int | None, now=None
) -> None:
    """Give one class longer appointments (a whole multiple of each of its teachers'
    lengths), or go back to the teacher's length with None. Refused while pupils of
    the class have bookings with its teachers."""
    _require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = _lock(evening, now)
        teachers = EveningTeacher.objects.filter(
            evening=evening,
            staff__in=GroupTeacher.objects.filter(group=group).values("staff_id"),
        ).select_related("evening", "staff")
        if minutes is not None:
            for teacher in teachers:
                if minutes <= 0 or minutes % teacher.minutes:
                    raise InvalidSetup(
                        _(
                            "%(minutes)s minutes is not a whole multiple of %(name)s's "
                            "%(length)s-minute appointments."
                        )
                        % {"minutes": minutes, "name": teacher.staff, "length": teacher.minutes},
                        field="minutes",
                    )
        _refuse_if(
            _live(evening, now).filter(
                teacher__in=teachers,
                pupil__in=GroupMembership.objects.filter(group=group).values("pupil_id"),
            ),
            _("Pupils of this class have bookings with its teachers."),
            field="minutes",
        )
        if minutes is None:
            ClassLength.objects.filter(evening=evening, group=group).delete()
        else:
            ClassLength.objects.update_or_create(
                evening=evening, group=group, defaults={"minutes": minutes}
            )


def add_break(
    *,
    evening: Evening,
    actor,
    starts_at: datetime,
    ends_at: datetime,
    teachers=None,
    label: str = "",
    now=None,
) -> Break:
    """A break for some teachers (a list of EveningTeacher), or all with None: their
    slots that overlap it cannot be booked. Refused over a booking. A teacher may add
    one for themself only, when the evening allows it (see _require_break_rights)."""
    now = now or timezone.now()
    _require_break_rights(actor, evening, teachers=teachers, now=now)
    _validate_times(starts_at, ends_at, field="break")
    with transaction.atomic():
        evening = _lock(evening, now)
        _require_break_rights(actor, evening, teachers=teachers, now=now)  # under the lock
        brk = Break.objects.create(
            evening=evening,
            starts_at=starts_at,
            ends_at=ends_at,
            label=label,
            all_teachers=teachers is None,
            created_by=actor,
        )
        if teachers is not None:
            brk.teachers.set(_teachers_of(evening, teachers))
        _sync_break_claims(evening, now)
    return brk


def change_break(
    *,
    brk: Break,
    actor,
    starts_at=UNSET,
    ends_at=UNSET,
    teachers=UNSET,
    label=UNSET,
    now=None,
) -> Break:
    """Move, resize or re-assign a break; refused if it would cover a booking."""
    now = now or timezone.now()
    _require_break_rights(actor, brk.evening, teachers=teachers, brk=brk, now=now)
    with transaction.atomic():
        evening = _lock(brk.evening_id, now)
        brk = Break.objects.get(pk=brk.pk)
        _require_break_rights(actor, evening, teachers=teachers, brk=brk, now=now)
        if starts_at is not UNSET:
            brk.starts_at = starts_at
        if ends_at is not UNSET:
            brk.ends_at = ends_at
        if label is not UNSET:
            brk.label = label
        _validate_times(brk.starts_at, brk.ends_at, field="break")
        if teachers is not UNSET:
            brk.all_teachers = teachers is None
            brk.teachers.set([] if teachers is None else _teachers_of(evening, teachers))
        brk.save()
        _sync_break_claims(evening, now)
    return brk


def remove_break(*, brk: Break, actor, now=None) -> None:
    now = now or timezone.now()
    _require_break_rights(actor, brk.evening, brk=brk, now=now)
    with transaction.atomic():
        evening = _lock(brk.evening_id, now)
        brk = Break.objects.filter(pk=brk.pk).first()
        if brk is None:
            return  # already gone
        _require_break_rights(actor, evening, brk=brk, now=now)
        brk.delete()  # its slot claims go with it


# --- keeping slots, breaks and parents' time in step -------------------------------


def _sync_slots(evening: Evening, *, now: datetime) -> None:
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
    _refuse_if(
        booked.filter(live_q(now)),
        _("This change would remove or reshape booked appointment times."),
        field="slots",
    )
    _release_held(evening, booked.filter(status=Appointment.Status.HELD))
    Slot.objects.filter(pk__in=going).delete()
    kept = {key for key, s in existing.items() if s.pk not in going}
    Slot.objects.bulk_create(
        [
            Slot(evening=evening, teacher_id=teacher_id, day_id=day_id, starts_at=at, ends_at=end)
            for (teacher_id, at), (day_id, end) in desired.items()
            if (teacher_id, at) not in kept
        ]
    )
    _sync_break_claims(evening, now)


def _sync_break_claims(evening: Evening, now: datetime) -> None:
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
    _refuse_if(
        booked.filter(live_q(now)),
        _("The break would cover booked appointments."),
        field="break",
    )
    _release_held(evening, booked.filter(status=Appointment.Status.HELD))
    try:
        with transaction.atomic():
            SlotClaim.objects.bulk_create(
                [SlotClaim(slot_id=slot_id, brk_id=brk_id) for slot_id, brk_id in adding.items()]
            )
    except IntegrityError:  # cannot happen under the exclusive lock; say so if it does
        raise ChangeRefused(
            _("The break would cover booked appointments."), appointments=[]
        ) from None


def _rebuild_parent_time(evening: Evening, now: datetime) -> None:
    """After a room, travel gap or mode change: check every booked parent can still
    keep the travel gap, then rewrite their minutes."""
    gap = timedelta(minutes=evening.travel_gap_minutes)
    appointments = list(_live(evening, now).select_related("teacher", "pupil", "teacher__staff"))
    by_parent = defaultdict(list)
    for a in appointments:
        by_parent[a.parent_id].append(a)
    broken = []
    for mine in by_parent.values():
        for i, first in enumerate(mine):
            for second in mine[i + 1 :]:
                if not planner.apart(_busy(first), _busy(second), gap=gap):
                    broken += [first, second]
    if broken:
        raise ChangeRefused(
            _("Some parents would no longer have time to get from one room to the next."),
            appointments=list(dict.fromkeys(broken)),
            field="travel_gap_minutes",
        )
    rebuild_cells(evening, appointments)


def _derive_teachers(evening: Evening, *, now: datetime) -> TeacherChanges:
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


# --- validation and small helpers --------------------------------------------------


def _require_organiser(actor) -> None:
    if not _is_organiser(actor):
        raise NotAllowed(_("You may not set up parents' evenings."))


def _is_organiser(actor) -> bool:
    return bool(actor is not None and has_capability(actor, ORGANISE_EVENINGS))


def _require_break_rights(actor, evening: Evening, *, teachers=UNSET, brk=None, now) -> None:
    """An organiser may make and change any break. Otherwise only a teacher of the
    evening, for themself: the evening lets teachers set breaks, booking has not opened
    yet, the break is for none but their own place here, and (to change or remove one)
    they made it. Breaks the organiser made stay the organiser's."""
    if _is_organiser(actor):
        return
    own = set()
    if actor is not None and actor.is_active and actor.is_staff:
        own = set(teacher_entries_for(actor, evening=evening).values_list("pk", flat=True))
    if not own:
        raise NotAllowed(_("You may not set up parents' evenings."))
    if not evening.teachers_set_breaks:
        raise NotAllowed(_("At this evening only the organisers set breaks."))
    if now >= evening.booking_opens:
        raise NotAllowed(
            _("Booking has opened: ask the evening's organiser to change your breaks.")
        )
    if brk is not None:
        covers = set(brk.teachers.values_list("pk", flat=True))
        if brk.created_by_id != actor.pk or brk.all_teachers or not covers or not covers <= own:
            raise NotAllowed(_("The organiser set this break: ask them to change it."))
    if teachers is not UNSET:
        chosen = {t if isinstance(t, int) else t.pk for t in teachers or ()}
        if teachers is None or not chosen or not chosen <= own:
            raise NotAllowed(_("You may set breaks for yourself only."))


def _lock(evening, now: datetime) -> Evening:
    """The evening, locked against bookings, with expired holds out of the way."""
    evening = _lock_evening(evening, exclusive=True)
    _release_held(
        evening,
        Appointment.objects.filter(
            evening=evening, status=Appointment.Status.HELD, expires_at__lte=now
        ),
        expired_at=now,
    )
    return evening


def _live(evening: Evening, now: datetime):
    return Appointment.objects.filter(live_q(now), evening=evening)


def _refuse_if(appointments, message: str, *, field: str = "") -> None:
    affected = list(
        appointments.select_related("pupil", "teacher__staff", "parent").order_by("starts_at", "pk")
    )
    if affected:
        raise ChangeRefused(message, appointments=affected, field=field)


def _validate_evening(evening: Evening) -> None:
    for name in ("booking_opens", "booking_closes"):
        value = getattr(evening, name)
        if value is None or timezone.is_naive(value):
            raise InvalidSetup(_("Give a date and time with a time zone."), field=name)
    if evening.booking_closes <= evening.booking_opens:
        raise InvalidSetup(_("Booking must close after it opens."), field="booking_closes")
    if not evening.slot_minutes or evening.slot_minutes <= 0:
        raise InvalidSetup(_("Appointments need a length in minutes."), field="slot_minutes")
    for name in ("cutoff_hours", "max_per_pupil", "max_per_parent"):
        value = getattr(evening, name)
        if value is not None and value < 0:
            raise InvalidSetup(_("This cannot be negative."), field=name)
    if evening.travel_gap_minutes is None or evening.travel_gap_minutes < 0:
        raise InvalidSetup(_("This cannot be negative."), field="travel_gap_minutes")
    if evening.split_families not in Evening.SplitFamilies.values:
        raise InvalidSetup(_("Unknown split-family setting."), field="split_families")
    if evening.mode not in Evening.Mode.values:
        raise InvalidSetup(_("Unknown kind of meeting."), field="mode")
    if not evening.waiting_offer_hours or evening.waiting_offer_hours < 1:
        raise InvalidSetup(
            _("A freed time must be held for at least an hour."), field="waiting_offer_hours"
        )


def _validate_lengths(evening: Evening) -> None:
    """Teachers' lengths are multiples of the evening's; class lengths of their teachers'."""
    teachers = {t.staff_id: t for t in EveningTeacher.objects.filter(evening=evening)}
    for teacher in teachers.values():
        teacher.evening = evening
        _validate_teacher(teacher)
    for length in ClassLength.objects.filter(evening=evening).select_related("group"):
        for staff_id in GroupTeacher.objects.filter(group=length.group).values_list(
            "staff_id", flat=True
        ):
            teacher = teachers.get(staff_id)
            if teacher is not None and length.minutes % teacher.minutes:
                raise InvalidSetup(
                    _(
                        "%(group)s's %(minutes)s-minute appointments would no longer be a whole "
                        "multiple of its teacher's length."
                    )
                    % {"group": length.group, "minutes": length.minutes},
                    field="slot_minutes",
                )


def _validate_teacher(teacher: EveningTeacher) -> None:
    default = teacher.evening.slot_minutes
    if teacher.slot_minutes is not None and (
        teacher.slot_minutes <= 0 or teacher.slot_minutes % default
    ):
        raise InvalidSetup(
            _("A teacher's length must be a whole multiple of the evening's %(minutes)s minutes.")
            % {"minutes": default},
            field="slot_minutes",
        )


def _validate_times(starts_at: datetime, ends_at: datetime, *, field: str) -> None:
    for value in (starts_at, ends_at):
        if timezone.is_naive(value):
            raise InvalidSetup(_("Give a date and time with a time zone."), field=field)
        if value.second or value.microsecond:
            raise InvalidSetup(_("Times are in whole minutes."), field=field)
    if ends_at <= starts_at:
        raise InvalidSetup(_("The end must come after the start."), field=field)


def _validate_day(evening: Evening, starts_at, ends_at, *, exclude: EveningDay | None = None):
    _validate_times(starts_at, ends_at, field="days")
    others = EveningDay.objects.filter(
        evening=evening, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise InvalidSetup(_("Days of an evening cannot overlap."), field="days")


def _registration_groups(groups) -> list[TeachingGroup]:
    ids = [g if isinstance(g, int) else g.pk for g in groups]
    found = list(TeachingGroup.objects.filter(pk__in=ids, kind=TeachingGroup.Kind.REGISTRATION))
    if len(found) != len(set(ids)):
        raise InvalidSetup(_("Choose registration groups only."), field="registration_groups")
    return found


def _teachers_of(evening: Evening, teachers) -> list[EveningTeacher]:
    ids = [t if isinstance(t, int) else t.pk for t in teachers]
    found = list(EveningTeacher.objects.filter(evening=evening, pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidSetup(_("Choose teachers of this evening."), field="teachers")
    return found


def _busy(appointment: Appointment) -> planner.Busy:
    return planner.Busy(
        appointment.starts_at,
        appointment.ends_at,
        room=appointment.teacher.room,
        in_person=appointment.in_person,
    )
