"""Chase-up emails: one click emails every parent of a pupil who has not booked,
through the outbox, in the parent's language, never twice in a day to one parent."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from evenings_school import NOW, book, london, make_evening, make_school

from schoolgate.accounts.models import User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings.booking.errors import NotAllowed
from schoolgate.evenings.models import ChaseUp, Evening
from schoolgate.evenings.running import chaseup
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage


def chase(school, evening, now=NOW):
    return chaseup.send_chase_ups(evening=evening, actor=school.organiser, now=now)


def emails():
    return {m.to: m for m in OutboxMessage.objects.filter(template=chaseup.TEMPLATE)}


def test_every_parent_of_a_pupil_not_booked_is_emailed_once(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))

    result = chase(school, evening)

    # Ben (Ann) has not booked though his sister has; Cal (Bea); Dan (Deb and Don).
    # Zoe's father is not emailed: Year 11 is not part of the evening.
    sent = emails()
    assert sorted(sent) == [
        "ann@example.org",
        "bea@example.org",
        "deb@example.org",
        "don@example.org",
    ]
    assert sorted(u.email for u in result.sent) == sorted(sent)
    assert result.already == []
    assert sent["ann@example.org"].context["pupils"] == ["Ben Ash"]
    ann = sent["ann@example.org"]
    assert "Ben Ash" in ann.body_text and "Amy" not in ann.body_text
    assert "Spring parents' evening" in ann.subject
    assert f"/parents/evenings/{evening.pk}/" in ann.body_text
    assert "Tuesday 10 March 2026, 12:00" in ann.body_text  # booking closes, school time
    claims = ChaseUp.objects.filter(evening=evening)
    assert claims.count() == 4
    assert {c.message_id for c in claims} == {m.pk for m in sent.values()}
    assert all(c.sent_on == NOW.date() and c.sent_by == school.organiser for c in claims)


def test_one_email_names_all_of_a_parents_children_still_to_book(school, evening):
    result = chase(school, evening)
    assert len(result.sent) == 4
    assert emails()["ann@example.org"].context["pupils"] == ["Amy Ash", "Ben Ash"]


def test_a_second_click_the_same_day_sends_nothing_more(school, evening):
    chase(school, evening)
    again = chase(school, evening, now=NOW + timedelta(hours=5))

    assert again.sent == [] and len(again.already) == 4
    assert OutboxMessage.objects.filter(template=chaseup.TEMPLATE).count() == 4


def test_the_next_school_day_parents_can_be_chased_again(school, evening):
    chase(school, evening)
    # 00:30 in London on 2 March: the next school day.
    tomorrow = chase(school, evening, now=london(2026, 3, 2, 0, 30))
    assert len(tomorrow.sent) == 4
    assert OutboxMessage.objects.filter(template=chaseup.TEMPLATE).count() == 8


def test_a_parent_chased_for_another_evening_today_is_not_emailed_again(school, evening):
    other = make_evening(school, name="Year 9 options evening", year_groups=[9])
    chase(school, other)
    result = chase(school, evening)
    assert [u.email for u in result.already] == ["ann@example.org"]
    assert len(result.sent) == 3


def test_parents_who_booked_deactivated_or_without_access_are_not_emailed(school, evening):
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    User.objects.filter(pk=school.deb.pk).update(is_active=False)
    addon = get_addon_settings()
    addon.generation_mode = "primary"  # Don is Dan's second contact: no access now
    addon.save()

    chase(school, evening)

    assert sorted(emails()) == ["ann@example.org"]


def test_each_parent_is_emailed_in_their_own_language(school, evening):
    User.objects.filter(pk=school.bea.pk).update(language="cy")
    chase(school, evening)
    sent = emails()
    assert "Mawrth" in sent["bea@example.org"].body_text  # Welsh month
    assert "March" not in sent["bea@example.org"].body_text
    assert "March" in sent["ann@example.org"].body_text


def test_before_booking_opens_the_email_says_when_it_does(school, evening):
    chase(school, evening, now=london(2026, 2, 10, 9, 0))
    assert (
        "Booking opens on Friday 20 February 2026, 09:00" in emails()["bea@example.org"].body_text
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"status": Evening.Status.DRAFT}, "Publish the evening first"),
        ({"status": Evening.Status.CLOSED}, "Publish the evening first"),
    ],
)
def test_only_a_published_evening_can_be_chased(school, evening, change, message):
    setup.set_status(evening=evening, actor=school.organiser, now=NOW, **change)
    with pytest.raises(chaseup.CannotChase, match=message):
        chase(school, evening)
    assert not OutboxMessage.objects.filter(template=chaseup.TEMPLATE).exists()
    assert not ChaseUp.objects.exists()


def test_after_booking_closes_nobody_is_chased(school, evening):
    with pytest.raises(chaseup.CannotChase, match="Booking has closed"):
        chase(school, evening, now=london(2026, 3, 10, 12, 0))
    assert not ChaseUp.objects.exists()


def test_someone_who_is_not_an_organiser_cannot_chase(school, evening):
    with pytest.raises(NotAllowed):
        chaseup.send_chase_ups(evening=evening, actor=school.teacher_user, now=NOW)
    assert not OutboxMessage.objects.exists()


# --- the button -----------------------------------------------------------------------


@pytest.fixture
def open_evening(school):
    """An evening whose booking window is open now, in real time."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=20)
    return make_evening(
        school,
        days=[(london(day.year, day.month, day.day, 16), london(day.year, day.month, day.day, 19))],
        booking_opens=now - timedelta(days=1),
        booking_closes=now + timedelta(days=10),
        now=now,
    )


def test_the_button_sends_and_the_page_says_how_many(client, school, open_evening):
    client.force_login(school.organiser)
    address = reverse("evenings_staff:chase", args=[open_evening.pk])

    first = client.post(address, follow=True)
    second = client.post(address, follow=True)

    assert first.redirect_chain[-1][0] == reverse("evenings_staff:takeup", args=[open_evening.pk])
    assert "4 chase-up emails sent." in first.content.decode()
    page = second.content.decode()
    assert "0 chase-up emails sent." in page
    assert "4 parents had already been chased today and were not emailed again." in page
    assert OutboxMessage.objects.filter(template=chaseup.TEMPLATE).count() == 4


def test_the_button_on_a_closed_evening_says_why_and_sends_nothing(client, school, evening):
    client.force_login(school.organiser)
    response = client.post(reverse("evenings_staff:chase", args=[evening.pk]), follow=True)
    assert "Booking has closed" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_the_button_is_post_only_and_for_organisers(client, school, open_evening):
    address = reverse("evenings_staff:chase", args=[open_evening.pk])
    client.force_login(school.organiser)
    assert client.get(address).status_code == 405
    assert (
        client.post(reverse("evenings_staff:chase", args=[open_evening.pk + 99])).status_code == 404
    )
    client.force_login(school.teacher_user)
    assert client.post(address).status_code == 403
    assert not OutboxMessage.objects.exists()


# --- two organisers clicking at once (PostgreSQL) ------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a race needs concurrent writers; SQLite runs one writer at a time",
)
def test_two_clicks_at_once_email_each_parent_once():
    school = make_school(extra_families=12)
    evening = make_evening(school)
    start = threading.Barrier(3)
    results = [None] * 3

    def click(index):
        try:
            start.wait()
            results[index] = chaseup.send_chase_ups(
                evening=evening, actor=school.organiser, now=NOW
            )
        except Exception as error:  # reported below, not lost in the thread
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not [r for r in results if isinstance(r, Exception)], results
    parents = 4 + 12
    assert sum(len(r.sent) for r in results) == parents
    assert all(len(r.sent) + len(r.already) == parents for r in results)
    sent = list(
        OutboxMessage.objects.filter(template=chaseup.TEMPLATE).values_list("to", flat=True)
    )
    assert len(sent) == len(set(sent)) == parents
    assert ChaseUp.objects.count() == parents
