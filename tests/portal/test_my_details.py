"""My details: what the school holds about me, telling it a correction, and the links
to my password, my calendar feed and signing out everywhere."""

import re

from django.test import Client
from django.urls import reverse
from school import change_contact, resync

from schoolgate.accounts.models import AuditEntry
from schoolgate.mis.models import Contact
from schoolgate.portal.models import CorrectionRequest

URL = "/parents/my-details/"


def summary(html: str) -> dict[str, str]:
    """The summary list as {key: value}, tags and spacing dropped."""
    block = re.search(r'<dl class="govuk-summary-list" id="details">(.*?)</dl>', html, re.S)
    rows = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block.group(1), re.S)
    clean = lambda s: " ".join(re.sub(r"<[^>]+>", " ", s).split())  # noqa: E731
    return {clean(k): clean(v) for k, v in rows}


def test_the_url_is_under_parents():
    assert reverse("portal:my-details") == URL


def test_my_details_show_what_the_school_holds_and_each_relationship(client, school, parents):
    change_contact(school.snapshot, "ann", phones=(("M", "07700 900123"), ("H", "01632 960001")))
    resync(school.snapshot)
    client.force_login(parents["ann"])

    response = client.get(URL)

    assert response.status_code == 200
    rows = summary(response.text)
    assert rows["Title"] == "Mrs"
    assert rows["First name"] == "Ann"
    assert rows["Last name"] == "Ash"
    assert rows["Email address"] == "ann.ash@example.org"
    assert rows["Phone numbers"] == "Mobile: 07700 900123 Home: 01632 960001"
    assert rows["Address"] == "Not shared with this service"
    assert rows["Relationship to Amy Ash"] == "Mother"
    assert rows["Relationship to Ben Ash"] == "Mother"


def test_a_father_sees_his_own_details_not_the_mothers(client, school, parents):
    client.force_login(parents["al"])

    rows = summary(client.get(URL).text)

    assert rows["First name"] == "Al" and rows["Email address"] == "al.ash@example.org"
    assert rows["Relationship to Amy Ash"] == "Father"
    assert "ann.ash" not in client.get(URL).text


def test_only_children_i_may_see_are_listed(client, school, parents):
    # Gran is linked to Gus but has no parental responsibility: Gina sees only her link.
    client.force_login(parents["gina"])

    rows = summary(client.get(URL).text)

    assert [k for k in rows if k.startswith("Relationship")] == ["Relationship to Gus Gray"]


def test_the_page_links_to_password_calendar_and_signing_out_everywhere(client, parents):
    client.force_login(parents["ann"])

    html = client.get(URL).text

    assert f'href="{reverse("accounts:change-password")}"' in html
    assert 'href="/calendar/' in html
    action = reverse("accounts:sign-out-everywhere")
    form = re.search(rf'<form method="post" action="{action}"[^>]*>(.*?)</form>', html, re.S)
    assert "csrfmiddlewaretoken" in form.group(1) and "Sign out everywhere" in form.group(1)


def test_signing_out_everywhere_ends_my_sessions_on_every_device(parents):
    ann, al = parents["ann"], parents["al"]
    laptop, phone, other = Client(), Client(), Client()
    laptop.force_login(ann)
    phone.force_login(ann)
    other.force_login(al)
    assert phone.get(URL).status_code == 200

    response = laptop.post(reverse("accounts:sign-out-everywhere"))

    assert response.status_code == 302
    for device in (laptop, phone):
        answer = device.get(URL)
        assert answer.status_code == 302 and answer.url.startswith(reverse("accounts:sign-in"))
    assert other.get(URL).status_code == 200  # another person's session is untouched


def test_signing_out_everywhere_takes_a_post_only(client, parents):
    client.force_login(parents["ann"])

    assert client.get(reverse("accounts:sign-out-everywhere")).status_code == 405
    assert client.get(URL).status_code == 200


def test_a_correction_is_stored_for_the_school_and_the_mirror_is_unchanged(client, school, parents):
    client.force_login(parents["ann"])
    before = list(Contact.objects.values().order_by("pk"))

    response = client.post(URL, {"field": "phone", "details": "  New mobile: 07700 900999 "})

    assert response.status_code == 302 and response.url == URL
    correction = CorrectionRequest.objects.get()
    assert correction.requested_by == parents["ann"]
    assert correction.contact == school.contacts["ann"]
    assert correction.contact_name == "Mrs Ann Ash"
    assert correction.field == "phone"
    assert correction.details == "New mobile: 07700 900999"
    assert correction.status == "open" and correction.done_at is None
    assert list(Contact.objects.values().order_by("pk")) == before
    assert AuditEntry.objects.filter(action="portal.correction_requested").count() == 1
    page = client.get(URL).text
    assert "the school office has your correction" in page
    assert "New mobile: 07700 900999" in page and "Waiting for the school" in page


def test_a_correction_without_a_field_or_text_says_what_is_missing(client, parents):
    client.force_login(parents["ann"])

    response = client.post(URL, {"field": "", "details": "   "})

    assert response.status_code == 400
    html = response.text
    assert "<title>Error: My details" in html
    assert "Choose what needs correcting" in html and "Enter the correction" in html
    assert 'href="#id_field_0"' in html and 'href="#id_details"' in html
    assert not CorrectionRequest.objects.exists()


def test_a_made_up_field_is_refused(client, parents):
    client.force_login(parents["ann"])

    response = client.post(URL, {"field": "is_staff", "details": "make me staff"})

    assert response.status_code == 400
    assert not CorrectionRequest.objects.exists()


def test_a_too_long_correction_is_refused(client, parents):
    client.force_login(parents["ann"])

    response = client.post(URL, {"field": "other", "details": "x" * 2001})

    assert response.status_code == 400
    assert "2,000 characters or fewer" in response.text


def test_i_see_my_own_corrections_only(client, parents):
    for key, text in (("ann", "Ann's new number"), ("al", "Al's new number")):
        client.force_login(parents[key])
        client.post(URL, {"field": "phone", "details": text})

    client.force_login(parents["ann"])
    html = client.get(URL).text

    assert "Ann&#x27;s new number" in html
    assert "Al&#x27;s new number" not in html


def test_someone_with_no_child_cannot_use_my_details(client, school, parents):
    client.force_login(school.teacher)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"field": "phone", "details": "x"}).status_code == 403
    assert not CorrectionRequest.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and response.url.startswith(reverse("accounts:sign-in"))
