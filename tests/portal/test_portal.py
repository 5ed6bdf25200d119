"""The parent portal: each parent sees their own children, and nothing else."""

import re

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from schoolgate.accounts.models import User


def test_home_lists_each_child_with_year_group_and_tutor(client, school, parents):
    client.force_login(parents["ann"])

    response = client.get(reverse("portal:home"))

    assert response.status_code == 200
    html = response.text
    assert html.count("<h1") == 1
    sections = re.findall(r'<section class="sg-child"(.*?)</section>', html, re.S)
    assert len(sections) == 2
    amy, ben = sections
    assert "Amy Ash" in amy and "Year 7, 7A" in amy and "Mr T Teach" in amy
    assert "Ben Ash" in ben and "Year 9, 9B" in ben and "Ms S Scott" in ben
    assert reverse("portal:pupil", args=[school.pupils["amy"].pk]) in amy


def test_the_pupil_page_shows_what_the_school_holds(client, school, parents):
    client.force_login(parents["ann"])

    response = client.get(reverse("portal:pupil", args=[school.pupils["ben"].pk]))

    assert response.status_code == 200
    html = response.text
    assert '<h1 class="govuk-heading-l">Ben Ash</h1>' in html
    assert "Benjamin Ash" in html  # legal name
    assert "9 March 2012" in html
    assert "Year 9" in html and "9B" in html
    science = re.search(r"Science</th>(.*?)</tr>", html, re.S).group(1)
    assert "9 Science" in science and "Mr T Teach" in science and "Dr R Reed" in science


def test_another_familys_child_is_not_found(client, school, parents):
    client.force_login(parents["ann"])

    for pupil in ("cal", "dan", "eve", "fay", "gus", "hal"):
        url = reverse("portal:pupil", args=[school.pupils[pupil].pk])
        assert client.get(url).status_code == 404, pupil


def test_an_id_that_does_not_exist_is_not_found(client, parents):
    client.force_login(parents["ann"])

    assert client.get(reverse("portal:pupil", args=[999999])).status_code == 404


def test_a_separated_family_each_parent_sees_the_child(client, school, parents):
    for key in ("cara", "colin"):
        client.force_login(parents[key])
        url = reverse("portal:pupil", args=[school.pupils["cal"].pk])
        assert client.get(url).status_code == 200, key


def test_a_step_parent_without_pr_sees_nothing(client, school, parents):
    step_parent = User.objects.create_user("steve.stone@example.org", "x")
    client.force_login(step_parent)

    assert client.get(reverse("portal:home")).status_code == 403
    assert client.get(reverse("portal:pupil", args=[school.pupils["cal"].pk])).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, school):
    response = client.get(reverse("portal:pupil", args=[school.pupils["amy"].pk]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))


def test_home_sends_a_parent_to_the_portal(client, parents):
    client.force_login(parents["ann"])

    assert client.get(reverse("home")).url == reverse("portal:home")


def staff_urls() -> list[str]:
    """Every page under /staff/, with made-up values for its parameters."""
    samples = {"int": "1", "slug": "accounts-all", "str": "x", "path": "x", "uuid": ""}

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(
                    r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "str", "x"), route
                )

    return [url for url in walk(get_resolver().url_patterns, "") if url.startswith("/staff/")]


def test_a_parent_cannot_reach_any_staff_page(client, parents):
    client.force_login(parents["ann"])
    urls = staff_urls()

    assert len(urls) >= 5
    for url in urls:
        # 405 where a page takes only one method: refused before anything is read.
        answers = {client.get(url).status_code, client.post(url, {}).status_code}
        assert answers <= {403, 405} and 403 in answers, (url, answers)
