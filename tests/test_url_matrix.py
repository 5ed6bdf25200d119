"""Every URL the resolver knows, requested as each kind of person (docs/permissions.md).

The URL list comes from the resolver, not a hand list, so a new page is in this test the day
it is added; a view that declares nothing fails it. The expected answer comes from the
declaration and the built-in roles' capabilities; the request shows what the site does.
Being allowed means the page's own code ran (any answer but 403 or a trip to sign-in);
being refused means 403, or the sign-in page for someone not signed in."""

import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode

from schoolgate.accounts.roles import ADMINISTRATORS, ORGANISERS, TEACHERS
from schoolgate.core.access import BOOK_FOR_PARENTS, CAPABILITIES, READ_OUTBOX
from schoolgate.evenings import booking
from schoolgate.mis.models import SyncRun
from schoolgate.ops.permissions_doc import DOC_PATH, Route, render, routes
from schoolgate.outbox.models import OutboxMessage

sys.path.insert(0, str(Path(__file__).parent / "evenings"))
from evenings_school import NOW, make_evening, make_school, slot

SIGN_IN = "/accounts/sign-in/"
MISSING = 999_999
PERSONAS = (
    "anonymous",
    "parent",
    TEACHERS,
    ORGANISERS,
    ADMINISTRATORS,
    f"custom:{READ_OUTBOX}",
    f"custom:{BOOK_FOR_PARENTS}",
)


def test_every_url_declares_who_may_open_it():
    undeclared = [f"{r.path} ({r.name})" for r in routes() if r.rule is None]
    assert undeclared == []
    # The declarations name real capabilities only (a typo would deny everyone silently).
    for route in routes():
        assert all(c in CAPABILITIES for c in route.rule.capabilities), route.path


def test_permissions_doc_is_current():
    assert DOC_PATH.read_text() == render(), "run `schoolgate permissions-doc`"


def _persona_user(kind: str, school):
    from schoolgate.accounts.models import User

    if kind == "anonymous":
        return None
    if kind == "parent":
        return school.ann
    user = User.objects.create_user(f"{kind.replace(':', '.')}@staff.example", is_staff=True)
    if kind.startswith("custom:"):
        app_label, codename = kind.removeprefix("custom:").split(".")
        role = Group.objects.create(name=f"Only {codename}")
        role.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
        user.groups.add(role)
    else:
        user.groups.add(Group.objects.get(name=kind))
    return User.objects.get(pk=user.pk)


def _capabilities(user) -> set[str]:
    if user is None:
        return set()
    return {c for c in CAPABILITIES if user.is_staff and user.has_perm(c)}


def _expected_allowed(route: Route, kind: str, capabilities: set[str]) -> bool:
    rule = route.rule
    if rule.kind == "public":
        return True
    if kind == "anonymous":
        return False
    if rule.kind == "signed_in":
        return True
    if rule.kind == "parent":
        return kind == "parent"
    return bool(capabilities & set(rule.capabilities))


def _url(route: Route, ids: dict) -> str:
    """The route with real ids where the school has them (so allowed people reach the view's
    own code), and an id that exists nowhere otherwise."""
    path = route.path
    while "<" in path:
        start = path.index("<")
        end = path.index(">", start)
        converter, _, name = path[start + 1 : end].rpartition(":")
        path = path[:start] + str(ids.get(name, MISSING)) + path[end + 1 :]
    return path


@pytest.mark.parametrize("kind", PERSONAS)
def test_each_url_answers_each_person_as_declared(kind, client):
    school = make_school()
    evening = make_evening(school)
    found = slot(evening, school, "S-MIA", 16, 0)
    [appointment] = booking.book_slots(
        parent=school.ann, evening=evening, choices=[(school.amy, found.teacher, found)], now=NOW
    ).appointments
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.COMMAND, status="succeeded")
    message = OutboxMessage.objects.create(to="ann@example.org", subject="Hello")
    ids = {
        "evening_id": evening.pk,
        "pupil_id": school.amy.pk,
        "appointment_id": appointment.pk,
        "teacher_id": appointment.teacher_id,
        "user_id": school.bea.pk,
        "role_id": Group.objects.get(name=TEACHERS).pk,
        "run_id": run.pk,
        "message_id": message.pk,
        "slug": "pr-no-email",
        "name": "pupils-contacts.csv",
        "token": "not-a-token",
        "uidb64": urlsafe_base64_encode(b"999999"),
    }
    user = _persona_user(kind, school)
    capabilities = _capabilities(user)
    wrong = []
    checked = allowed_count = 0
    for route in routes():
        url = _url(route, ids)
        if user is not None:
            client.force_login(user)  # afresh: a page before may have signed them out
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        # A refusal sends to sign-in with the page to come back to; signing out, without.
        refused = response.status_code == 403 or (
            response.status_code == 302 and response["Location"].startswith(SIGN_IN + "?next=")
        )
        expected = _expected_allowed(route, kind, capabilities)
        if refused == expected:
            wrong.append(f"{url} -> {response.status_code}, expected allowed={expected}")
        checked += 1
        allowed_count += expected
    assert wrong == []
    # The walk reached the whole site, and this person was both let in and kept out somewhere.
    assert checked == len(routes()) > 100
    assert 0 < allowed_count < checked


def test_teacher_cannot_sync_or_read_contacts(client):
    """The attack found in review: a member of Teachers uploads a CTF adding themselves as a
    parent with PR. Refused, and nothing reaches the mirror."""
    from schoolgate.mis.models import Contact, PupilContact

    school = make_school()
    teacher = _persona_user(TEACHERS, school)
    client.force_login(teacher)
    before = (Contact.objects.count(), PupilContact.objects.count(), SyncRun.objects.count())
    ctf = b"<CTfile><Header/><CTFpupilData/></CTfile>"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("mis:sync"), {"files": SimpleUploadedFile("attack.xml", ctf, "text/xml")}
    )
    assert response.status_code == 403
    assert client.get(reverse("mis:dashboard")).status_code == 403
    assert client.get(reverse("mis:dashboard-list", args=["accounts-all"])).status_code == 403
    after = (Contact.objects.count(), PupilContact.objects.count(), SyncRun.objects.count())
    assert before == after and before[0] > 0
    # The teacher lands on their own schedules, not the Data Dashboard.
    assert client.get(reverse("home"))["Location"] == reverse("teacher:evenings")
