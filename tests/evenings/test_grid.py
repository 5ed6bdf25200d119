"""The organiser's grid: every teacher against the evening's times, each cell free,
held, booked (with the pupil's name), a break, absent or no time; filters by day, year
group, department and teacher; who may see it; and a fixed number of queries whatever
the number of teachers and slots.

The pages run on the real clock, so the evenings are a few days ahead of today."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from evenings_school import make_evening, teacher
from test_parent_pages import at, book_now, upcoming_evening, words

from schoolgate.accounts.models import User
from schoolgate.evenings import booking
from schoolgate.evenings.models import EveningTeacher, TeacherAbsence
from schoolgate.evenings.reports import grid
from schoolgate.evenings.setup import services as setup


def url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


def staff_with(*codenames) -> User:
    user = User.objects.create_user(
        f"{'-'.join(codenames) or 'none'}@school.example", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="evenings", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def rows(response) -> dict[str, list[str]]:
    """{teacher's name: the words of each cell} of the grid."""
    table = re.search(r'<table class="govuk-table sg-grid".*?</table>', response.text, re.S)
    assert table, "no grid on the page"
    found = {}
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table.group(0), re.S)[1:]:
        name = words(re.search(r"<th[^>]*>(.*?)</th>", row, re.S).group(1))
        found[name] = [words(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return found


def columns(response) -> list[str]:
    head = re.search(r"<thead.*?</thead>", response.text, re.S).group(0)
    return [words(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)][1:]


@pytest.fixture
def upcoming(school):
    return upcoming_evening(school)


@pytest.fixture
def organiser(client, school):
    client.force_login(school.organiser)
    return client


def test_the_grid_shows_every_teacher_against_the_times_with_each_cell_state(
    organiser, school, upcoming
):
    evening = upcoming
    day = timezone.localtime(evening.days.get().starts_at)
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, room="M1"
    )
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=day.replace(hour=17, minute=30),
        ends_at=day.replace(hour=17, minute=50),
        teachers=[teacher(evening, school, "S-EVE")],
        label="Tea",
    )
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    booking.book_slots(
        parent=school.bea,
        evening=evening,
        choices=[
            (school.cal, teacher(evening, school, "S-MIA"), at(evening, school, "S-MIA", 16, 10))
        ],
        actor=school.organiser,
    )
    booking.hold_slots(
        parent=school.deb,
        evening=evening,
        choices=[
            (school.dan, teacher(evening, school, "S-EVE"), at(evening, school, "S-EVE", 16, 0))
        ],
    )
    TeacherAbsence.objects.create(
        evening=evening,
        teacher=teacher(evening, school, "S-SAM"),
        action=TeacherAbsence.Action.CANCEL,
        starts_at=day.replace(hour=18),
        ends_at=day.replace(hour=19),
    )

    response = organiser.get(url("grid", evening.pk))

    assert response.status_code == 200
    assert columns(response)[:3] == ["16:00", "16:10", "16:20"]
    assert len(columns(response)) == 18
    grid_rows = rows(response)
    assert list(grid_rows) == [
        "Dr E English",
        "Mrs F Form",
        "Ms M Maths M1",
        "Mr S Science",
        "Mr T Tutor",
    ]
    maths = grid_rows["Ms M Maths M1"]
    assert maths[0] == "Amy Ash"
    assert maths[1] == "Cal Best (school)"
    assert maths[2].startswith("Free")
    english = grid_rows["Dr E English"]
    assert english[0] == "Held : Dan Dee"
    # The break is one cell over its two slots: 17:30 and 17:40.
    assert english[9] == "Tea"
    assert len(english) == 17
    assert '<td class="govuk-table__cell sg-grid__cell sg-grid__cell--break" colspan="2">' in (
        response.text
    )
    science = grid_rows["Mr S Science"]
    # Absent from 18:00: one cell over the last six slots.
    assert science[11].startswith("Free") and science[12] == "Absent" and len(science) == 13
    # Booked names link to the appointment; free times to booking for a parent.
    amy = evening.appointments.get(pupil=school.amy)
    assert f'href="/staff/evenings/{evening.pk}/grid/appointments/{amy.pk}/"' in response.text
    free = at(evening, school, "S-MIA", 16, 20)
    assert f'href="/staff/evenings/{evening.pk}/grid/book/?slot={free.pk}"' in response.text
    # The key says what each mark means, in words.
    assert "the teacher's break" in response.text and "no appointment time" in response.text


def test_a_longer_appointment_spans_its_columns_and_other_lengths_show_in_their_start_column(
    organiser, school, upcoming
):
    evening = upcoming
    setup.update_teacher(
        teacher=teacher(evening, school, "S-SAM"), actor=school.organiser, slot_minutes=20
    )
    book_now(school, evening, school.ann, (school.ben, "S-SAM", 16, 20))

    grid_rows = rows(organiser.get(url("grid", evening.pk)))

    science = grid_rows["Mr S Science"]
    assert science[:3] == [
        "Free : book Mr S Science 16:00",
        "Ben Ash",
        "Free : book Mr S Science 16:40",
    ]
    assert len(science) == 9  # 18 columns, two each
    assert len(grid_rows["Ms M Maths"]) == 18


def test_an_expired_hold_shows_as_free(organiser, school, upcoming):
    evening = upcoming
    booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            (school.amy, teacher(evening, school, "S-MIA"), at(evening, school, "S-MIA", 16, 0))
        ],
        now=timezone.now() - timedelta(minutes=10),
    )

    grid_rows = rows(organiser.get(url("grid", evening.pk)))

    assert grid_rows["Ms M Maths"][0].startswith("Free")


def test_filters_by_year_group_department_and_teacher(organiser, school, upcoming):
    evening = upcoming
    setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-SUE"])
    base = url("grid", evening.pk)

    year_9 = rows(organiser.get(base, {"year": "9"}))
    maths = rows(organiser.get(base, {"department": "Maths"}))
    english_7 = rows(organiser.get(base, {"department": "English", "year": "7"}))
    one = rows(organiser.get(base, {"teacher": teacher(evening, school, "S-TOM").pk}))

    # Year 9: Ben's teachers, and the SENCO whom every pupil may book.
    assert list(year_9) == ["Mrs F Form", "Mr S Science", "Ms S Senco"]
    assert list(maths) == ["Ms M Maths"]
    assert list(english_7) == ["Dr E English"]
    assert list(one) == ["Mr T Tutor"]
    page = organiser.get(base)
    assert '<option value="Science">Science</option>' in page.text
    assert '<option value="9">Year 9</option>' in page.text


def test_a_filter_value_not_in_the_lists_is_an_error_and_filters_nothing(
    organiser, school, upcoming
):
    response = organiser.get(url("grid", upcoming.pk), {"year": "12", "department": "Latin"})

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Year group: No teacher here teaches that year group" in response.text
    assert "Department: No teacher here teaches that department" in response.text
    assert len(rows(response)) == 5


def test_another_evenings_teacher_or_day_is_not_found(organiser, school, upcoming):
    other = upcoming_evening(school, name="Other evening", in_days=12)

    teacher_answer = organiser.get(
        url("grid", upcoming.pk), {"teacher": teacher(other, school, "S-MIA").pk}
    )
    day_answer = organiser.get(url("grid", upcoming.pk), {"day": other.days.get().pk})
    junk = organiser.get(url("grid", upcoming.pk), {"day": "x"})

    assert teacher_answer.status_code == day_answer.status_code == junk.status_code == 404
    assert organiser.get(url("grid", 999999)).status_code == 404


def test_a_day_is_chosen_when_the_evening_has_several(organiser, school):
    now = timezone.now()
    first = upcoming_evening(school).days.get()
    evening = upcoming_evening(
        school,
        name="Two days",
        days=[
            (first.starts_at, first.ends_at),
            (first.starts_at + timedelta(days=1), first.ends_at + timedelta(days=1)),
        ],
        now=now - timedelta(days=5),
    )
    second = evening.days.order_by("starts_at")[1]
    mia = teacher(evening, school, "S-MIA")
    slot = mia.slots.filter(day=second).order_by("starts_at").first()
    booking.book_slots(parent=school.ann, evening=evening, choices=[(school.amy, mia, slot)])

    first_day = organiser.get(url("grid", evening.pk))
    second_day = organiser.get(url("grid", evening.pk), {"day": second.pk})

    assert rows(first_day)["Ms M Maths"][0].startswith("Free")
    assert rows(second_day)["Ms M Maths"][0] == "Amy Ash"
    assert timezone.localtime(second.starts_at).strftime("%-d %B") in second_day.text


def test_who_may_see_the_grid(client, school, upcoming):
    address = url("grid", upcoming.pk)
    organiser_only = staff_with("organise_evenings")
    booker_only = staff_with("book_for_parents")
    neither = staff_with()

    client.force_login(organiser_only)
    organiser_page = client.get(address)
    client.force_login(booker_only)
    booker_page = client.get(address)
    client.force_login(neither)
    refused = client.get(address)
    client.force_login(school.ann)
    parent = client.get(address)

    assert organiser_page.status_code == booker_page.status_code == 200
    assert refused.status_code == parent.status_code == 403
    # Only staff who book for parents are offered free times to book.
    assert "/grid/book/?slot=" not in organiser_page.text
    assert "/grid/book/?slot=" in booker_page.text


def test_the_grid_reads_a_fixed_number_of_queries_whatever_its_size(organiser, school):
    small = upcoming_evening(school, name="Small")
    big = upcoming_evening(school, name="Big", in_days=12, slot_minutes=5)
    for mis_id in ("S-SUE", "S-ZED"):
        setup.add_teacher(evening=big, actor=school.organiser, staff=school.staff[mis_id])
    day = timezone.localtime(big.days.get().starts_at)
    setup.add_break(
        evening=big,
        actor=school.organiser,
        starts_at=day.replace(hour=17, minute=30),
        ends_at=day.replace(hour=17, minute=45),
    )
    for pupil, parent, mis_id, h, m in (
        (school.amy, school.ann, "S-MIA", 16, 0),
        (school.cal, school.bea, "S-MIA", 16, 5),
        (school.dan, school.deb, "S-EVE", 16, 0),
        (school.ben, school.ann, "S-SAM", 18, 0),
    ):
        booking.book_slots(
            parent=parent,
            evening=big,
            choices=[(pupil, teacher(big, school, mis_id), at(big, school, mis_id, h, m))],
        )
    TeacherAbsence.objects.create(
        evening=big, teacher=teacher(big, school, "S-TOM"), action=TeacherAbsence.Action.CANCEL
    )

    counts = []
    for evening in (small, big):
        # Sessions and caches warmed alike (the filters are remembered in the session).
        organiser.get(url("grid", evening.pk), {"year": "7"})
        with CaptureQueriesContext(connection) as queries:
            response = organiser.get(url("grid", evening.pk), {"year": "7"})
        assert response.status_code == 200
        counts.append(len(queries))

    assert len(rows(response)) == 5  # the big one, Year 7: four teachers and the SENCO
    assert (
        EveningTeacher.objects.filter(evening=big).count()
        > EveningTeacher.objects.filter(evening=small).count()
    )
    assert counts[0] == counts[1], counts
    # Session, user, two-factor check, permissions (2), the evening, the grid (6) and the
    # school's name for the page.
    assert counts[1] <= 13, counts


def test_the_selector_alone_reads_six_queries(django_assert_num_queries, school, upcoming):
    with django_assert_num_queries(6):
        result = grid.build_grid(upcoming)
    assert len(result.rows) == 5 and len(result.columns) == 18
    assert result.counts["free"] == 5 * 18


def test_names_from_the_mis_are_escaped_in_the_cells(organiser, school, upcoming):
    evening = upcoming
    type(school.amy).objects.filter(pk=school.amy.pk).update(preferred_forename="<b>Amy</b>")
    school.staff["S-MIA"].__class__.objects.filter(pk=school.staff["S-MIA"].pk).update(
        surname="<i>Maths</i>"
    )
    day = timezone.localtime(evening.days.get().starts_at)
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=day.replace(hour=18),
        ends_at=day.replace(hour=18, minute=10),
        label="<script>x</script>",
    )
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))

    page = organiser.get(url("grid", evening.pk)).text

    assert "<b>Amy</b>" not in page and "&lt;b&gt;Amy&lt;/b&gt; Ash" in page
    assert "<i>Maths</i>" not in page and "Ms M &lt;i&gt;Maths&lt;/i&gt;" in page
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_times_within_the_parents_cut_off_stay_free_for_staff(organiser, school):
    # The office books for a parent who phones the day before: the cut-off is theirs.
    evening = upcoming_evening(school, cutoff_hours=24 * 30)

    page = organiser.get(url("grid", evening.pk))
    maths = rows(page)["Ms M Maths"]

    assert maths and all(c.startswith("Free") for c in maths)
    assert f'?slot={at(evening, school, "S-MIA", 16, 0).pk}"' in page.text


def test_times_that_have_started_say_too_late_and_are_not_links(organiser, school):
    now = timezone.localtime()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    evening = make_evening(
        school,
        days=[(start, start + timedelta(hours=3))],
        booking_opens=now - timedelta(days=5),
        booking_closes=start + timedelta(hours=3),
        now=now - timedelta(days=5),
    )

    page = organiser.get(url("grid", evening.pk))
    maths = rows(page)["Ms M Maths"]

    too_late = sum(1 for c in maths if c == "Too late")
    started = teacher(evening, school, "S-MIA").slots.filter(starts_at__lte=timezone.now())
    assert 6 <= too_late == started.count() < len(maths)
    assert all(c.startswith("Free") for c in maths[too_late:])
    assert f'?slot={started.first().pk}"' not in page.text
