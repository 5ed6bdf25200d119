"""Import teachers' availability from a CSV file (docs/csv-availability.md).

Each row says when one teacher is available on one day of the evening; the rest of
that day becomes per-teacher breaks labelled "Unavailable", claimed by the set-up
services' own break sync under the evening's lock. The file is the whole truth for
each (teacher, day) it names and leaves every other teacher and day alone, so
importing the same file again changes nothing. All or nothing: every problem is
listed with its line and column and nothing is applied; a change that would cover a
booking is refused listing every booking affected (ChangeRefused)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from schoolgate.core.emails import normalise_email
from schoolgate.core.local_time import SkippedTime, aware_local
from schoolgate.evenings.booking.availability import live_q
from schoolgate.evenings.booking.errors import ChangeRefused
from schoolgate.evenings.models import Appointment, Break, Evening, EveningDay, EveningTeacher
from schoolgate.evenings.setup.checks import lock_for_setup, require_organiser, validate_times
from schoolgate.evenings.setup.consistency import sync_break_claims
from schoolgate.mis.importers.common import Where, parse_csv
from schoolgate.mis.snapshot import InvalidSource, Problem

COLUMNS = ("teacher", "date", "from", "to")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
LABEL = gettext_noop("Unavailable")  # translated when stored; known in every language


@dataclass
class Plan:
    """What the file asks for: {(teacher id, day id): [(start, end) unavailable]}."""

    wanted: dict[tuple[int, int], list[tuple[datetime, datetime]]] = field(default_factory=dict)


@dataclass
class ImportResult:
    added: int = 0
    removed: int = 0
    changed_teacher_days: int = 0
    unchanged_teacher_days: int = 0
    teachers: list[EveningTeacher] = field(default_factory=list)


def unavailable_labels() -> set[str]:
    """ "Unavailable" in every language of the site: an imported break is known by it."""
    labels = {LABEL}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.add(_(LABEL))
    return labels


def read(data: bytes, *, evening: Evening, name: str) -> Plan:
    """Check the whole file against the evening; raise InvalidSource listing every
    problem (line and column), or return what it asks for."""
    text = _decode(data, name=name)
    rows = parse_csv(text, name=name, required=COLUMNS)
    problems: list[Problem] = []
    header = set(rows[0].values) if rows else set()
    for column in sorted(header - set(COLUMNS)):
        problems.append(
            Where(name, line=1).problem(
                _("this is not a column of the file (see docs/csv-availability.md)"),
                field=column,
            )
        )
    if not rows and not problems:
        problems.append(Where(name, line=2).problem(_("the file has no rows")))

    teachers = list(
        EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
    )
    by_id = {t.staff.mis_id.casefold(): t for t in teachers}
    by_email = {t.staff.email_key: t for t in teachers if t.staff.email_key}
    days = {timezone.localdate(d.starts_at): d for d in EveningDay.objects.filter(evening=evening)}
    dates = ", ".join(f"{d:%d/%m/%Y}" for d in sorted(days))

    available = defaultdict(list)  # (teacher id, day id) -> [(start, end, line)]
    whole_day_off = {}  # (teacher id, day id) -> line
    for row in rows:
        at = Where(name, line=row.line)
        teacher = _teacher(row.get("teacher"), by_id, by_email, at, problems)
        day = _day(row.get("date"), days, dates, at, problems)
        start_text, end_text = row.get("from"), row.get("to")
        if not start_text and not end_text:
            if teacher and day:
                whole_day_off[(teacher.pk, day.pk)] = row.line
            continue
        if not start_text or not end_text:
            missing = "from" if not start_text else "to"
            problems.append(
                at.problem(
                    _(
                        "give both times, or leave both empty when the teacher is not "
                        "available that day"
                    ),
                    field=missing,
                )
            )
            continue
        start = _time(start_text, at, "from", problems)
        end = _time(end_text, at, "to", problems)
        if start is None or end is None or day is None:
            continue
        starts_at = _local(day, start, at, "from", problems)
        ends_at = _local(day, end, at, "to", problems)
        if starts_at is None or ends_at is None:
            continue
        if ends_at <= starts_at:
            problems.append(at.problem(_("the end must come after the start"), field="to"))
            continue
        if starts_at < day.starts_at or ends_at > day.ends_at:
            problems.append(
                at.problem(
                    _("%(from)s to %(to)s is not within the day, %(start)s to %(end)s")
                    % {
                        "from": f"{start:%H:%M}",
                        "to": f"{end:%H:%M}",
                        "start": f"{timezone.localtime(day.starts_at):%H:%M}",
                        "end": f"{timezone.localtime(day.ends_at):%H:%M}",
                    },
                    field="from" if starts_at < day.starts_at else "to",
                )
            )
            continue
        if teacher:
            available[(teacher.pk, day.pk)].append((starts_at, ends_at, row.line))
    for key, line in whole_day_off.items():
        if key in available:
            problems.append(
                Where(name, line=line).problem(
                    _(
                        "the teacher is given times on line %(line)s for the same day, and "
                        "not available at all here"
                    )
                    % {"line": available[key][0][2]},
                    field="from",
                )
            )
    if problems:
        raise InvalidSource(sorted(problems, key=lambda p: p.line or 0))

    day_of = {d.pk: d for d in days.values()}
    plan = Plan()
    for key in set(available) | set(whole_day_off):
        day = day_of[key[1]]
        plan.wanted[key] = _gaps(day.starts_at, day.ends_at, available.get(key, []))
    return plan


@dataclass
class Change:
    """One teacher's day that the file changes: unavailable times before and after."""

    teacher: EveningTeacher
    day: EveningDay
    before: list[tuple[datetime, datetime]]
    after: list[tuple[datetime, datetime]]


@dataclass
class Preview:
    changes: list[Change]
    unchanged: int  # teacher-days already as the file says
    in_the_way: list[Appointment]  # bookings the changes would cover: the import is refused


@dataclass
class _Comparison:
    teachers: dict
    days: dict
    existing: dict
    changing: dict
    affected: list


def _compare(evening: Evening, plan: Plan, now: datetime) -> _Comparison:
    """The evening's imported breaks now, the teacher-days the plan changes, and the
    live bookings those changes would cover."""
    labels = unavailable_labels()
    teachers = {
        t.pk: t for t in EveningTeacher.objects.filter(evening=evening).select_related("staff")
    }
    days = {d.pk: d for d in EveningDay.objects.filter(evening=evening)}
    existing = defaultdict(list)
    imported = (
        Break.objects.filter(evening=evening, all_teachers=False, label__in=labels)
        .prefetch_related("teachers")
        .order_by("starts_at")
    )
    for brk in imported:
        mine = list(brk.teachers.all())
        if len(mine) != 1:
            continue
        for day in days.values():
            if day.starts_at <= brk.starts_at and brk.ends_at <= day.ends_at:
                existing[(mine[0].pk, day.pk)].append(brk)
    changing = {
        key: wanted
        for key, wanted in plan.wanted.items()
        if [(b.starts_at, b.ends_at) for b in existing.get(key, [])] != wanted
    }
    in_the_way = Q(pk__in=[])
    for (teacher_id, _day), wanted in changing.items():
        for starts_at, ends_at in wanted:
            in_the_way |= Q(teacher_id=teacher_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
    affected = list(
        Appointment.objects.filter(live_q(now), in_the_way, evening=evening)
        .select_related("pupil", "teacher__staff", "parent")
        .order_by("starts_at", "pk")
    )
    return _Comparison(teachers, days, existing, changing, affected)


def preview(*, evening: Evening, plan: Plan, now: datetime | None = None) -> Preview:
    """What applying the plan would change now, and the bookings in the way (a read:
    `apply` checks everything again under the evening's lock)."""
    found = _compare(evening, plan, now or timezone.now())
    changes = [
        Change(
            teacher=found.teachers[teacher_id],
            day=found.days[day_id],
            before=[(b.starts_at, b.ends_at) for b in found.existing.get((teacher_id, day_id), [])],
            after=wanted,
        )
        for (teacher_id, day_id), wanted in found.changing.items()
    ]
    changes.sort(key=lambda c: (c.day.starts_at, c.teacher.staff.surname, c.teacher.pk))
    return Preview(
        changes=changes,
        unchanged=len(plan.wanted) - len(found.changing),
        in_the_way=found.affected,
    )


def refusal(appointments) -> ChangeRefused:
    return ChangeRefused(
        _("Some teachers would be unavailable at times they have bookings."),
        appointments=appointments,
        field="file",
    )


def apply(*, evening: Evening, plan: Plan, actor, now: datetime | None = None) -> ImportResult:
    """Make each named teacher's "Unavailable" breaks on each named day what the file
    says, in one transaction: refused with every booking in the way, or all done.

    The breaks are written together and their slots claimed in one pass of the
    set-up services' own claim sync, under the evening's exclusive lock, rather than
    through add_break once per break: each of those re-reads every slot, which made
    an import of 70 teachers take seconds (bench/takeup.py)."""
    require_organiser(actor)
    now = now or timezone.now()
    result = ImportResult()
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        found = _compare(evening, plan, now)
        teachers, existing, changing = found.teachers, found.existing, found.changing
        result.unchanged_teacher_days = len(plan.wanted) - len(changing)
        result.changed_teacher_days = len(changing)
        if found.affected:
            raise refusal(found.affected)
        going = [brk.pk for key in changing for brk in existing.get(key, [])]
        Break.objects.filter(pk__in=going).delete()  # their slot claims go with them
        result.removed = len(going)
        label = _(LABEL)
        made = []
        for (teacher_id, _day), wanted in sorted(changing.items()):
            for starts_at, ends_at in wanted:
                validate_times(starts_at, ends_at, field="file")
                made.append(
                    (
                        teacher_id,
                        Break(
                            evening=evening,
                            starts_at=starts_at,
                            ends_at=ends_at,
                            label=label,
                            all_teachers=False,
                            created_by=actor,
                        ),
                    )
                )
        Break.objects.bulk_create([brk for _t, brk in made])
        Break.teachers.through.objects.bulk_create(
            [Break.teachers.through(break_id=brk.pk, eveningteacher_id=t) for t, brk in made]
        )
        result.added = len(made)
        sync_break_claims(evening, now)
        result.teachers = sorted(
            {teachers[t] for t, _d in changing},
            key=lambda t: (t.staff.surname, t.staff.forename, t.pk),
        )
    return result


def import_file(*, evening: Evening, data: bytes, name: str, actor, now=None) -> ImportResult:
    """Read and apply a file (InvalidSource or ChangeRefused: nothing changed)."""
    return apply(evening=evening, plan=read(data, evening=evening, name=name), actor=actor, now=now)


# --- reading one value ---------------------------------------------------------------


def _decode(data: bytes, *, name: str) -> bytes:
    """UTF-8 as it is; Windows-1252 (Excel's plain "CSV") re-encoded as UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data  # parse_csv says it is UTF-16
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace").encode("utf-8")


def _teacher(value, by_id, by_email, at: Where, problems) -> EveningTeacher | None:
    if not value:
        problems.append(
            at.problem(
                _("give the teacher's staff id from the MIS, or their email"), field="teacher"
            )
        )
        return None
    found = by_id.get(value.casefold()) or by_email.get(normalise_email(value))
    if found is None:
        problems.append(
            at.problem(
                _(
                    "'%(value)s' is not the staff id or email of a teacher taking part in "
                    "this evening"
                )
                % {"value": value},
                field="teacher",
            )
        )
    return found


def _day(value, days, dates, at: Where, problems) -> EveningDay | None:
    if not value:
        problems.append(at.problem(_("give the date (DD/MM/YYYY)"), field="date"))
        return None
    for fmt in DATE_FORMATS:
        try:
            found = datetime.strptime(value, fmt).date()
            break
        except ValueError:
            continue
    else:
        problems.append(
            at.problem(
                _("'%(value)s' is not a date (expected DD/MM/YYYY or YYYY-MM-DD)")
                % {"value": value},
                field="date",
            )
        )
        return None
    day = days.get(found)
    if day is None:
        problems.append(
            at.problem(
                _("%(date)s is not a day of this evening (its days: %(dates)s)")
                % {"date": f"{found:%d/%m/%Y}", "dates": dates},
                field="date",
            )
        )
    return day


def _time(value, at: Where, column: str, problems) -> time | None:
    try:
        hours, minutes = value.split(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        problems.append(
            at.problem(
                _("'%(value)s' is not a time (expected HH:MM, for example 16:30)")
                % {"value": value},
                field=column,
            )
        )
        return None


def _local(day: EveningDay, value: time, at: Where, column: str, problems) -> datetime | None:
    local_date: date = timezone.localdate(day.starts_at)
    try:
        return aware_local(datetime.combine(local_date, value))
    except SkippedTime:
        problems.append(
            at.problem(
                _("%(time)s does not exist on %(date)s: the clocks go forward then.")
                % {"time": f"{value:%H:%M}", "date": f"{local_date:%d/%m/%Y}"},
                field=column,
            )
        )
        return None


def _gaps(start: datetime, end: datetime, available) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside every available range, in order."""
    gaps, at = [], start
    for a_start, a_end, _line in sorted(available):
        if a_start > at:
            gaps.append((at, a_start))
        at = max(at, a_end)
    if at < end:
        gaps.append((at, end))
    return gaps
