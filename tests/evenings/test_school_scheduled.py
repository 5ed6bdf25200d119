"""School-scheduled evenings through the database: wishes and flags (who may say
what), building (what is placed and why the rest is not), publishing (ordinary
appointments, emails with .ics, twice creates nothing twice)."""

from datetime import time, timedelta

import pytest
from django.http import Http404
from evenings_school import NOW, london, make_evening, teacher

from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.school_scheduled import build, publish, wishes
from schoolgate.evenings.school_scheduled.models import ScheduledEvening, TeacherFlag
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

WISHES_CLOSE = london(2026, 3, 5, 17, 0)


def scheduled_evening(school, **overrides) -> ScheduledEvening:
    values = {"travel_gap_minutes": 0}
    values.update(overrides)
    evening = make_evening(school, **values)
    setup.set_status(evening=evening, actor=school.organiser, status=Evening.Status.DRAFT, now=NOW)
    evening.refresh_from_db()
    return wishes.open_for_wishes(
        evening=evening, actor=school.organiser, wishes_close=WISHES_CLOSE, now=NOW
    )


def staff_user(school, mis_id):
    """A staff account for an MIS teacher (linked by email) with the TEACH capability."""
    from django.contrib.auth.models import Permission

    from schoolgate.accounts.models import User

    staff = school.staff[mis_id]
    staff.email = f"{mis_id.lower()}@school.example"
    staff.email_key = staff.email
    staff.save()
    user = User.objects.create_user(staff.email, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="evenings", codename="teach")
    )
    return User.objects.get(pk=user.pk)


def wish(school, scheduled, parent, ranks, **kwargs):
    values = {"arrive_after": None, "leave_by": None, "one_visit": True, "now": NOW}
    values.update(kwargs)
    resolved = {
        (pupil.pk, teacher(scheduled.evening, school, mis_id).pk): rank
        for pupil, mis_id, rank in ranks
    }
    return wishes.save_family_wishes(scheduled=scheduled, parent=parent, ranks=resolved, **values)


def test_opening_makes_the_evening_school_scheduled_and_parents_see_it_only_as_wishes(school):
    scheduled = scheduled_evening(school)
    assert scheduled.evening.run_by == Evening.RunBy.SCHOOL
    assert scheduled.evening.status == Evening.Status.DRAFT  # nothing to book yet
    assert [s.pk for s in wishes.parent_evenings(school.ann, now=NOW)] == [scheduled.pk]
    assert wishes.parent_evenings(school.zak, now=NOW) == []  # Zoe's year is not invited


def test_a_school_scheduled_evening_cannot_be_opened_to_first_come_booking(school):
    """The ordinary Publish button refuses it: only its schedule publishes it."""
    scheduled = scheduled_evening(school)
    with pytest.raises(setup.InvalidSetup, match="scheduled by the school"):
        setup.set_status(
            evening=scheduled.evening,
            actor=school.organiser,
            status=Evening.Status.PUBLISHED,
            now=NOW,
        )
    scheduled.evening.refresh_from_db()
    assert scheduled.evening.status == Evening.Status.DRAFT


def test_a_parent_may_wish_only_for_their_own_children_and_their_teachers(school):
    scheduled = scheduled_evening(school)
    with pytest.raises(wishes.WishError):
        wish(school, scheduled, school.bea, [(school.amy, "S-MIA", 1)])  # Ann's child
    with pytest.raises(wishes.WishError):
        wish(school, scheduled, school.ann, [(school.amy, "S-SAM", 1)])  # Ben's teacher
    with pytest.raises(Http404):
        wishes.parent_scheduled_or_404(school.zak, scheduled.evening.pk)
    assert not scheduled.evening.family_wishes.exists()


def test_wishes_close_at_the_deadline(school):
    scheduled = scheduled_evening(school)
    with pytest.raises(wishes.WishError):
        wish(school, scheduled, school.ann, [(school.amy, "S-MIA", 1)], now=WISHES_CLOSE)


def test_a_teacher_flags_only_their_own_pupils(school):
    scheduled = scheduled_evening(school)
    mia = teacher(scheduled.evening, school, "S-MIA")
    own = {p.pupil.pk for p in wishes.teacher_pupils(mia)}
    assert own == {school.amy.pk, school.cal.pk, school.dan.pk}
    with pytest.raises(wishes.WishError):
        wishes.save_flags(entry=mia, flags={school.ben.pk: "must"}, now=NOW)
    wishes.save_flags(entry=mia, flags={school.cal.pk: "must"}, now=NOW)
    assert TeacherFlag.objects.get().flag == "must"


def test_build_places_wishes_and_reports_what_it_could_not(school):
    scheduled = scheduled_evening(school)
    evening = scheduled.evening
    wish(school, scheduled, school.ann, [(school.amy, "S-MIA", 1), (school.amy, "S-EVE", 2)])
    # Bea can only stay ten minutes at the very start, and Mia has a break then.
    wish(
        school,
        scheduled,
        school.bea,
        [(school.cal, "S-MIA", 1), (school.cal, "S-TOM", 2)],
        arrive_after=time(16, 0),
        leave_by=time(16, 10),
    )
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 16, 0),
        ends_at=london(2026, 3, 10, 16, 10),
        teachers=[teacher(evening, school, "S-MIA")],
        now=NOW,
    )
    mia = teacher(evening, school, "S-MIA")
    eve = teacher(evening, school, "S-EVE")
    wishes.save_flags(entry=mia, flags={school.dan.pk: "must"}, now=NOW)  # nobody asked
    wishes.save_flags(entry=eve, flags={school.amy.pk: "not_needed"}, now=NOW)
    built = build.build(scheduled=scheduled, actor=school.organiser, now=NOW)
    placed = {(m["pupil"], m["teacher"]) for m in built.result["meetings"]}
    reasons = {(u["pupil"], u["teacher"]): u["reason"] for u in built.result["unplaced"]}
    tom = teacher(evening, school, "S-TOM")
    assert placed == {(school.amy.pk, mia.pk), (school.cal.pk, tom.pk)}
    assert reasons == {
        (school.cal.pk, mia.pk): "outside_window",
        (school.amy.pk, eve.pk): "not_needed",
        (school.dan.pk, mia.pk): "no_wishes",
    }
    figures = built.result["figures"]
    assert figures["meetings_placed"] == 2
    assert figures["must_see_asked"] == 1 and figures["must_see_placed"] == 0


def test_publishing_books_through_the_engine_emails_each_family_and_twice_is_once(school):
    scheduled = scheduled_evening(school)
    wish(school, scheduled, school.ann, [(school.amy, "S-MIA", 1), (school.ben, "S-SAM", 1)])
    wish(school, scheduled, school.bea, [(school.cal, "S-MIA", 1)])
    built = build.build(scheduled=scheduled, actor=school.organiser, now=NOW)
    assert Appointment.objects.count() == 0  # building books nothing
    first = publish.publish(scheduled=built, actor=school.organiser, now=NOW)
    again = publish.publish(scheduled=built, actor=school.organiser, now=NOW)
    assert (first.appointments, again.appointments, again.already) == (3, 0, True)
    rows = list(Appointment.objects.order_by("starts_at"))
    assert len(rows) == 3
    assert {r.status for r in rows} == {Appointment.Status.CONFIRMED}
    assert {(r.parent_id, r.pupil_id) for r in rows} == {
        (school.ann.pk, school.amy.pk),
        (school.ann.pk, school.ben.pk),
        (school.bea.pk, school.cal.pk),
    }
    # Ann's two meetings do not overlap (one place at a time).
    ann = [r for r in rows if r.parent_id == school.ann.pk]
    assert ann[0].ends_at <= ann[1].starts_at
    mails = {m.to: m for m in OutboxMessage.objects.all()}
    assert set(mails) == {"ann@example.org", "bea@example.org"}
    assert all(m.attachments[0]["filename"].endswith(".ics") for m in mails.values())
    assert OutboxMessage.objects.count() == 2
    evening = Evening.objects.get(pk=scheduled.pk)
    assert evening.status == Evening.Status.PUBLISHED
    assert ScheduledEvening.objects.get(pk=scheduled.pk).state == "published"


def test_publishing_refused_by_the_engine_books_nothing(school):
    scheduled = scheduled_evening(school)
    wish(school, scheduled, school.ann, [(school.amy, "S-MIA", 1), (school.amy, "S-EVE", 1)])
    wish(school, scheduled, school.bea, [(school.cal, "S-MIA", 1)])
    built = build.build(scheduled=scheduled, actor=school.organiser, now=NOW)
    # The last family's slot is taken behind the schedule's back: the whole publish fails.
    last = built.result["meetings"][-1]
    built.result["meetings"].append({**last, "pupil": school.dan.pk, "parent": school.deb.pk})
    built.save(update_fields=["result"])
    with pytest.raises(wishes.WishError):
        publish.publish(scheduled=built, actor=school.organiser, now=NOW)
    assert Appointment.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert Evening.objects.get(pk=scheduled.pk).status == Evening.Status.DRAFT


def test_siblings_in_one_visit_wait_no_longer_than_needed(school):
    scheduled = scheduled_evening(school)
    wish(
        school,
        scheduled,
        school.ann,
        [(school.amy, "S-MIA", 1), (school.amy, "S-EVE", 2), (school.ben, "S-SAM", 1)],
    )
    built = build.build(scheduled=scheduled, actor=school.organiser, now=NOW)
    starts = sorted(m["start"] for m in built.result["meetings"])
    assert len(starts) == 3
    assert built.result["figures"]["mean_wait_min"] == 0
    first, last = starts[0], starts[-1]
    from datetime import datetime

    assert datetime.fromisoformat(last) - datetime.fromisoformat(first) == timedelta(minutes=20)
