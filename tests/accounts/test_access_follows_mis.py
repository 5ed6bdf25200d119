"""Access follows the MIS: a sync that takes away what made a contact qualify takes
away the access at once, proven through the parent's own pages, and is audited."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from school import CONTACTS, PUPILS, change_contact, change_link, link_key, resync

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.roles import TEACHERS
from schoolgate.mis.models import Pupil
from schoolgate.mis.snapshot import LinkRow


@pytest.fixture
def signed_in(client, school, parent_role):
    """sign_in(contact key) -> a client signed in as that parent's generated account."""
    generate_accounts(mode="all")

    def sign_in(contact: str):
        client.force_login(User.objects.get(email=school.contacts[contact].email_key))
        return client

    return sign_in


def pupil_url(school, pupil: str) -> str:
    return reverse("portal:pupil", args=[school.pupils[pupil].pk])


def assert_can_see(client, school, pupil: str) -> None:
    assert client.get(pupil_url(school, pupil)).status_code == 200
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert school.pupils[pupil].display_name in home.text


def assert_cannot_see(client, school, pupil: str) -> None:
    assert client.get(pupil_url(school, pupil)).status_code in (302, 403, 404)
    home = client.get(reverse("portal:home"))
    assert school.pupils[pupil].display_name not in home.text


def assert_signed_out_for_good(client, school, pupil: str) -> None:
    """An account left with no child is deactivated by the sync: its session ends."""
    response = client.get(pupil_url(school, pupil))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def lost(contact: str, pupil: str, reason: str, run) -> AuditEntry:
    pupil_obj = Pupil.objects.get(mis_id=PUPILS[pupil].mis_id)
    entry = AuditEntry.objects.get(
        action="access.lost",
        subject=CONTACTS[contact].email.casefold(),
        detail__pupil_id=pupil_obj.pk,
    )
    assert entry.reason == reason
    assert entry.detail == {"pupil_id": pupil_obj.pk, "pupil": pupil_obj.display_name}
    assert entry.actor_label == f"sync {run.pk}"
    return entry


def test_parent_loses_access_when_pr_removed(signed_in, school):
    client = signed_in("al")
    assert_can_see(client, school, "amy")

    change_link(school.snapshot, "amy", "al", parental_responsibility=False)
    run = resync(school.snapshot)

    assert client.get(pupil_url(school, "amy")).status_code == 404
    assert_cannot_see(client, school, "amy")
    assert_can_see(client, school, "ben")  # still responsible for the sibling
    lost("al", "amy", "PR removed", run)


def test_parent_loses_access_when_priority_changes_in_primary_mode(client, school, parent_role):
    generate_accounts(mode="primary")
    client.force_login(User.objects.get(email="ann.ash@example.org"))
    assert_can_see(client, school, "amy")

    change_link(school.snapshot, "amy", "ann", priority=2)
    change_link(school.snapshot, "amy", "al", priority=1)
    run = resync(school.snapshot)

    assert client.get(pupil_url(school, "amy")).status_code == 404
    assert_cannot_see(client, school, "amy")
    assert_can_see(client, school, "ben")
    lost("ann", "amy", "priority changed", run)


def test_priority_does_not_matter_for_all_contacts(signed_in, school):
    client = signed_in("ann")

    change_link(school.snapshot, "amy", "ann", priority=2)
    resync(school.snapshot)

    assert_can_see(client, school, "amy")
    assert not AuditEntry.objects.filter(action__startswith="access.").exists()


def test_parent_loses_access_when_email_changes(signed_in, school):
    client = signed_in("colin")
    assert_can_see(client, school, "cal")

    change_contact(school.snapshot, "colin", email="colin@newhome.example")
    run = resync(school.snapshot)

    assert_signed_out_for_good(client, school, "cal")  # no child left
    assert_cannot_see(client, school, "cal")
    lost("colin", "cal", "email changed", run)


def test_parent_loses_access_when_email_removed(signed_in, school):
    client = signed_in("don")

    change_contact(school.snapshot, "don", email="")
    run = resync(school.snapshot)

    assert_cannot_see(client, school, "dan")
    lost("don", "dan", "email changed", run)


def test_parent_loses_access_when_link_removed(signed_in, school):
    client = signed_in("al")

    del school.snapshot.links[link_key("amy", "al")]
    run = resync(school.snapshot)

    assert client.get(pupil_url(school, "amy")).status_code == 404
    assert_cannot_see(client, school, "amy")
    assert_can_see(client, school, "ben")
    lost("al", "amy", "link removed", run)


def test_parent_loses_access_when_a_court_order_is_set(signed_in, school):
    client = signed_in("gina")
    assert_can_see(client, school, "gus")

    change_link(school.snapshot, "gus", "gina", court_order=True)
    run = resync(school.snapshot)

    assert_signed_out_for_good(client, school, "gus")
    assert_cannot_see(client, school, "gus")
    lost("gina", "gus", "court order", run)


def test_parent_loses_access_when_the_pupil_leaves(signed_in, school):
    client = signed_in("helen")
    assert_can_see(client, school, "hal")

    del school.snapshot.pupils[PUPILS["hal"].mis_id]
    for key in [key for key in school.snapshot.links if key[0] == PUPILS["hal"].mis_id]:
        del school.snapshot.links[key]
    run = resync(school.snapshot)

    assert_signed_out_for_good(client, school, "hal")
    assert_cannot_see(client, school, "hal")
    lost("helen", "hal", "pupil off roll", run)


def test_parent_loses_access_when_their_email_becomes_shared(signed_in, school):
    client = signed_in("al")

    change_contact(school.snapshot, "don", email="AL.ASH@example.org")
    run = resync(school.snapshot)

    assert_cannot_see(client, school, "amy")
    assert_cannot_see(client, school, "ben")
    lost("al", "amy", "email now shared with a contact of another family", run)
    lost("al", "ben", "email now shared with a contact of another family", run)
    # Don's own account, under his old address, lost Dan because his email changed.
    lost("don", "dan", "email changed", run)


def test_an_account_left_with_no_child_is_deactivated_by_the_sync(signed_in, school):
    client = signed_in("cara")

    change_link(school.snapshot, "cal", "cara", parental_responsibility=False)
    resync(school.snapshot)

    assert_signed_out_for_good(client, school, "cal")
    assert not User.objects.get(email="cara.cole@example.org").is_active


def test_an_account_outside_the_parent_role_with_no_child_gets_a_page_saying_so(
    client, school, parent_role
):
    # Steve has no parental responsibility: an account made by hand sees no child.
    client.force_login(User.objects.create_user("steve.stone@example.org"))

    response = client.get(reverse("portal:home"))
    assert response.status_code == 403
    assert "Your account is not linked to any child" in response.text
    assert "contact the school" in response.text


def test_a_staff_member_who_loses_their_child_keeps_the_staff_area(client, school, parent_role):
    school.teacher.email = "helen.hunt@example.org"
    school.teacher.save()
    school.teacher.groups.add(Group.objects.get(name=TEACHERS))
    client.force_login(school.teacher)
    assert_can_see(client, school, "hal")

    change_link(school.snapshot, "hal", "helen", parental_responsibility=False)
    run = resync(school.snapshot)

    assert client.get(reverse("portal:home")).status_code == 403
    assert client.get(reverse("teacher:evenings")).status_code == 200
    lost("helen", "hal", "PR removed", run)


def test_access_gained_by_sync_is_audited(signed_in, school):
    client = signed_in("ann")
    school.snapshot.links[link_key("cal", "ann")] = LinkRow(
        PUPILS["cal"].mis_id, CONTACTS["ann"].mis_id, "OTH", True, 3
    )

    run = resync(school.snapshot)

    assert_can_see(client, school, "cal")
    entry = AuditEntry.objects.get(action="access.gained", subject="ann.ash@example.org")
    assert entry.reason == "new link in the MIS"
    assert entry.detail["pupil_id"] == school.pupils["cal"].pk
    assert entry.actor_label == f"sync {run.pk}"


def test_access_restored_by_sync_is_audited_as_gained(signed_in, school):
    change_link(school.snapshot, "amy", "al", parental_responsibility=False)
    resync(school.snapshot)
    change_link(school.snapshot, "amy", "al", parental_responsibility=True)

    resync(school.snapshot)

    entry = AuditEntry.objects.get(action="access.gained", subject="al.ash@example.org")
    assert entry.reason.startswith("now qualifies")


def test_a_sync_that_changes_nothing_writes_no_audit(signed_in, school):
    resync(school.snapshot)

    assert not AuditEntry.objects.filter(action__startswith="access.").exists()


def test_a_second_parent_joining_the_household_address_keeps_access(signed_in, school):
    client = signed_in("al")

    # Ann takes Al's address: both have PR for Amy and Ben, so it is one household.
    change_contact(school.snapshot, "ann", email="al.ash@example.org")
    resync(school.snapshot)

    assert client.get(pupil_url(school, "amy")).status_code == 200
    assert client.get(pupil_url(school, "ben")).status_code == 200
    assert not AuditEntry.objects.filter(action="access.lost", subject="al.ash@example.org")


def test_approval_withdrawn_ends_access_at_once(signed_in, school):
    from schoolgate.accounts.households import approve_shared_email, withdraw_approval

    client = signed_in("al")
    change_contact(school.snapshot, "don", email="al.ash@example.org")
    resync(school.snapshot)
    assert_cannot_see(client, school, "amy")
    assert not User.objects.get(email="al.ash@example.org").is_active  # no child left

    approve_shared_email(email_key="al.ash@example.org", actor=school.admin)

    al = User.objects.get(email="al.ash@example.org")
    assert al.is_active  # the account the sync closed opens again
    client.force_login(al)
    for pupil in ("amy", "ben", "dan"):
        assert client.get(pupil_url(school, pupil)).status_code == 200

    withdraw_approval(email_key="al.ash@example.org", actor=school.admin)

    assert_signed_out_for_good(client, school, "dan")
    assert AuditEntry.objects.filter(action="shared_email.approval_withdrawn").exists()


def test_contacts_without_accounts_are_not_audited(client, school, parent_role):
    # No account exists yet: nobody could lose anything.
    change_link(school.snapshot, "amy", "al", parental_responsibility=False)
    resync(school.snapshot)

    assert not AuditEntry.objects.filter(action__startswith="access.").exists()


def test_automatic_generation_creates_and_invites_new_starters_on_sync(school, parent_role):
    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.outbox.models import OutboxMessage

    addon_settings = get_addon_settings()
    addon_settings.auto_generate = True
    addon_settings.save()

    run = resync(school.snapshot)

    assert User.objects.filter(is_staff=False).count() == 8
    assert OutboxMessage.objects.filter(template="invitation").count() == 8
    entry = AuditEntry.objects.get(action="accounts.generated")
    assert entry.actor_label == f"sync {run.pk}"
    # The accounts it made are not reported as access gained.
    assert not AuditEntry.objects.filter(action="access.gained").exists()


def test_automatic_generation_waits_for_a_parent_role(school):
    from schoolgate.addons.selectors import get_addon_settings

    addon_settings = get_addon_settings()
    addon_settings.auto_generate = True
    addon_settings.save()

    resync(school.snapshot)

    assert not User.objects.filter(is_staff=False).exists()


def test_automatic_generation_rolls_back_with_a_failed_sync(school, parent_role):
    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.mis.models import SyncRun
    from schoolgate.mis.snapshot import LinkRow as Link
    from schoolgate.mis.sync import sync_snapshot
    from schoolgate.outbox.models import OutboxMessage

    addon_settings = get_addon_settings()
    addon_settings.auto_generate = True
    addon_settings.save()
    school.snapshot.links[("P-NOBODY", "C-ANN")] = Link("P-NOBODY", "C-ANN", "PAM", True, 1)

    run = sync_snapshot(school.snapshot, trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.FAILED
    assert not User.objects.filter(is_staff=False).exists()
    assert not OutboxMessage.objects.exists()
