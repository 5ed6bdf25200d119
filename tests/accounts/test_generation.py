"""Generating parent accounts from the mirror: counts, idempotence, transactions."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from school import (
    ALL_COUNTS,
    ALL_PARENTS,
    CONTACTS,
    PRIMARY_COUNTS,
    PRIMARY_PARENTS,
    change_contact,
    change_link,
    resync,
)

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.accounts.generation import NoParentGroup, generate_accounts, preview_generation
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.mis.models import Contact, PupilContact
from schoolgate.mis.snapshot import ContactRow, LinkRow, PupilRow
from schoolgate.outbox.models import OutboxMessage


def emails_of(keys):
    return {Contact.objects.get(mis_id=CONTACTS[key].mis_id).email_key for key in keys}


def parent_emails():
    return set(User.objects.filter(is_staff=False).values_list("email", flat=True))


def test_all_contacts_creates_one_account_per_qualifying_person(school, parent_role):
    result = generate_accounts(mode="all")

    assert result.as_dict() == ALL_COUNTS
    assert parent_emails() == emails_of(ALL_PARENTS)
    assert set(OutboxMessage.objects.values_list("to", flat=True)) == emails_of(ALL_PARENTS)


def test_primary_contacts_only_creates_accounts_for_priority_1_contacts(school, parent_role):
    result = generate_accounts(mode="primary")

    assert result.as_dict() == PRIMARY_COUNTS
    assert parent_emails() == emails_of(PRIMARY_PARENTS)


def test_new_accounts_are_in_the_parent_role_with_no_usable_password(school, parent_role):
    generate_accounts(mode="all")

    for user in User.objects.filter(is_staff=False):
        assert list(user.groups.all()) == [parent_role]
        assert not user.has_usable_password()
        assert user.invited_at is not None
        assert user.last_login is None
    ann = User.objects.get(email="ann.ash@example.org")
    assert (ann.first_name, ann.last_name) == ("Ann", "Ash")


def test_siblings_share_one_account_per_parent(school, parent_role):
    generate_accounts(mode="all")

    ann = User.objects.get(email="ann.ash@example.org")
    assert set(pupils_visible_to(ann)) == {school.pupils["amy"], school.pupils["ben"]}
    assert OutboxMessage.objects.filter(to="ann.ash@example.org").count() == 1


def test_an_email_in_mixed_case_finds_the_same_person(school, parent_role):
    generate_accounts(mode="all")

    assert User.objects.filter(email="colin.cole@example.org").exists()
    assert not User.objects.filter(email="Colin.Cole@Example.ORG").exists()


def test_every_contact_of_a_pupil_on_roll_is_counted_once(school, parent_role):
    on_roll = Contact.objects.filter(pupil_links__pupil__on_roll=True).distinct().count()
    for mode, result in preview_generation().items():
        counted = result.created + result.existing + result.same_account + result.skipped_total
        assert counted == on_roll, mode


def test_a_dry_run_counts_the_same_and_changes_nothing(school):
    previews = {mode: generate_accounts(mode=mode, dry_run=True) for mode in ("all", "primary")}

    assert previews["all"].as_dict() == ALL_COUNTS
    assert previews["primary"].as_dict() == PRIMARY_COUNTS
    assert not parent_emails()
    assert not OutboxMessage.objects.exists()


def test_generating_again_creates_nothing(school, parent_role):
    generate_accounts(mode="all")
    second = generate_accounts(mode="all")

    assert second.as_dict() == {
        "created": 0,
        "existing": 8,
        "invited": 0,
        "same_account": 1,
        "skipped": ALL_COUNTS["skipped"],
    }
    assert OutboxMessage.objects.count() == 8


def test_generating_again_creates_accounts_for_new_starters_only(school, parent_role):
    generate_accounts(mode="all")
    snapshot = school.snapshot
    snapshot.pupils["P-IVY"] = PupilRow("P-IVY", "Ivy", "Ives", "A108", year_group=7)
    snapshot.contacts["C-IAN"] = ContactRow("C-IAN", "Ian", "Ives", "Mr", "ian.ives@example.org")
    snapshot.links[("P-IVY", "C-IAN")] = LinkRow("P-IVY", "C-IAN", "PAF", True, 1)
    snapshot.links[("P-IVY", "C-ANN")] = LinkRow("P-IVY", "C-ANN", "PAM", True, 2)
    resync(snapshot)

    result = generate_accounts(mode="all")

    assert (result.created, result.existing, result.invited) == (1, 8, 1)
    assert OutboxMessage.objects.filter(to="ian.ives@example.org").count() == 1
    assert OutboxMessage.objects.count() == 9
    # Ann's existing account now also sees the new sibling, with no new invitation.
    ann = User.objects.get(email="ann.ash@example.org")
    assert school.pupils["amy"] in pupils_visible_to(ann)
    assert pupils_visible_to(ann).filter(mis_id="P-IVY").exists()


def test_refuses_without_a_parent_role_and_changes_nothing(school):
    with pytest.raises(NoParentGroup, match="Choose the role for contact accounts"):
        generate_accounts(mode="all")

    assert not parent_emails()
    assert not OutboxMessage.objects.exists()


def test_accounts_and_invitations_roll_back_together(school, parent_role):
    with pytest.raises(RuntimeError), transaction.atomic():
        generate_accounts(mode="all")
        assert OutboxMessage.objects.count() == 8
        raise RuntimeError("the caller's transaction fails after generating")

    assert not parent_emails()
    assert not OutboxMessage.objects.exists()


def test_an_invitation_that_cannot_be_queued_leaves_no_account(
    school, parent_role, settings, tmp_path
):
    # A real failure half-way: the invitation template names a page that does not exist.
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "invitation.txt").write_text('{% url "no-such-page" %}')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]

    with pytest.raises(Exception, match="no-such-page"):
        generate_accounts(mode="all")

    assert not parent_emails()
    assert not OutboxMessage.objects.exists()


def test_a_staff_member_who_is_a_contact_keeps_one_account(school, parent_role):
    staff = User.objects.create_user("Helen.Hunt@example.org", "x", is_staff=True)

    result = generate_accounts(mode="all")

    assert (result.created, result.existing) == (7, 1)
    assert User.objects.filter(email="helen.hunt@example.org").count() == 1
    assert not OutboxMessage.objects.filter(to="helen.hunt@example.org").exists()
    assert list(pupils_visible_to(staff)) == [school.pupils["hal"]]
    assert not staff.groups.exists()  # staff keep the roles they have


def test_a_household_sharing_one_email_gets_one_account(school, parent_role):
    result = generate_accounts(mode="all")

    # Fred and Fiona Fox: one address, both with PR for Fay only.
    assert (result.created, result.same_account, result.skipped["conflict"]) == (8, 1, 0)
    fox = User.objects.get(email="fox.family@example.org")
    assert (fox.first_name, fox.last_name) == ("Fred", "Fox")  # the first contact's name
    assert list(pupils_visible_to(fox)) == [school.pupils["fay"]]
    assert OutboxMessage.objects.filter(to="fox.family@example.org").count() == 1


def test_an_email_shared_across_families_is_held_back(school, parent_role):
    # Don Dent (PR for Dan) gets Ann Ash's address (PR for Amy and Ben).
    change_contact(school.snapshot, "don", email="Ann.Ash@example.org")
    resync(school.snapshot)

    result = generate_accounts(mode="all")

    assert result.skipped["conflict"] == 2  # ann and don
    assert (result.created, result.same_account) == (6, 1)
    assert not User.objects.filter(email="ann.ash@example.org").exists()
    # Even an account made by hand with that address sees neither family's children.
    someone = User.objects.create_user("ann.ash@example.org", "x")
    assert not pupils_visible_to(someone).exists()


def test_a_contact_without_pr_adds_nothing_to_a_shared_account(school, parent_role):
    # Steve (no PR, Cal) and Grace Gray (no PR, Gus) take the Foxes' address.
    change_contact(school.snapshot, "steve", email="fox.family@example.org")
    change_contact(school.snapshot, "gran", email="fox.family@example.org")
    resync(school.snapshot)

    result = generate_accounts(mode="all")

    assert result.skipped["conflict"] == 0
    fox = User.objects.get(email="fox.family@example.org")
    assert list(pupils_visible_to(fox)) == [school.pupils["fay"]]


def test_a_court_order_on_one_of_a_household_holds_the_address_back(school, parent_role):
    change_link(school.snapshot, "fay", "fiona", court_order=True)
    resync(school.snapshot)

    result = generate_accounts(mode="all")

    # Fiona's PR for Fay no longer counts, so the two reach different pupils.
    assert result.skipped["conflict"] == 1  # fred; fiona has no usable PR left
    assert result.skipped["no_pr"] == 5
    assert not User.objects.filter(email="fox.family@example.org").exists()


def test_primary_mode_gives_the_household_the_pupils_one_of_them_is_priority_1_for(
    school, parent_role
):
    # Fiona is priority 1 for a new pupil, Fox Junior; Fred has PR for both as well.
    snapshot = school.snapshot
    snapshot.pupils["P-FIN"] = PupilRow("P-FIN", "Finn", "Fox", "A109", year_group=7)
    snapshot.links[("P-FIN", "C-FIONA")] = LinkRow("P-FIN", "C-FIONA", "PAM", True, 1)
    snapshot.links[("P-FIN", "C-FRED")] = LinkRow("P-FIN", "C-FRED", "PAF", True, 2)
    resync(snapshot)

    result = generate_accounts(mode="primary")

    assert (result.created, result.same_account) == (4, 1)
    fox = User.objects.get(email="fox.family@example.org")
    assert {p.mis_id for p in pupils_visible_to(fox)} == {"P-FAY", "P-FIN"}


def test_the_office_approves_one_account_for_two_families_until_the_data_changes(
    school, parent_role
):
    from schoolgate.accounts.households import NotHeldBack, approve_shared_email

    change_contact(school.snapshot, "don", email="ann.ash@example.org")
    resync(school.snapshot)
    with pytest.raises(NotHeldBack):
        approve_shared_email(email_key="fox.family@example.org", actor=school.admin)

    approve_shared_email(email_key="ann.ash@example.org", actor=school.admin, reason="checked")

    entry = AuditEntry.objects.get(action="shared_email.approved")
    assert (entry.subject, entry.actor, entry.reason) == (
        "ann.ash@example.org",
        school.admin,
        "checked",
    )
    assert entry.detail == {"contacts": ["Mr Don Dent", "Mrs Ann Ash"]}
    result = generate_accounts(mode="all")
    assert (result.skipped["conflict"], result.created, result.same_account) == (0, 7, 2)
    shared = User.objects.get(email="ann.ash@example.org")
    assert {p.mis_id for p in pupils_visible_to(shared)} == {"P-AMY", "P-BEN", "P-DAN"}

    resync(school.snapshot)  # the same data: the decision holds
    assert {p.mis_id for p in pupils_visible_to(shared)} == {"P-AMY", "P-BEN", "P-DAN"}

    change_link(school.snapshot, "dan", "don", priority=3)  # the data changed: asked again
    resync(school.snapshot)
    assert not pupils_visible_to(shared).exists()
    assert generate_accounts(mode="all", dry_run=True).skipped["conflict"] == 2


def test_existing_parent_accounts_missing_from_the_role_are_added(school, parent_role):
    al = User.objects.create_user("al.ash@example.org", "x")

    result = generate_accounts(mode="all")

    assert result.existing == 1
    assert list(al.groups.all()) == [parent_role]


def test_choosing_a_mode_saves_it_as_the_schools_setting(school, parent_role):
    assert get_addon_settings().generation_mode == "all"

    generate_accounts(mode="primary", actor=school.admin)

    assert get_addon_settings().generation_mode == "primary"
    change = AuditEntry.objects.get(action="addons.settings_changed")
    assert change.detail == {"generation_mode": ["all", "primary"]}
    assert change.actor == school.admin


def test_generation_is_audited(school, parent_role):
    generate_accounts(mode="all", actor=school.admin)

    entry = AuditEntry.objects.get(action="accounts.generated")
    assert entry.actor == school.admin
    assert entry.detail == {"mode": "all", **ALL_COUNTS}


def test_an_unknown_mode_is_refused(school, parent_role):
    with pytest.raises(ValueError, match="'everyone' is not one of all, primary"):
        generate_accounts(mode="everyone")


def test_court_order_and_no_pr_contacts_are_counted_as_no_pr(school, parent_role):
    result = generate_accounts(mode="all")

    assert result.skipped["no_pr"] == 4  # steve, gran, hugh, and gary (court order)
    assert not User.objects.filter(email="gary.gray@example.org").exists()
    assert PupilContact.objects.filter(court_order=True).count() == 1


def test_a_role_chosen_later_is_used_for_new_starters(school, parent_role):
    other = Group.objects.create(name="Parents 2026")
    addon_settings = get_addon_settings()
    addon_settings.parent_group = other
    addon_settings.save()

    generate_accounts(mode="all")

    assert User.objects.filter(groups=other).count() == 8
