"""The sync engine, driven by Snapshot objects built here (no importer involved)."""

import dataclasses
from datetime import date

import pytest
from django.db import transaction

from schoolgate.mis import sync
from schoolgate.mis.models import (
    Contact,
    GroupMembership,
    GroupTeacher,
    Pupil,
    PupilContact,
    Staff,
    SyncRun,
    TeachingGroup,
)
from schoolgate.mis.snapshot import (
    KINDS,
    ContactRow,
    GroupRow,
    InvalidSource,
    LinkRow,
    PupilRow,
    Snapshot,
    StaffRow,
)
from schoolgate.mis.sync import apply_snapshot, mis_synced

EVERYTHING = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}


def school() -> Snapshot:
    """Three pupils (two siblings), three contacts, two staff, a form and a class."""
    snapshot = Snapshot(covers=set(EVERYTHING), full=True, source_format="test", files=["t"])
    for row in (
        PupilRow("P1", "Amy", "Ash", upn="A1", date_of_birth=date(2013, 9, 1), year_group=7),
        PupilRow("P2", "Ben", "Ash", upn="A2", year_group=9),
        PupilRow("P3", "Cal", "Best", upn="A3", year_group=7),
    ):
        snapshot.pupils[row.mis_id] = row
    for row in (
        ContactRow("C1", "Ann", "Ash", "Mrs", "ann@example.org", (("M", "07700900001"),)),
        ContactRow("C2", "Al", "Ash", "Mr", "al@example.org"),
        ContactRow("C3", "Bea", "Best", "Ms"),
    ):
        snapshot.contacts[row.mis_id] = row
    for row in (
        LinkRow("P1", "C1", "PAM", True, 1),
        LinkRow("P1", "C2", "PAF", True, 2),
        LinkRow("P2", "C1", "PAM", True, 1),
        LinkRow("P3", "C3", "PAM", True, 1),
    ):
        snapshot.links[(row.pupil_id, row.contact_id)] = row
    for row in (StaffRow("S1", "Tom", "Teach", "Mr"), StaffRow("S2", "Ria", "Reed", "Dr")):
        snapshot.staff[row.mis_id] = row
    snapshot.groups["7A"] = GroupRow("7A", "registration", "7A", year_group=7)
    snapshot.groups["7MA"] = GroupRow("7MA", "class", "7 Maths A", "Maths", 7)
    snapshot.memberships |= {("7A", "P1"), ("7A", "P3"), ("7MA", "P1")}
    snapshot.group_teachers |= {("7A", "S1"), ("7MA", "S2")}
    return snapshot


def apply(snapshot: Snapshot):
    with transaction.atomic():
        return apply_snapshot(snapshot)


def counts(result) -> dict:
    return result.counts_dict()


def table_state() -> dict:
    """Every mirror table as plain values, to prove nothing changed."""
    return {
        "pupils": sorted(Pupil.objects.values_list("mis_id", "on_roll", "legal_forename")),
        "contacts": sorted(Contact.objects.values_list("mis_id", "email", "email_key")),
        "links": sorted(
            PupilContact.objects.values_list(
                "pupil__mis_id", "contact__mis_id", "parental_responsibility", "priority"
            )
        ),
        "staff": sorted(Staff.objects.values_list("mis_id", "current", "surname")),
        "groups": sorted(TeachingGroup.objects.values_list("mis_id", "current", "name")),
        "memberships": sorted(
            GroupMembership.objects.values_list("group__mis_id", "pupil__mis_id")
        ),
        "group_teachers": sorted(
            GroupTeacher.objects.values_list("group__mis_id", "staff__mis_id")
        ),
    }


def test_first_sync_adds_every_kind():
    result = apply(school())
    assert counts(result) == {
        "pupils": {"added": 3, "changed": 0, "removed": 0},
        "contacts": {"added": 3, "changed": 0, "removed": 0},
        "links": {"added": 4, "changed": 0, "removed": 0},
        "staff": {"added": 2, "changed": 0, "removed": 0},
        "groups": {"added": 2, "changed": 0, "removed": 0},
        "memberships": {"added": 3, "changed": 0, "removed": 0},
        "group_teachers": {"added": 2, "changed": 0, "removed": 0},
    }
    assert list(result.counts) == list(KINDS)
    link = PupilContact.objects.get(pupil__mis_id="P1", contact__mis_id="C1")
    assert (link.parental_responsibility, link.priority, link.relationship) == (True, 1, "PAM")
    assert Contact.objects.get(mis_id="C1").phones == [{"type": "M", "number": "07700900001"}]
    assert Contact.objects.get(mis_id="C1").email_key == "ann@example.org"


def test_loading_the_same_snapshot_twice_changes_nothing():
    apply(school())
    before = table_state()
    result = apply(school())
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in counts(result).values())
    assert table_state() == before


def test_changes_are_counted_per_kind():
    apply(school())
    snapshot = school()
    snapshot.pupils["P2"] = dataclasses.replace(snapshot.pupils["P2"], year_group=10)
    snapshot.contacts["C2"] = dataclasses.replace(snapshot.contacts["C2"], email="AL@example.org")
    snapshot.links[("P1", "C2")] = dataclasses.replace(
        snapshot.links[("P1", "C2")], parental_responsibility=False
    )
    snapshot.staff["S2"] = dataclasses.replace(snapshot.staff["S2"], surname="Reed-Smith")
    snapshot.groups["7MA"] = dataclasses.replace(snapshot.groups["7MA"], name="7 Maths Set 1")
    result = counts(apply(snapshot))
    for kind in ("pupils", "contacts", "links", "staff", "groups"):
        assert result[kind] == {"added": 0, "changed": 1, "removed": 0}, kind
    assert Pupil.objects.get(mis_id="P2").year_group == 10
    assert not PupilContact.objects.get(
        pupil__mis_id="P1", contact__mis_id="C2"
    ).parental_responsibility


def test_pupil_absent_from_full_sync_goes_off_roll_and_returns():
    apply(school())
    snapshot = school()
    del snapshot.pupils["P3"]
    del snapshot.links[("P3", "C3")]
    snapshot.memberships.discard(("7A", "P3"))
    result = counts(apply(snapshot))
    assert result["pupils"] == {"added": 0, "changed": 0, "removed": 1}
    pupil = Pupil.objects.get(mis_id="P3")
    assert pupil.on_roll is False

    result = counts(apply(school()))
    assert result["pupils"] == {"added": 0, "changed": 1, "removed": 0}
    assert Pupil.objects.get(mis_id="P3").on_roll is True
    assert Pupil.objects.get(mis_id="P3").pk == pupil.pk
    assert PupilContact.objects.filter(pupil=pupil, contact__mis_id="C3").exists()


def test_links_of_off_roll_pupils_and_contacts_left_without_a_link_are_removed():
    apply(school())
    snapshot = school()
    del snapshot.pupils["P3"]
    del snapshot.links[("P3", "C3")]
    del snapshot.contacts["C3"]
    result = counts(apply(snapshot))
    assert result["links"]["removed"] == 1
    assert result["contacts"]["removed"] == 1
    assert not Contact.objects.filter(mis_id="C3").exists()
    assert not PupilContact.objects.filter(pupil__mis_id="P3").exists()


def test_contact_still_linked_to_a_sibling_on_roll_is_kept():
    apply(school())
    snapshot = school()
    del snapshot.pupils["P2"]
    del snapshot.links[("P2", "C1")]
    apply(snapshot)
    assert Contact.objects.filter(mis_id="C1").exists()
    assert list(
        PupilContact.objects.filter(contact__mis_id="C1").values_list("pupil__mis_id", flat=True)
    ) == ["P1"]


def test_partial_snapshot_removes_nothing():
    apply(school())
    before = table_state()
    partial = Snapshot(covers=set(EVERYTHING), full=False, files=["partial"])
    partial.pupils["P4"] = PupilRow("P4", "Dan", "Dee", year_group=8)
    partial.contacts["C4"] = ContactRow("C4", "Dot", "Dee", email="dot@example.org")
    partial.links[("P4", "C4")] = LinkRow("P4", "C4", "PAM", True, 1)
    result = counts(apply(partial))
    assert result["pupils"] == {"added": 1, "changed": 0, "removed": 0}
    assert all(c["removed"] == 0 for c in result.values())
    after = table_state()
    for kind, rows in before.items():
        assert set(rows) <= set(after[kind]), kind


def test_link_missing_from_full_snapshot_is_removed():
    apply(school())
    snapshot = school()
    del snapshot.links[("P1", "C2")]
    result = counts(apply(snapshot))
    assert result["links"] == {"added": 0, "changed": 0, "removed": 1}
    assert not PupilContact.objects.filter(pupil__mis_id="P1", contact__mis_id="C2").exists()
    # Al Ash has no other child: he goes with his last link.
    assert result["contacts"]["removed"] == 1


def test_staff_and_groups_absent_are_retired_only_for_covered_kinds():
    apply(school())
    # A CTF-like snapshot: pupils and contacts only, nothing said of staff or groups.
    ctf_like = school()
    ctf_like.covers = {"pupils", "contacts", "links"}
    ctf_like.staff.clear()
    ctf_like.groups.clear()
    ctf_like.memberships.clear()
    ctf_like.group_teachers.clear()
    result = counts(apply(ctf_like))
    assert result["staff"]["removed"] == 0 and result["groups"]["removed"] == 0
    assert Staff.objects.filter(current=True).count() == 2
    assert TeachingGroup.objects.filter(current=True).count() == 2
    assert GroupMembership.objects.count() == 3

    # A timetable of classes only: the class and its teacher retire, the form stays.
    classes_only = school()
    classes_only.covers = {"staff", "groups:class"}
    del classes_only.groups["7MA"]
    del classes_only.staff["S2"]
    classes_only.memberships = {("7A", "P1"), ("7A", "P3")}
    classes_only.group_teachers = {("7A", "S1")}
    result = counts(apply(classes_only))
    assert result["staff"] == {"added": 0, "changed": 0, "removed": 1}
    assert result["groups"] == {"added": 0, "changed": 0, "removed": 1}
    assert result["memberships"]["removed"] == 1
    assert result["group_teachers"]["removed"] == 1
    assert Staff.objects.get(mis_id="S2").current is False
    assert TeachingGroup.objects.get(mis_id="7MA").current is False
    assert TeachingGroup.objects.get(mis_id="7A").current is True


def test_retired_staff_come_back_as_current():
    apply(school())
    snapshot = school()
    del snapshot.staff["S2"]
    snapshot.group_teachers.discard(("7MA", "S2"))
    apply(snapshot)
    assert Staff.objects.get(mis_id="S2").current is False
    result = counts(apply(school()))
    assert result["staff"] == {"added": 0, "changed": 1, "removed": 0}
    assert Staff.objects.get(mis_id="S2").current is True


def test_membership_for_unknown_pupil_is_skipped_with_a_warning():
    snapshot = school()
    snapshot.memberships.add(("7A", "P99"))
    result = apply(snapshot)
    assert result.counts["memberships"].added == 3
    assert any("P99" in warning and "7A" in warning for warning in result.warnings)


def test_membership_for_unknown_group_is_skipped_with_a_warning():
    snapshot = school()
    snapshot.memberships.add(("NOPE", "P1"))
    result = apply(snapshot)
    assert result.counts["memberships"].added == 3
    assert any("NOPE" in warning for warning in result.warnings)


def test_invalid_email_is_kept_with_an_empty_key_and_a_warning():
    snapshot = school()
    snapshot.contacts["C2"] = dataclasses.replace(snapshot.contacts["C2"], email="al@")
    result = apply(snapshot)
    contact = Contact.objects.get(mis_id="C2")
    assert (contact.email, contact.email_key) == ("al@", "")
    assert any("al@" in warning for warning in result.warnings)


def test_link_naming_an_unknown_contact_raises_and_changes_nothing():
    apply(school())
    before = table_state()
    snapshot = school()
    snapshot.pupils["P2"] = dataclasses.replace(snapshot.pupils["P2"], year_group=11)
    snapshot.links[("P1", "C99")] = LinkRow("P1", "C99", "OTH", True, 3)
    with pytest.raises(InvalidSource) as error:
        apply(snapshot)
    assert "C99" in str(error.value)
    assert table_state() == before


def test_sync_snapshot_with_unknown_contact_records_a_failed_run_and_changes_nothing():
    apply(school())
    before = table_state()
    snapshot = school()
    snapshot.pupils["P4"] = PupilRow("P4", "Dan", "Dee")
    snapshot.links[("P4", "C99")] = LinkRow("P4", "C99", "OTH", True, 1)
    run = sync.sync_snapshot(snapshot, trigger=SyncRun.Trigger.API)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "C99" in run.errors[0]["element"]
    assert run.finished_at is not None and run.duration_ms is not None
    assert table_state() == before


def test_sync_snapshot_succeeds_and_keeps_the_report():
    run = sync.sync_snapshot(school(), trigger=SyncRun.Trigger.API)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["pupils"] == {"added": 3, "changed": 0, "removed": 0}
    assert run.source_format == "test" and run.files == ["t"]


def test_mis_synced_fires_inside_the_transaction():
    seen = []

    def receiver(sender, run, counts, **kwargs):
        seen.append((transaction.get_connection().in_atomic_block, Pupil.objects.count(), counts))

    mis_synced.connect(receiver)
    try:
        run = sync.sync_snapshot(school(), trigger=SyncRun.Trigger.API)
    finally:
        mis_synced.disconnect(receiver)
    assert seen == [(True, 3, run.counts)]


def test_receiver_that_raises_rolls_the_sync_back_and_fails_the_run():
    apply(school())
    before = table_state()

    def receiver(sender, **kwargs):
        raise RuntimeError("account generation broke")

    snapshot = school()
    snapshot.pupils["P4"] = PupilRow("P4", "Dan", "Dee")
    mis_synced.connect(receiver)
    try:
        run = sync.sync_snapshot(snapshot, trigger=SyncRun.Trigger.API)
    finally:
        mis_synced.disconnect(receiver)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "account generation broke" in run.errors[0]["message"]
    assert run.counts == {}
    assert table_state() == before


def test_new_contact_with_no_link_is_not_added_and_resync_reports_nothing():
    snapshot = school()
    snapshot.contacts["C9"] = ContactRow("C9", "Nobody", "Linked", email="n@example.org")
    first = counts(apply(snapshot))
    assert first["contacts"] == {"added": 3, "changed": 0, "removed": 0}
    second = counts(apply(snapshot))
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in second.values())
    assert not Contact.objects.filter(mis_id="C9").exists()


def test_big_sync_refreshes_postgresql_statistics():
    """Stale row counts after a first sync made access queries take minutes at 50,000 pupils."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    snapshot = Snapshot(covers={"pupils", "contacts", "links"}, full=True, files=["big"])
    for n in range(700):
        snapshot.pupils[f"B{n}"] = PupilRow(f"B{n}", "Pupil", f"S{n}")
        snapshot.contacts[f"BC{n}"] = ContactRow(f"BC{n}", "Parent", f"S{n}")
        snapshot.links[(f"B{n}", f"BC{n}")] = LinkRow(f"B{n}", f"BC{n}", "PAM", True, 1)
    assert sync.sync_snapshot(snapshot, trigger="api").status == SyncRun.Status.SUCCEEDED
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'mis_pupil'")
        assert cursor.fetchone()[0] == 700
