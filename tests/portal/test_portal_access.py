"""Who sees what: parents with children in several year groups, several parents of one
child, and every id of another family's pupil refused on every portal page."""

import re

from django.urls import reverse
from portal_school import book, make_evening
from school import change_link, resync


def names_on_home(client) -> list[str]:
    html = client.get(reverse("portal:home")).text
    return re.findall(r'<h2 class="govuk-heading-m" id="child-\d+"><a[^>]*>(.*?)</a></h2>', html)


def test_a_parent_with_children_in_two_years_sees_both_and_only_them(client, school, parents):
    make_evening(school, name="Year 7 evening", year_groups=[7])
    make_evening(school, name="Year 9 evening", year_groups=[9])
    client.force_login(parents["ann"])

    html = client.get(reverse("portal:home")).text

    assert names_on_home(client) == ["Amy Ash", "Ben Ash"]
    amy, ben = (
        re.search(rf'id="child-{school.pupils[k].pk}">(.*?)</section>', html, re.S)[1]
        for k in ("amy", "ben")
    )
    assert "Year 7 evening" in amy and "Year 9 evening" not in amy
    assert "Year 9 evening" in ben and "Year 7 evening" not in ben
    for other in ("Eve East", "Gus Gray"):  # same years, other families
        assert other not in html


def test_every_parent_with_access_sees_the_child_and_nobody_else_does(client, school, parents):
    evening = make_evening(school, year_groups=[8])
    book(school, evening, parents["cara"], ("cal", "ria", 16, 30))
    cal = reverse("portal:pupil", args=[school.pupils["cal"].pk])
    for key in ("cara", "colin"):
        client.force_login(parents[key])
        assert names_on_home(client) == ["Cal Cole"], key
        assert "Dr R Reed" in client.get(cal).text, key
    for key in ("ann", "al", "don", "gina", "helen"):
        client.force_login(parents[key])
        assert client.get(cal).status_code == 404, key
        assert "Cal Cole" not in client.get(reverse("portal:home")).text, key


def test_no_portal_page_shows_another_familys_pupil(client, school, parents):
    client.force_login(parents["ann"])
    mine = {school.pupils["amy"].pk, school.pupils["ben"].pk}

    for key, pupil in school.pupils.items():
        status = client.get(reverse("portal:pupil", args=[pupil.pk])).status_code
        assert status == (200 if pupil.pk in mine else 404), key
    for text in ("Cal Cole", "Dan Dent", "Eve East", "Fay Fox", "Gus Gray", "Hal Hunt"):
        for url in (reverse("portal:home"), reverse("portal:my-details")):
            assert text not in client.get(url).text, (text, url)


def test_ids_that_are_not_pupils_are_not_found(client, parents):
    client.force_login(parents["ann"])

    for bad in ("0", "-1", "99999999999999999999999", "1.5", "abc"):
        assert client.get(f"/parents/children/{bad}/").status_code == 404, bad


def test_losing_parental_responsibility_hides_the_child_at_once(client, school, parents):
    client.force_login(parents["al"])
    amy = reverse("portal:pupil", args=[school.pupils["amy"].pk])
    assert client.get(amy).status_code == 200

    change_link(school.snapshot, "amy", "al", parental_responsibility=False)
    resync(school.snapshot)

    assert client.get(amy).status_code == 404
    assert names_on_home(client) == ["Ben Ash"]
    assert "Relationship to Amy Ash" not in client.get(reverse("portal:my-details")).text


def test_a_court_order_parent_sees_nothing(client, school, parents):
    from schoolgate.accounts.models import User

    gary = User.objects.create_user("gary.gray@example.org", "x")
    client.force_login(gary)

    for url in (
        reverse("portal:home"),
        reverse("portal:my-details"),
        reverse("portal:pupil", args=[school.pupils["gus"].pk]),
    ):
        assert client.get(url).status_code == 403, url
