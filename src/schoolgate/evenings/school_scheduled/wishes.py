"""Families' wishes and teachers' flags for a school-scheduled evening: the services
that save them (each checks who may say what, and changes nothing when refused) and
the selectors the pages read. Which pupils a parent may see comes from
`schoolgate.accounts.access`; whom a pupil may see from `availability.bookable_teachers`
(docs/school-scheduled-evenings.md)."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.core.access import ORGANISE_EVENINGS, has_capability
from schoolgate.evenings.booking.availability import bookable_teachers, eligible_pupils
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import Evening, EveningTeacher
from schoolgate.evenings.running.teachers import teacher_entries_for
from schoolgate.evenings.school_scheduled.models import (
    DEFAULT_TIME_LIMIT,
    FamilyWish,
    MeetingWish,
    ScheduledEvening,
    TeacherFlag,
)
from schoolgate.mis.models import Pupil

# The build runs inside the request: stay well inside the web server's timeout
# (WEB_TIMEOUT, 120 s by default: ops/webserver.py).
MAX_TIME_LIMIT = 90


class WishError(BookingError):
    """A wish or flag refused (closed, not allowed, bad input): nothing changed."""


# --- the organiser -------------------------------------------------------------------


def open_for_wishes(
    *,
    evening: Evening,
    actor,
    wishes_close: datetime,
    time_limit_seconds: int = DEFAULT_TIME_LIMIT,
    now: datetime | None = None,
) -> ScheduledEvening:
    """Make a draft evening school-scheduled and open it for wishes until `wishes_close`
    (again: a closed or built one reopens, keeping every wish)."""
    now = now or timezone.now()
    if not has_capability(actor, ORGANISE_EVENINGS):
        raise WishError(_("Only evening organisers may do this."))
    if evening.status != Evening.Status.DRAFT:
        raise WishError(_("Only a draft evening can be scheduled by the school."))
    if wishes_close <= now:
        raise WishError(_("Wishes must close in the future."))
    if not 1 <= time_limit_seconds <= MAX_TIME_LIMIT:
        raise WishError(
            _("The solver's time must be between 1 and %(most)s seconds.")
            % {"most": MAX_TIME_LIMIT}
        )
    with transaction.atomic():
        evening = Evening.objects.select_for_update().get(pk=evening.pk)
        if evening.status != Evening.Status.DRAFT:
            raise WishError(_("Only a draft evening can be scheduled by the school."))
        evening.run_by = Evening.RunBy.SCHOOL
        evening.save(update_fields=["run_by"])
        scheduled, _created = ScheduledEvening.objects.update_or_create(
            evening=evening,
            defaults={
                "state": ScheduledEvening.State.OPEN,
                "wishes_close": wishes_close,
                "time_limit_seconds": time_limit_seconds,
            },
        )
    return scheduled


# --- parents -------------------------------------------------------------------------


def _int(value) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise Http404 from None
    if number < 1 or number > 2**62:
        raise Http404
    return number


def parent_evenings(user, *, now: datetime | None = None) -> list[ScheduledEvening]:
    """School-scheduled evenings open for wishes for at least one of the user's children."""
    now = now or timezone.now()
    visible = pupils_visible_to(user)
    found = ScheduledEvening.objects.filter(
        state=ScheduledEvening.State.OPEN, wishes_close__gt=now
    ).select_related("evening")
    return [s for s in found if eligible_pupils(s.evening).filter(pk__in=visible).exists()]


def parent_scheduled_or_404(user, evening_id) -> tuple[ScheduledEvening, list[Pupil]]:
    """An evening the school schedules, not yet published, for at least one of the
    user's children, and those children; anything else is not found."""
    try:
        scheduled = ScheduledEvening.objects.select_related("evening").get(
            evening_id=_int(evening_id),
            state__in=[ScheduledEvening.State.OPEN, ScheduledEvening.State.BUILT],
        )
    except ScheduledEvening.DoesNotExist:
        raise Http404 from None
    children = list(
        eligible_pupils(scheduled.evening)
        .filter(pk__in=pupils_visible_to(user))
        .order_by("legal_forename", "legal_surname", "pk")
    )
    if not children:
        raise Http404
    return scheduled, children


@dataclass
class ChildChoices:
    pupil: Pupil
    teachers: list  # [(EveningTeacher, subjects, rank or None)]


def child_choices(scheduled: ScheduledEvening, user, children) -> list[ChildChoices]:
    """Each child's teachers, with the rank this parent gave each (None: not wanted)."""
    evening = scheduled.evening
    bookable = bookable_teachers(evening=evening, pupil_ids=[c.pk for c in children])
    ranks = {
        (m.pupil_id, m.teacher_id): m.rank
        for m in MeetingWish.objects.filter(family__evening=evening, family__parent=user)
    }
    result = []
    for child in children:
        entries = sorted(
            bookable.get(child.pk, {}).values(),
            key=lambda b: (b.teacher.staff.surname, b.teacher.staff_id),
        )
        result.append(
            ChildChoices(
                child,
                [(b.teacher, b.subjects, ranks.get((child.pk, b.teacher.pk))) for b in entries],
            )
        )
    return result


def family_wish(scheduled: ScheduledEvening, user) -> FamilyWish | None:
    return FamilyWish.objects.filter(evening=scheduled.evening, parent=user).first()


def save_family_wishes(
    *,
    scheduled: ScheduledEvening,
    parent,
    ranks: dict,
    arrive_after: time | None,
    leave_by: time | None,
    one_visit: bool,
    now: datetime | None = None,
) -> FamilyWish:
    """Replace this parent's wishes. `ranks` is {(pupil id, teacher id): rank}; every
    pupil must be a child the parent may see at this evening and every teacher one that
    child may book there. Raises WishError (nothing changed) otherwise."""
    now = now or timezone.now()
    evening = scheduled.evening
    if not scheduled.open_for_wishes(now):
        raise WishError(_("This evening is no longer taking wishes."))
    if arrive_after and leave_by and leave_by <= arrive_after:
        raise WishError(_("The time you must leave must be after the time you can arrive."))
    pupil_ids = {pupil_id for pupil_id, _t in ranks}
    visible = set(
        pupils_visible_to(parent).filter(pk__in=list(pupil_ids)).values_list("pk", flat=True)
    )
    if pupil_ids - visible:
        raise WishError(_("You may only give wishes for your own children."))
    bookable = bookable_teachers(evening=evening, pupil_ids=pupil_ids)
    for (pupil_id, teacher_id), rank in ranks.items():
        if teacher_id not in bookable.get(pupil_id, {}):
            raise WishError(_("This teacher cannot be seen about this child at this evening."))
        if not isinstance(rank, int) or rank < 1:
            raise WishError(_("Choose an order for each teacher you want to see."))
    with transaction.atomic():
        wish, _created = FamilyWish.objects.update_or_create(
            evening=evening,
            parent=parent,
            defaults={
                "arrive_after": arrive_after,
                "leave_by": leave_by,
                "one_visit": one_visit,
                "updated_at": now,
            },
        )
        wish.meetings.all().delete()
        MeetingWish.objects.bulk_create(
            [
                MeetingWish(family=wish, pupil_id=pupil_id, teacher_id=teacher_id, rank=rank)
                for (pupil_id, teacher_id), rank in sorted(ranks.items())
            ]
        )
    return wish


# --- teachers ------------------------------------------------------------------------


def teacher_scheduled(user) -> list[EveningTeacher]:
    """The user's places at school-scheduled evenings open for wishes."""
    return list(
        teacher_entries_for(user)
        .filter(
            evening__scheduled__state=ScheduledEvening.State.OPEN,
            removed=False,
        )
        .select_related("evening__scheduled", "staff")
        .order_by("evening__scheduled__wishes_close")
    )


def teacher_entry_or_404(user, evening_id) -> EveningTeacher:
    entry = (
        teacher_entries_for(user)
        .filter(evening_id=_int(evening_id), removed=False, evening__scheduled__isnull=False)
        .exclude(evening__scheduled__state=ScheduledEvening.State.PUBLISHED)
        .select_related("evening__scheduled", "staff")
        .first()
    )
    if entry is None:
        raise Http404
    return entry


@dataclass
class PupilFlag:
    pupil: Pupil
    classes: list = field(default_factory=list)
    flag: str = ""


def teacher_pupils(entry: EveningTeacher) -> list[PupilFlag]:
    """The pupils this teacher teaches (a class or form they have), with their flags:
    their own pupils only, never everyone who may book them."""
    evening = entry.evening
    pupils = list(eligible_pupils(evening).order_by("legal_surname", "legal_forename", "pk"))
    bookable = bookable_teachers(evening=evening, pupil_ids=[p.pk for p in pupils])
    flags = dict(TeacherFlag.objects.filter(teacher=entry).values_list("pupil_id", "flag"))
    result = []
    for pupil in pupils:
        mine = bookable.get(pupil.pk, {}).get(entry.pk)
        if mine is None or not mine.classes:
            continue
        result.append(PupilFlag(pupil, [g.name for g in mine.classes], flags.get(pupil.pk, "")))
    return result


def save_flags(*, entry: EveningTeacher, flags: dict, now: datetime | None = None) -> int:
    """Set this teacher's flags, {pupil id: 'must' | 'not_needed' | ''} ('' clears).
    Every pupil must be one of theirs; raises WishError (nothing changed) otherwise."""
    now = now or timezone.now()
    scheduled = entry.evening.scheduled
    if not scheduled.open_for_wishes(now):
        raise WishError(_("This evening is no longer taking wishes."))
    own = {p.pupil.pk for p in teacher_pupils(entry)}
    if set(flags) - own:
        raise WishError(_("You may only flag pupils you teach."))
    if any(v not in ("", *TeacherFlag.Flag.values) for v in flags.values()):
        raise WishError(_("Unknown flag."))
    with transaction.atomic():
        TeacherFlag.objects.filter(teacher=entry, pupil_id__in=list(flags)).delete()
        TeacherFlag.objects.bulk_create(
            [
                TeacherFlag(
                    evening=entry.evening, teacher=entry, pupil_id=p, flag=v, updated_at=now
                )
                for p, v in sorted(flags.items())
                if v
            ]
        )
    return sum(1 for v in flags.values() if v)
