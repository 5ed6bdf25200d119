"""Dates and times in the school's time zone and the reader's language."""

from datetime import UTC, datetime

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import User


@pytest.fixture
def ann(school, parent_role):
    generate_accounts(mode="all")
    return User.objects.get(email=school.contacts["ann"].email_key)


def test_a_date_on_the_parent_portal_has_a_welsh_month(client, school, ann):
    ann.language = "cy"
    ann.save()
    client.force_login(ann)

    response = client.get(reverse("portal:pupil", args=[school.pupils["ben"].pk]))

    assert "9 Mawrth 2012" in response.text  # date of birth
    assert "Dyddiad geni" in response.text
    assert "March" not in response.text


def test_the_same_date_in_english(client, school, ann):
    client.force_login(ann)

    response = client.get(
        reverse("portal:pupil", args=[school.pupils["ben"].pk]), HTTP_ACCEPT_LANGUAGE="en-GB"
    )

    assert "9 March 2012" in response.text


def test_times_are_shown_in_the_schools_time_zone_in_the_readers_language():
    template = engines["django"].from_string(
        '{{ at|date:"DATETIME_FORMAT" }} | {{ winter|date:"l j F Y, H:i" }}'
    )
    summer = datetime(2026, 7, 1, 17, 30, tzinfo=UTC)  # 18:30 in London (BST)
    winter = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 17:30 in London (GMT)

    with translation.override("cy"):
        welsh = template.render({"at": summer, "winter": winter})
    with translation.override("en-gb"):
        english = template.render({"at": summer, "winter": winter})

    assert welsh == "1 Gorffennaf 2026, 6:30 y.h. | Dydd Mawrth 1 Rhagfyr 2026, 17:30"
    assert english == "1 Jul 2026, 6:30 p.m. | Tuesday 1 December 2026, 17:30"
