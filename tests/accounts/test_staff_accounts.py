"""Staff accounts from the MIS mirror: one per current member of staff with a valid
email, in the Teachers role (or the chosen one), invited; one account per person."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from school import resync

from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.roles import ADMINISTRATORS, ORGANISERS, TEACHERS
from schoolgate.accounts.users import create_role, create_staff_accounts
from schoolgate.mis.snapshot import StaffRow
from schoolgate.outbox.models import OutboxMessage

PAGE = reverse("accounts:staff-accounts")


@pytest.fixture
def more_staff(school):
    """Add staff without a usable email, and one who has left, through a real sync."""
    snapshot = school.snapshot
    for row in (
        StaffRow("S-NOE", "Nell", "Nomail", "Ms", "", "Teacher"),
        StaffRow("S-BAD", "Bob", "Bad", "Mr", "bob@", "Teacher"),
        StaffRow("S-PAR", "Ann", "Ash", "Mrs", "Ann.Ash@example.org", "TA"),
    ):
        snapshot.staff[row.mis_id] = row
    resync(snapshot)
    return school


def test_creates_an_invited_teacher_account_for_each_member_of_staff(school):
    # tom.teach already has an account (school.teacher) without the Teachers role.
    result = create_staff_accounts(actor=school.admin)

    assert result.as_dict() == {
        "created": 2,
        "role_added": 1,
        "already": 0,
        "no_email": 0,
        "invited": 2,
    }
    teachers = Group.objects.get(name=TEACHERS)
    for email in (
        "ria.reed@school.example",
        "sam.scott@school.example",
        "tom.teach@school.example",
    ):
        user = User.objects.get(email=email)
        assert user.is_staff and teachers in user.groups.all()
    ria = User.objects.get(email="ria.reed@school.example")
    assert (ria.first_name, ria.last_name) == ("Ria", "Reed")
    assert not ria.has_usable_password()
    assert ria.invited_at is not None
    invited = set(OutboxMessage.objects.values_list("to", flat=True))
    assert invited == {"ria.reed@school.example", "sam.scott@school.example"}
    message = OutboxMessage.objects.get(to="ria.reed@school.example")
    assert "staff account" in message.subject
    assert "staff account" in message.body_text
    assert "see your children" not in message.body_text
    assert AuditEntry.objects.filter(action="staff_account.created").count() == 2


def test_running_it_again_creates_nothing(school):
    create_staff_accounts(actor=school.admin)
    users, emails = User.objects.count(), OutboxMessage.objects.count()

    again = create_staff_accounts(actor=school.admin)

    assert (again.created, again.role_added, again.already) == (0, 0, 3)
    assert User.objects.count() == users
    assert OutboxMessage.objects.count() == emails


def test_a_parent_who_is_also_staff_keeps_one_account(more_staff, parent_for):
    ann = parent_for(more_staff.contacts["ann"])

    result = create_staff_accounts(actor=more_staff.admin)

    assert User.objects.filter(email="ann.ash@example.org").count() == 1
    ann.refresh_from_db()
    assert ann.is_staff
    assert ann.groups.filter(name=TEACHERS).exists()
    assert result.role_added == 2  # Ann and Tom
    assert not OutboxMessage.objects.filter(to=ann.email).exists()
    assert AuditEntry.objects.filter(action="staff_account.role_added", subject=ann.email).exists()


def test_staff_without_a_valid_email_are_counted_and_left_out(more_staff):
    result = create_staff_accounts(actor=more_staff.admin)

    assert result.no_email == 2
    assert not User.objects.filter(last_name__in=["Nomail", "Bad"]).exists()


def test_staff_who_have_left_get_no_account(school):
    snapshot = school.snapshot
    del snapshot.staff["S-SAM"]
    resync(snapshot)

    create_staff_accounts(actor=school.admin)

    assert not User.objects.filter(email="sam.scott@school.example").exists()


def test_another_staff_role_can_be_chosen_but_not_a_parent_role(school):
    organisers = Group.objects.get(name=ORGANISERS)
    parents = create_role(title="MIS Parent")

    create_staff_accounts(actor=school.admin, role=organisers)

    assert User.objects.get(email="ria.reed@school.example").groups.get() == organisers
    with pytest.raises(ValidationError):
        create_staff_accounts(actor=school.admin, role=parents)
    assert not parents.user_set.exists()


def test_page_shows_what_would_happen_then_does_it(client, school):
    admin = User.objects.create_user("office@school.example", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(admin)

    page = client.get(PAGE).content.decode()
    assert page.count("<h1") == 1
    assert "2 new staff accounts will be created and invited" in page
    assert "1 existing account will be given the role" in page
    assert not User.objects.filter(email="ria.reed@school.example").exists()

    response = client.post(PAGE, {"role": Group.objects.get(name=TEACHERS).pk}, follow=True)

    assert "2 staff accounts created and invited" in response.content.decode()
    assert User.objects.filter(email="ria.reed@school.example", is_staff=True).exists()


def test_page_refuses_an_unknown_role_and_changes_nothing(client, school):
    client.force_login(school.admin)
    users = User.objects.count()

    response = client.post(PAGE, {"role": "999999"})

    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert User.objects.count() == users
