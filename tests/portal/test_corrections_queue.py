"""The office's queue of parents' corrections: who may see it, marking one done."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.roles import ADMINISTRATORS, ensure_builtin_roles
from schoolgate.portal.models import CorrectionRequest
from schoolgate.portal.services import request_correction

QUEUE = "/staff/corrections/"


def reviewer(**fields) -> User:
    user = User.objects.create_user("office@school.example", "x", is_staff=True, **fields)
    user.user_permissions.add(Permission.objects.get(codename="review_corrections"))
    return User.objects.get(pk=user.pk)


def test_the_queue_is_under_staff():
    assert reverse("corrections:queue") == QUEUE


def test_administrators_get_the_permission_with_every_other(school):
    ensure_builtin_roles()

    admins = Group.objects.get(name=ADMINISTRATORS)

    assert admins.permissions.filter(
        content_type__app_label="portal", codename="review_corrections"
    ).exists()


def test_the_queue_lists_waiting_corrections_oldest_first(client, school, parents):
    request_correction(user=parents["ann"], field="phone", details="Mobile is 07700 900999")
    request_correction(user=parents["cara"], field="name", details="It is Cara-Jane")
    client.force_login(reviewer())

    response = client.get(QUEUE)

    assert response.status_code == 200
    html = response.text
    assert html.index("Mrs Ann Ash: Phone numbers") < html.index("Ms Cara Cole: Name")
    assert "Mobile is 07700 900999" in html and "ann.ash@example.org" in html
    assert "C-ANN" in html  # the MIS contact id, to find the record in the MIS
    assert "Amy Ash, Ben Ash" in html
    assert "Waiting (2)" in html and "Done (0)" in html


def test_marking_done_records_who_and_when_and_leaves_the_queue(client, school, parents):
    correction = request_correction(user=parents["ann"], field="phone", details="07700 900999")
    office = reviewer()
    client.force_login(office)

    response = client.post(reverse("corrections:done", args=[correction.pk]))

    assert response.status_code == 302 and response.url == QUEUE
    correction.refresh_from_db()
    assert correction.status == "done" and correction.done_by == office
    assert correction.done_at is not None
    assert AuditEntry.objects.filter(action="portal.correction_done").count() == 1
    page = client.get(QUEUE).text
    assert "is marked done" in page and "No corrections are waiting." in page
    assert "07700 900999" in client.get(QUEUE, {"status": "done"}).text


def test_marking_done_twice_changes_nothing_the_second_time(client, school, parents):
    correction = request_correction(user=parents["ann"], field="phone", details="07700 900999")
    client.force_login(reviewer())
    client.post(reverse("corrections:done", args=[correction.pk]))
    first = CorrectionRequest.objects.values().get()

    response = client.post(reverse("corrections:done", args=[correction.pk]), follow=True)

    assert "already marked done" in response.text
    assert CorrectionRequest.objects.values().get() == first
    assert AuditEntry.objects.filter(action="portal.correction_done").count() == 1


def test_marking_done_takes_a_post_only(client, school, parents):
    correction = request_correction(user=parents["ann"], field="phone", details="x")
    client.force_login(reviewer())

    assert client.get(reverse("corrections:done", args=[correction.pk])).status_code == 405
    assert CorrectionRequest.objects.get().status == "open"


def test_an_unknown_correction_is_not_found(client, school):
    client.force_login(reviewer())

    assert client.post(reverse("corrections:done", args=[999999])).status_code == 404


def test_staff_without_the_permission_are_refused(client, school, parents):
    correction = request_correction(user=parents["ann"], field="phone", details="x")
    client.force_login(school.teacher)

    assert client.get(QUEUE).status_code == 403
    assert client.post(reverse("corrections:done", args=[correction.pk])).status_code == 403
    assert CorrectionRequest.objects.get().status == "open"


def test_a_parent_cannot_reach_the_queue_or_mark_done(client, school, parents):
    correction = request_correction(user=parents["ann"], field="phone", details="x")
    client.force_login(parents["ann"])

    assert client.get(QUEUE).status_code == 403
    assert client.post(reverse("corrections:done", args=[correction.pk])).status_code == 403
    assert CorrectionRequest.objects.get().status == "open"


def test_signed_out_visitors_are_sent_to_sign_in(client, school):
    response = client.get(QUEUE)

    assert response.status_code == 302 and response.url.startswith(reverse("accounts:sign-in"))


def test_staff_navigation_shows_corrections_to_reviewers_only(client, school):
    client.force_login(reviewer())
    assert f'href="{QUEUE}"' in client.get(QUEUE).text

    client.force_login(school.teacher)
    assert f'href="{QUEUE}"' not in client.get(reverse("mis:dashboard")).text


def test_a_bad_status_filter_shows_the_waiting_ones(client, school, parents):
    request_correction(user=parents["ann"], field="phone", details="07700 900999")
    client.force_login(reviewer())

    assert "07700 900999" in client.get(QUEUE, {"status": "nonsense"}).text
