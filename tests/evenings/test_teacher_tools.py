"""A teacher's own tools at an evening (evenings.teacher_tools): their own breaks,
private notes and attendance marks, with the pages that call them. Also the two
evening settings these rely on, set on the organiser's settings form."""

import pytest
from django.test import Client
from django.urls import reverse
from evenings_school import make_evening

from schoolgate.evenings.models import Evening


@pytest.fixture
def organiser(school):
    client = Client()
    client.force_login(school.organiser)
    return client


def test_the_settings_form_sets_teachers_own_breaks_and_the_waiting_offer(organiser, school):
    from test_staff_pages import settings_data

    evening = make_evening(school)
    response = organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="on", waiting_offer_hours="6"),
    )
    assert response.status_code == 302
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is True and evening.waiting_offer_hours == 6
    page = organiser.get(reverse("evenings_staff:evening", args=[evening.pk])).content.decode()
    assert "Teachers may set their own breaks until booking opens" in page
    assert "for 6 hours" in page

    response = organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="", waiting_offer_hours="0"),
    )
    assert response.status_code == 200
    assert "waiting_offer_hours" in response.context["form"].errors
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is True and evening.waiting_offer_hours == 6

    organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="", waiting_offer_hours=""),
    )
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is False and evening.waiting_offer_hours == 24
    assert Evening.objects.count() == 1
