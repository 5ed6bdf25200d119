"""The demo school generator, `schoolgate generate_school` and `schoolgate demo`."""

import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from schoolgate.accounts.access import ALL, PRIMARY, pupils_visible_to, shared_email_keys
from schoolgate.accounts.models import User
from schoolgate.mis.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    build_school,
    generate_school,
    is_reserved_email,
    upn_check_letter,
)
from schoolgate.mis.models import Contact, Pupil, PupilContact, Staff, SyncRun, TeachingGroup
from schoolgate.mis.sync import sync_mis

SMALL = 60
YEAR = 2025
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def small_school(tmp_path):
    return generate_school(tmp_path / "school", pupils=SMALL, seed=7, academic_year=YEAR)


@pytest.fixture
def loaded(small_school):
    run = sync_mis(small_school.paths, trigger="command")
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    return small_school, run


def test_same_seed_writes_the_same_files_and_another_seed_does_not(tmp_path, small_school):
    again = generate_school(tmp_path / "again", pupils=SMALL, seed=7, academic_year=YEAR)
    other = generate_school(tmp_path / "other", pupils=SMALL, seed=8, academic_year=YEAR)
    for mine, same, different in zip(small_school.paths, again.paths, other.paths, strict=True):
        assert mine.read_bytes() == same.read_bytes()
        assert mine.read_bytes() != different.read_bytes()


def test_upns_are_unique_and_have_valid_check_letters(small_school):
    assert upn_check_letter("335311012004") == "G"  # a real SIMS sample's UPN
    upns = [pupil.upn for pupil in small_school.school.pupils]
    assert len(set(upns)) == len(upns) == SMALL
    for upn in upns:
        assert re.fullmatch(r"[A-Z]\d{12}", upn)
        assert upn[0] == upn_check_letter(upn[1:])


def test_files_follow_the_ctf_and_timetable_formats(small_school):
    ctf = small_school.ctf.read_text(encoding="utf-8")
    for element in (
        "<CTFversion>19.0</CTFversion>",
        "<DocumentQualifier>full</DocumentQualifier>",
        "<SourceSchool>",
        "<PreferredForename>",
        "<NCyearActual>",
        "<Responsibility>true</Responsibility>",
        "<TelephoneType>M</TelephoneType>",
        "<CourtOrder>Y</CourtOrder>",
    ):
        assert element in ctf
    header = small_school.timetable.read_text(encoding="utf-8").splitlines()[0]
    assert header == (
        "group_id,group_type,group_name,subject,year_group,member_type,member_id,"
        "title,forename,surname,email,role"
    )


def test_generated_files_load_through_the_real_sync_without_errors(loaded):
    generated, run = loaded
    expected = generated.school.counts()
    assert run.errors == []
    assert {kind: c["added"] for kind, c in run.counts.items()} == expected
    # The only warnings are the deliberately invalid emails.
    assert run.warnings
    assert all("is not a valid email address" in warning for warning in run.warnings)
    assert Pupil.objects.count() == SMALL
    assert TeachingGroup.objects.filter(kind="registration").count() >= 5

    again = sync_mis(generated.paths, trigger="command")
    assert again.status == SyncRun.Status.SUCCEEDED
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in again.counts.values())


def test_loaded_school_has_the_data_problems_real_schools_have(loaded):
    links = PupilContact.objects.all()
    # Siblings share a contact, who is one person in the mirror.
    assert Contact.objects.annotate(children=Count("pupil_links")).filter(children__gte=2).exists()
    # One email shared by two different people (at least three families).
    shared = Contact.objects.filter(email_key__in=shared_email_keys())
    assert shared.values("email_key").distinct().count() >= 3
    for key in shared.values_list("email_key", flat=True).distinct():
        assert len({c.forename for c in shared.filter(email_key=key)}) == 2
    # PR without an email, and invalid emails of both shapes.
    assert links.filter(parental_responsibility=True, contact__email="").exists()
    invalid = [c.email for c in Contact.objects.all() if c.has_invalid_email]
    assert any(email.endswith("@") for email in invalid)
    assert any(" at example.com" in email for email in invalid)
    # A court order, a pupil whose first contact has no PR, and one whose only PR
    # contact has no email.
    assert links.filter(court_order=True, parental_responsibility=True).exists()
    assert links.filter(priority=1, parental_responsibility=False).exists()
    pr_links = links.filter(parental_responsibility=True)
    alone = [
        pupil
        for pupil in Pupil.objects.all()
        if {link.contact.email for link in pr_links.filter(pupil=pupil)} == {""}
    ]
    assert alone
    # Only addresses reserved for examples, for parents and staff alike.
    emails = [c.email_key for c in Contact.objects.exclude(email_key="")]
    emails += [s.email_key for s in Staff.objects.all()]
    assert all(is_reserved_email(email) for email in emails)


def test_default_school_has_the_size_and_shape_of_a_secondary(tmp_path):
    school = build_school(academic_year=YEAR)
    counts = school.counts()
    assert counts["pupils"] == 1000
    assert Counter(p.year for p in school.pupils) == {y: 200 for y in (7, 8, 9, 10, 11)}
    assert 1700 <= counts["contacts"] <= 1950
    assert counts["staff"] == 70
    forms = [g for g in school.groups if g.kind == "registration"]
    assert len(forms) == 35 and all(len(g.teachers) == 1 for g in forms)
    classes_per_pupil = Counter(p.upn for g in school.groups if g.kind == "class" for p in g.pupils)
    assert 9.5 <= sum(classes_per_pupil.values()) / 1000 <= 11
    loads = Counter(t.mis_id for g in school.groups for t in g.teachers)
    assert 8 <= sum(loads.values()) / len(loads) <= 12
    assert {"SENCO", "Head of Year 7", "Head of Year 11"} <= {s.role for s in school.staff}
    assert {s.title for s in school.staff if s.mis_id in loads} <= {"Mr", "Mrs", "Ms", "Dr"}
    with_siblings = sum(len(f.children) > 1 for f in school.families) / len(school.families)
    assert 0.10 <= with_siblings <= 0.20
    # The same person under two siblings, once with a different priority.
    orders = {}
    differs = False
    for pupil in school.pupils:
        for link in pupil.links:
            seen = orders.setdefault(id(link.person), link.order)
            differs = differs or seen != link.order
    assert differs
    pr_links = [link for p in school.pupils for link in p.links if link.responsibility]
    assert 0.02 <= sum(not link.person.email for link in pr_links) / len(pr_links) <= 0.10


def test_generate_school_command_writes_both_files(tmp_path):
    out = StringIO()
    call_command(
        "generate_school", str(tmp_path / "out"), "--pupils", "40", "--seed", "3", stdout=out
    )
    assert (tmp_path / "out" / "school.ctf.xml").exists()
    assert (tmp_path / "out" / "timetable.csv").exists()
    assert "40 pupils" in out.getvalue()


def test_generate_school_command_refuses_a_school_too_small(tmp_path):
    with pytest.raises(CommandError, match="at least 30 pupils"):
        call_command("generate_school", str(tmp_path / "out"), "--pupils", "5")
    assert not (tmp_path / "out").exists()


def test_demo_run_twice_keeps_the_school_and_three_sign_ins(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("demo", "--pupils", str(SMALL), stdout=first)
    counts = (Pupil.objects.count(), Contact.objects.count(), PupilContact.objects.count())
    call_command("demo", "--pupils", str(SMALL), stdout=second)

    assert (tmp_path / "demo" / "school.ctf.xml").exists()
    assert SyncRun.objects.count() == 1
    assert (Pupil.objects.count(), Contact.objects.count(), PupilContact.objects.count()) == counts
    assert first.getvalue().startswith("Generated a demo school")
    assert first.getvalue().endswith(second.getvalue())
    assert "http://127.0.0.1:8000" in second.getvalue()
    assert DEMO_PASSWORD in second.getvalue()

    assert User.objects.count() == 3
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    teacher = User.objects.get(email__endswith="@example.org")
    assert teacher.is_staff and not teacher.is_superuser
    # The Roles page and the user list show the roles they really have.
    assert [g.name for g in admin.groups.all()] == ["Administrators"]
    assert [g.name for g in teacher.groups.all()] == ["Teachers"]
    assert Staff.objects.get(email_key=teacher.email).groups.filter(kind="class").count() >= 2
    parent = User.objects.get(is_staff=False)
    assert parent.check_password(DEMO_PASSWORD)
    for mode in (ALL, PRIMARY):
        assert pupils_visible_to(parent, mode=mode).count() == 2
    for user in (admin, teacher, parent):
        assert user.email in second.getvalue()


def test_demo_refuses_a_mirror_holding_another_school(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    real = sync_mis([FIXTURES / "ctf" / "ctf19_sims_gryphon_y7_2_students.xml"], trigger="command")
    assert real.status == SyncRun.Status.SUCCEEDED
    with pytest.raises(CommandError, match="not the generated demo school"):
        call_command("demo", stdout=StringIO())
    assert not User.objects.exists()
    assert not (tmp_path / "demo").exists()
