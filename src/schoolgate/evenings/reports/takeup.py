"""Take-up of an evening, live: who has booked, by year group, registration group and
teacher, each teacher's fill rate, and the families who have not booked yet.

A pupil has "booked" with at least one confirmed appointment at the evening,
whoever made it. Everything is read at request time in a fixed number of queries,
whatever the size of the school (tests/evenings/test_takeup.py counts them)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q
from django.utils import timezone

from schoolgate.accounts.access import qualifying_links
from schoolgate.accounts.models import User
from schoolgate.evenings.booking.availability import eligible_pupils
from schoolgate.evenings.models import Appointment, ChaseUp, Evening, EveningTeacher, Slot
from schoolgate.mis.models import GroupMembership, GroupTeacher, PupilContact, TeachingGroup


@dataclass
class Figure:
    """Pupils booked out of pupils counted, for one line of a table."""

    label: str
    total: int = 0
    booked: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.booked / self.total) if self.total else None


@dataclass
class TeacherFigure:
    teacher: EveningTeacher
    pupils: int  # pupils who may book them at this evening
    seen: int  # of those, pupils with a confirmed appointment with them
    slots: int  # bookable slots: all of theirs but those in breaks
    booked_slots: int  # slots taken by confirmed appointments

    @property
    def fill_percent(self) -> int | None:
        return round(100 * self.booked_slots / self.slots) if self.slots else None


@dataclass
class Parent:
    """A contact with parental responsibility for a pupil who has not booked."""

    name: str
    email: str
    # "active" (signed in at least once), "invited" (never signed in), "not_invited",
    # "deactivated", "no_account" (an email but no account), "no_email".
    account: str
    chased: bool = False  # will get (or got) the chase-up email: an active account with access
    last_login: datetime | None = None
    invited_at: datetime | None = None
    chased_on: date | None = None


@dataclass
class NotBooked:
    pupil_id: int
    name: str
    year: int | None
    year_label: str
    forms: list[str]
    parents: list[Parent] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return any(p.chased for p in self.parents)


@dataclass
class TakeUp:
    overall: Figure
    years: list[Figure]
    forms: list[Figure]
    teachers: list[TeacherFigure]
    not_booked: list[NotBooked]
    today: date

    @property
    def to_chase(self) -> int:
        """Parents a chase-up would go to (one email each, however many children)."""
        return len({p.email for n in self.not_booked for p in n.parents if p.chased})

    @property
    def chased_today(self) -> int:
        return len(
            {
                p.email
                for n in self.not_booked
                for p in n.parents
                if p.chased and p.chased_on == self.today
            }
        )


def year_label(year: int | None) -> str:
    from django.utils.translation import gettext as _

    if year is None:
        return _("No year group")
    if year == 0:
        return _("Reception")
    if year == -1:
        return _("Nursery 2")
    if year == -2:
        return _("Nursery 1")
    return _("Year %(year)s") % {"year": year}


def booked_pupil_ids(evening: Evening) -> set[int]:
    """Pupils with at least one confirmed appointment at the evening."""
    return set(
        Appointment.objects.filter(evening=evening, status=Appointment.Status.CONFIRMED)
        .values_list("pupil_id", flat=True)
        .distinct()
    )


def chase_links(evening: Evening, pupil_ids, *, mode: str | None = None):
    """(email key, pupil id) of every link giving access to one of `pupil_ids` now:
    the people a chase-up for those pupils may go to (accounts.access rules)."""
    return (
        qualifying_links(mode=mode)
        .filter(pupil_id__in=list(pupil_ids))
        .values_list("contact__email_key", "pupil_id")
    )


def take_up(evening: Evening, *, now: datetime | None = None) -> TakeUp:
    """The take-up figures and the families who have not booked, as they are now."""
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    today = timezone.localdate(now, timezone.get_default_timezone())
    pupils = list(
        eligible_pupils(evening)
        .order_by("year_group", "legal_surname", "legal_forename", "pk")
        .values(
            "pk",
            "year_group",
            "legal_forename",
            "legal_surname",
            "preferred_forename",
            "preferred_surname",
        )
    )
    pupil_ids = [p["pk"] for p in pupils]
    forms_of = defaultdict(list)
    for pupil_id, name in (
        GroupMembership.objects.filter(
            pupil_id__in=eligible_pupils(evening).values("pk"),
            group__kind=TeachingGroup.Kind.REGISTRATION,
            group__current=True,
        )
        .order_by("group__name")
        .values_list("pupil_id", "group__name")
    ):
        forms_of[pupil_id].append(name)
    confirmed = list(
        Appointment.objects.filter(
            evening=evening, status=Appointment.Status.CONFIRMED
        ).values_list("pupil_id", "teacher_id")
    )
    booked = {pupil_id for pupil_id, _teacher in confirmed}

    overall = Figure(_("Every pupil the evening is for"))
    years: dict[int | None, Figure] = {}
    forms: dict[str, Figure] = {}
    no_form = _("No registration group")
    for pupil in pupils:
        done = pupil["pk"] in booked
        year = pupil["year_group"]
        if year not in years:
            years[year] = Figure(year_label(year))
        lines = [overall, years[year]]
        for name in forms_of.get(pupil["pk"]) or [no_form]:
            if name not in forms:
                forms[name] = Figure(name)
            lines.append(forms[name])
        for line in lines:
            line.total += 1
            line.booked += done

    return TakeUp(
        overall=overall,
        years=[
            years[y] for y in sorted(years, key=lambda y: (y is None, y if y is not None else 0))
        ],
        forms=[forms[name] for name in sorted(forms, key=lambda n: (n == no_form, n))],
        teachers=_teacher_figures(evening, pupil_ids, confirmed),
        not_booked=_not_booked(
            evening, pupils, booked, forms_of, today, {y: f.label for y, f in years.items()}
        ),
        today=today,
    )


def _teacher_figures(evening, pupil_ids, confirmed) -> list[TeacherFigure]:
    audience = eligible_pupils(evening).values("pk")
    teachers = list(
        EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
    )
    # Who may book whom, as availability.bookable_teachers decides it, but for the
    # whole audience at once: class teachers and form tutors of current groups, and
    # every added teacher for every pupil.
    taught = defaultdict(set)
    for staff_id, pupil_id in (
        GroupTeacher.objects.filter(
            group__current=True, group__groupmembership__pupil_id__in=audience
        )
        .values_list("staff_id", "group__groupmembership__pupil_id")
        .distinct()
    ):
        taught[staff_id].add(pupil_id)
    seen = defaultdict(set)
    for pupil_id, teacher_id in confirmed:
        seen[teacher_id].add(pupil_id)
    slots = {
        row["teacher_id"]: row
        for row in Slot.objects.filter(evening=evening)
        .values("teacher_id")
        .annotate(
            total=Count("pk"),
            in_breaks=Count("pk", filter=Q(claim__brk__isnull=False)),
            booked=Count("pk", filter=Q(claim__appointment__status=Appointment.Status.CONFIRMED)),
        )
        .order_by()
    }
    everyone = len(pupil_ids)
    figures = []
    for teacher in teachers:
        counts = slots.get(teacher.pk, {"total": 0, "in_breaks": 0, "booked": 0})
        added = teacher.source == EveningTeacher.Source.ADDED
        figures.append(
            TeacherFigure(
                teacher=teacher,
                pupils=everyone if added else len(taught[teacher.staff_id]),
                seen=len(seen[teacher.pk]),
                slots=counts["total"] - counts["in_breaks"],
                booked_slots=counts["booked"],
            )
        )
    return figures


def _not_booked(evening, pupils, booked, forms_of, today, year_names) -> list[NotBooked]:
    waiting = [p for p in pupils if p["pk"] not in booked]
    ids = [p["pk"] for p in waiting]
    links = list(
        PupilContact.objects.filter(
            pupil_id__in=ids,
            parental_responsibility=True,
            court_order=False,
            no_contact=False,
        )
        .order_by("priority", "contact__surname", "contact__forename", "pk")
        .values_list(
            "pupil_id",
            "contact__title",
            "contact__forename",
            "contact__surname",
            "contact__email",
            "contact__email_key",
        )
    )
    access = set(chase_links(evening, ids))
    keys = {row[5] for row in links if row[5]}
    users = {
        u["email"]: u
        for u in User.objects.filter(email__in=keys).values(
            "pk", "email", "is_active", "last_login", "invited_at"
        )
    }
    chased_on = {}
    for parent_id, sent_on in ChaseUp.objects.filter(
        evening=evening, parent_id__in=[u["pk"] for u in users.values()]
    ).values_list("parent_id", "sent_on"):
        chased_on[parent_id] = max(sent_on, chased_on.get(parent_id, sent_on))
    # A chase-up a parent had today for another evening counts too (one a day).
    chased_today = set(
        ChaseUp.objects.filter(
            sent_on=today, parent_id__in=[u["pk"] for u in users.values()]
        ).values_list("parent_id", flat=True)
    )
    parents_of = defaultdict(list)
    for pupil_id, title, forename, surname, email, key in links:
        name = " ".join(part for part in (title, forename, surname) if part)
        user = users.get(key) if key else None
        if not email:
            account = "no_email"
        elif user is None:
            account = "no_account"
        elif not user["is_active"]:
            account = "deactivated"
        elif user["last_login"]:
            account = "active"
        elif user["invited_at"]:
            account = "invited"
        else:
            account = "not_invited"
        parent = Parent(name=name, email=email, account=account)
        if user is not None:
            parent.last_login, parent.invited_at = user["last_login"], user["invited_at"]
            parent.chased = user["is_active"] and (key, pupil_id) in access
            parent.chased_on = today if user["pk"] in chased_today else chased_on.get(user["pk"])
        parents_of[pupil_id].append(parent)
    result = []
    for pupil in waiting:
        forename = pupil["preferred_forename"] or pupil["legal_forename"]
        surname = pupil["preferred_surname"] or pupil["legal_surname"]
        result.append(
            NotBooked(
                pupil_id=pupil["pk"],
                name=f"{forename} {surname}",
                year=pupil["year_group"],
                year_label=year_names[pupil["year_group"]],
                forms=forms_of.get(pupil["pk"], []),
                parents=parents_of.get(pupil["pk"], []),
            )
        )
    return result
