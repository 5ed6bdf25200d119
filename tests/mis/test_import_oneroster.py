"""OneRoster 1.1 / 1.2 bundles: real fixtures, hand-written UK bundles, errors, and sync."""

import shutil
import zipfile
from pathlib import Path

import pytest

from schoolgate.mis.importers import oneroster
from schoolgate.mis.importers.common import Budget
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
from schoolgate.mis.snapshot import InvalidSource
from schoolgate.mis.sync import sync_mis

FIXTURES = Path(__file__).parent / "fixtures" / "oneroster"
REAL = sorted(p.name for p in FIXTURES.iterdir() if p.name.startswith("or1"))
UK11 = "uk_v1p1_secondary"
UK12 = "uk_v1p2_roles"


def read(folder: str | Path):
    path = FIXTURES / folder if isinstance(folder, str) else folder
    return oneroster.read(path, name=path.name)


def problems_of(path: Path) -> list:
    with pytest.raises(InvalidSource) as raised:
        oneroster.read(path, name=path.name)
    return raised.value.problems


def bundle(tmp_path: Path, base: str = UK11, **files: str) -> Path:
    """A copy of a fixture bundle with some files replaced (users="..." -> users.csv)."""
    folder = tmp_path / base
    shutil.copytree(FIXTURES / base, folder)
    for stem, text in files.items():
        (folder / f"{stem}.csv").write_text(text, encoding="utf-8")
    return folder


def zip_of(folder: Path, target: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, prefix + file.name)
    return target


NO_ENROLLMENTS = "classSourcedId,userSourcedId,role\n"


def users_csv(*rows: str) -> str:
    header = "sourcedId,status,role,givenName,familyName,identifier,email,agentSourcedIds,grades"
    return "\n".join((header, *rows)) + "\n"


def roles_by_kind(snapshot) -> dict[str, int]:
    return {
        "pupils": len(snapshot.pupils),
        "contacts": len(snapshot.contacts),
        "links": len(snapshot.links),
        "staff": len(snapshot.staff),
        "groups": len(snapshot.groups),
        "memberships": len(snapshot.memberships),
        "group_teachers": len(snapshot.group_teachers),
    }


# Real fixtures


def test_moodle_full_bundle_links_parent_from_own_side_and_skips_teacher_agents():
    snapshot = read("or11_moodle_Test_full_data_set")

    assert roles_by_kind(snapshot) == {
        "pupils": 3,
        "contacts": 1,
        "links": 1,
        "staff": 2,
        "groups": 1,  # the other class is tobedeleted
        "memberships": 1,
        "group_teachers": 1,
    }
    link = snapshot.links[("usr-222-66778899", "usr-222-1234561")]
    assert (link.relationship, link.parental_responsibility, link.priority) == ("parent", True, 1)
    assert snapshot.pupils["usr-222-66778899"].year_group == 12
    assert snapshot.contacts["usr-222-1234561"].phones == (("M", "6039876543"),)
    assert snapshot.full is True
    assert snapshot.covers == {
        "pupils",
        "contacts",
        "links",
        "staff",
        "groups:registration",
        "groups:class",
    }
    # Students' agentSourcedIds name teachers: not loaded as links, but said.
    assert sum("not a parent, guardian or relative" in w for w in snapshot.warnings) == 3
    assert any("enrolled as a student but is not one" in w for w in snapshot.warnings)


def test_moodle_minimal_bundle_skips_parent_linked_to_nobody():
    snapshot = read("or11_moodle_Test_minimal_data_set")

    assert roles_by_kind(snapshot) == {
        "pupils": 3,
        "contacts": 0,
        "links": 0,
        "staff": 2,
        "groups": 2,
        "memberships": 2,
        "group_teachers": 2,
    }
    assert snapshot.groups["cls-222-123478"].kind == "registration"
    assert any(
        "users.csv, line 4: the contact is linked to no pupil" in w for w in snapshot.warnings
    )


def test_oatsa_variant_reads_grade_agents_and_vendor_columns():
    snapshot = read("or11_oatsa_OneRosterv1p1BaseCSV")

    assert roles_by_kind(snapshot) == {
        "pupils": 2,
        "contacts": 0,
        "links": 0,
        "staff": 0,
        "groups": 3,
        "memberships": 3,
        "group_teachers": 0,
    }
    assert snapshot.groups["class1"].year_group == 2  # from `grade`, not `grades`
    assert snapshot.pupils["user1"].upn == ""  # 'user identifier' is no UPN
    assert snapshot.warnings == []


def test_delta_manifest_makes_a_partial_snapshot_from_roles_csv():
    snapshot = read("or12_moodle_oneroster_test_data")

    assert snapshot.full is False
    assert list(snapshot.pupils) == ["USER_0"]  # the role is in roles.csv only
    assert snapshot.memberships == {("CLASS_001", "USER_0")}


def test_v1p2_full_dataset_takes_secondary_guardian_role_and_misspelt_preferred_names():
    snapshot = read("or12_moodle_v1p2_full_dataset")

    assert roles_by_kind(snapshot) == {
        "pupils": 3,
        "contacts": 1,
        "links": 2,
        "staff": 2,
        "groups": 1,
        "memberships": 1,
        "group_teachers": 1,
    }
    # usr-222-123456 is a teacher (primary) and a guardian (secondary): staff and contact.
    assert "usr-222-123456" in snapshot.staff
    assert {key[0] for key in snapshot.links} == {"usr-222-66778899", "usr-222-1234561232"}
    assert all(link.relationship == "guardian" for link in snapshot.links.values())
    assert all(link.priority == 1 for link in snapshot.links.values())
    assert snapshot.pupils["usr-222-66778899"].preferred_forename == "MJ"
    assert snapshot.pupils["usr-222-1234561232"].preferred_surname == "Charlie"


@pytest.mark.parametrize("folder", REAL + [UK11, UK12])
@pytest.mark.parametrize("prefix", ["", "export/"])
def test_zip_of_a_bundle_reads_the_same_as_the_folder(tmp_path, folder, prefix):
    from_folder = read(folder)
    from_zip = read(zip_of(FIXTURES / folder, tmp_path / f"{folder}.zip", prefix=prefix))

    for kind in ("pupils", "contacts", "links", "staff", "groups", "memberships"):
        assert getattr(from_zip, kind) == getattr(from_folder, kind), kind
    assert from_zip.group_teachers == from_folder.group_teachers
    assert (from_zip.covers, from_zip.full) == (from_folder.covers, from_folder.full)
    assert len(from_zip.warnings) == len(from_folder.warnings)


# Hand-written UK bundles


def test_links_stated_on_either_side_are_made_once_with_priority_in_student_order():
    snapshot = read(UK11)

    priorities = {key: link.priority for key, link in snapshot.links.items()}
    assert priorities == {
        # s-1 lists p-1, p-2; p-1 also lists s-1 (one link); r-1 lists s-1 itself.
        ("s-1", "p-1"): 1,
        ("s-1", "p-2"): 2,
        ("s-1", "r-1"): 3,
        ("s-2", "p-2"): 1,
        ("s-2", "r-1"): 2,
        ("s-3", "g-1"): 1,  # stated only on the guardian's side
    }


def test_parents_and_guardians_hold_pr_and_relatives_do_not():
    links = read(UK11).links

    assert links[("s-1", "p-1")].parental_responsibility is True
    assert links[("s-3", "g-1")].parental_responsibility is True
    assert links[("s-3", "g-1")].relationship == "guardian"
    assert links[("s-1", "r-1")].parental_responsibility is False
    assert links[("s-1", "r-1")].relationship == "relative"


def test_contact_details_come_from_users_with_sms_as_mobile():
    contact = read(UK11).contacts["p-1"]

    assert (contact.forename, contact.surname, contact.email) == (
        "Grace",
        "Okafor",
        "grace.okafor@example.org",
    )
    assert contact.phones == (("M", "07700900123"), ("", "01614960000"))
    assert read(UK11).contacts["p-2"].phones == (("M", "07700900456"),)  # sms = phone


def test_upn_is_taken_from_identifier_only_when_it_looks_like_one():
    pupils = read(UK11).pupils

    assert pupils["s-1"].upn == "K801200001001"
    assert pupils["s-2"].upn == "K801200001002"  # upper-cased
    assert pupils["s-3"].upn == ""  # 'chloe.hart'


@pytest.mark.parametrize(
    ("grade", "year"),
    [
        ("7", 7),
        ("07", 7),
        ("Year 7", 7),
        ("Y7", 7),
        ("yr 11", 11),
        ("13", 13),
        ("R", 0),
        ("Reception", 0),
        ("KG", 0),
        ("PK", -1),
        ("Other", None),
        ("UG", None),
        ("15", None),
        ("", None),
    ],
)
def test_grades_map_to_national_curriculum_years(grade, year):
    assert oneroster.grade_to_year(grade) == year


def test_unknown_grade_leaves_year_empty_with_a_warning():
    snapshot = read(UK11)

    assert snapshot.pupils["s-3"].year_group == 0  # R
    assert snapshot.pupils["s-5"].year_group is None
    assert any(
        "users.csv, line 10: the grade 'Other' is not a UK year group" in w
        for w in snapshot.warnings
    )


def test_tobedeleted_users_classes_and_enrollments_are_ignored():
    snapshot = read(UK11)

    assert "s-4" not in snapshot.pupils
    assert ("s-4", "p-1") not in snapshot.links  # p-1 names s-4: skipped, no problem
    assert "c-old" not in snapshot.groups
    assert ("c-ma", "s-2") not in snapshot.memberships  # enrollment e-11
    assert ("c-7a", "s-4") not in snapshot.memberships


def test_homeroom_is_a_registration_group_and_scheduled_a_class_with_its_first_subject():
    groups = read(UK11).groups

    assert (groups["c-7a"].kind, groups["c-7a"].name, groups["c-7a"].year_group) == (
        "registration",
        "7A",
        7,
    )
    assert (groups["c-ma"].kind, groups["c-ma"].subject, groups["c-ma"].year_group) == (
        "class",
        "Mathematics",
        7,
    )
    assert groups["c-sci"].year_group is None  # grades "07,09": a mixed-year class


def test_enrollments_give_memberships_and_teachers_and_an_aide_who_teaches_is_staff():
    snapshot = read(UK11)

    assert snapshot.memberships == {
        ("c-7a", "s-1"),
        ("c-9b", "s-2"),
        ("c-ma", "s-1"),
        ("c-sci", "s-1"),
        ("c-sci", "s-2"),
    }
    assert snapshot.group_teachers == {("c-7a", "t-1"), ("c-ma", "t-2"), ("c-sci", "a-1")}
    assert {sid: s.role for sid, s in snapshot.staff.items()} == {
        "t-1": "teacher",
        "t-2": "teacher",
        "a-1": "aide",
    }
    assert "x-1" not in snapshot.staff  # an administrator who teaches nothing


def test_roles_csv_gives_primary_and_secondary_roles_and_falls_back_to_users_role():
    snapshot = read(UK12)

    assert "t-1" in snapshot.staff and "t-1" in snapshot.contacts  # teacher and parent
    assert "p-1" not in snapshot.staff  # its teacher role is tobedeleted
    assert snapshot.links[("s-1", "r-1")].relationship == "relative"  # users.csv role
    assert [key[1] for key in snapshot.links] == ["t-1", "p-1", "r-1"]
    assert [link.priority for link in snapshot.links.values()] == [1, 2, 3]
    assert snapshot.pupils["s-1"].preferred_forename == "Millie"
    assert snapshot.contacts["p-1"].surname == "Okafor"  # preferredFamilyName
    assert snapshot.covers == {"pupils", "contacts", "links", "staff"}  # no classes.csv


# Errors


def test_agent_naming_no_user_is_a_problem_with_file_line_and_field(tmp_path):
    folder = bundle(
        tmp_path,
        users=users_csv(
            "s-1,active,student,Amelia,Okafor,,,p-9,07",
            "p-1,active,parent,Grace,Okafor,,,s-1,",
        ),
        enrollments=NO_ENROLLMENTS,
    )

    [problem] = problems_of(folder)

    assert problem.file.endswith("users.csv")
    assert (problem.line, problem.field) == (2, "agentSourcedIds")
    assert "p-9" in problem.message


def test_unknown_agent_in_the_non_conformant_agents_column_names_that_column(tmp_path):
    text = "sourcedId,role,givenName,familyName,agents\ns-1,student,A,B,nobody\n"
    folder = bundle(tmp_path, users=text, enrollments=NO_ENROLLMENTS)

    problems = problems_of(folder)

    assert [(p.line, p.field) for p in problems if "nobody" in p.message] == [(2, "agents")]


def test_duplicate_sourced_id_is_a_problem_naming_both_lines(tmp_path):
    folder = bundle(
        tmp_path,
        users=users_csv(
            "s-1,active,student,Amelia,Okafor,,,,07",
            "p-1,active,parent,Grace,Okafor,,,s-1,",
            "s-1,active,student,Ben,Okafor,,,,09",
        ),
        enrollments=NO_ENROLLMENTS,
    )

    [problem] = problems_of(folder)

    assert (problem.line, problem.field) == (4, "sourcedId")
    assert "line 2" in problem.message


def test_enrollment_naming_unknown_class_or_user_is_a_problem_with_its_line(tmp_path):
    enrollments = (
        "sourcedId,classSourcedId,userSourcedId,role\n"
        "e-1,c-7a,s-1,student\n"
        "e-2,c-nope,s-1,student\n"
        "e-3,c-7a,s-nope,student\n"
    )
    folder = bundle(tmp_path, enrollments=enrollments)

    problems = problems_of(folder)

    assert [(p.file.rsplit("/", 1)[-1], p.line, p.field) for p in problems] == [
        ("enrollments.csv", 3, "classSourcedId"),
        ("enrollments.csv", 4, "userSourcedId"),
    ]


def test_unknown_ids_in_a_delta_bundle_are_warnings_not_problems(tmp_path):
    manifest = "propertyName,value\nfile.users,delta\nfile.enrollments,delta\n"
    enrollments = "classSourcedId,userSourcedId,role\nc-7a,s-nope,student\n"
    users = users_csv("s-1,active,student,Amelia,Okafor,,,p-9,07")
    folder = bundle(tmp_path, manifest=manifest, users=users, enrollments=enrollments)

    snapshot = read(folder)

    assert snapshot.full is False
    assert sum("(skipped in a delta bundle)" in w for w in snapshot.warnings) == 2


def test_missing_required_column_is_a_problem(tmp_path):
    folder = bundle(tmp_path, users="sourcedId,role,familyName\ns-1,student,Okafor\n")

    [problem] = problems_of(folder)

    assert (problem.line, problem.field) == (1, "givenname")
    assert "missing" in problem.message


def test_student_without_a_name_is_a_problem(tmp_path):
    users = users_csv("s-1,active,student,,Okafor,,,,07", "t-1,active,teacher,,,,,,")
    folder = bundle(tmp_path, users=users, enrollments=NO_ENROLLMENTS)

    assert [(p.line, p.field) for p in problems_of(folder)] == [(2, "givenName")]


def test_users_without_role_column_or_roles_csv_is_a_problem(tmp_path):
    users = "sourcedId,givenName,familyName\ns-1,Amelia,Okafor\n"
    folder = bundle(tmp_path, users=users, enrollments=NO_ENROLLMENTS)

    [problem] = problems_of(folder)

    assert (problem.line, problem.field) == (1, "role")


def test_unknown_class_type_is_a_problem(tmp_path):
    classes = "sourcedId,title,classType\nc-7a,7A,tutor\n"
    folder = bundle(tmp_path, classes=classes, enrollments=NO_ENROLLMENTS)

    [problem] = problems_of(folder)

    assert (problem.line, problem.field) == (2, "classType")


def test_every_problem_in_every_file_is_reported_at_once(tmp_path):
    folder = bundle(
        tmp_path,
        users=users_csv("s-1,active,student,Amelia,Okafor,,,p-9,07", "s-1,,student,B,C,,,,"),
        classes="sourcedId,title,classType\nc-1,,homeroom\n",
        enrollments="classSourcedId,userSourcedId,role\nc-2,s-1,student\n",
    )

    problems = problems_of(folder)

    assert {(p.file.rsplit("/", 1)[-1], p.line) for p in problems} == {
        ("users.csv", 2),
        ("users.csv", 3),
        ("classes.csv", 2),
        ("enrollments.csv", 2),
    }


def test_bundle_without_users_csv_is_refused(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "classes.csv").write_text("sourcedId,title,classType\n")

    [problem] = problems_of(folder)

    assert "users.csv" in problem.message


@pytest.mark.parametrize("member", ["../users.csv", "export/../../users.csv", "/etc/users.csv"])
def test_zip_with_a_path_leading_out_of_the_folder_is_refused(tmp_path, member):
    target = tmp_path / "evil.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(member, "sourcedId,role,givenName,familyName\n")

    [problem] = problems_of(target)

    assert problem.element == member
    assert not (tmp_path.parent / "users.csv").exists()


def test_zip_larger_than_the_cap_is_refused_before_reading(tmp_path):
    target = zip_of(FIXTURES / UK11, tmp_path / "big.zip")
    budget = Budget(file_bytes=10**9, total_bytes=1000, rows=10**6)

    with pytest.raises(InvalidSource) as raised:
        oneroster.read(target, name=target.name, budget=budget)
    [problem] = raised.value.problems

    assert "at most" in problem.message


def test_a_file_that_is_not_a_zip_is_a_clear_problem(tmp_path):
    target = tmp_path / "bundle.zip"
    target.write_text("sourcedId\n")

    [problem] = problems_of(target)

    assert "zip file cannot be read" in problem.message


# Through the sync engine


def mirror_state() -> dict[str, list]:
    """Every mirror row's values, to prove a failed sync changed nothing at all."""
    tables = (Pupil, Contact, PupilContact, Staff, TeachingGroup, GroupMembership, GroupTeacher)
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in tables}


def test_sync_fills_the_mirror_from_a_bundle():
    run = sync_mis([FIXTURES / UK11], trigger="command")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.source_format == "oneroster"
    assert Pupil.objects.count() == 4
    assert Contact.objects.count() == 4
    assert Staff.objects.count() == 3
    link = PupilContact.objects.get(pupil__mis_id="s-1", contact__mis_id="r-1")
    assert (link.parental_responsibility, link.priority) == (False, 3)
    tutor_group = TeachingGroup.objects.get(mis_id="c-7a")
    assert tutor_group.kind == "registration"
    assert list(tutor_group.pupils.values_list("mis_id", flat=True)) == ["s-1"]
    assert list(tutor_group.teachers.values_list("mis_id", flat=True)) == ["t-1"]


def test_second_identical_sync_changes_nothing(tmp_path):
    bundle_zip = zip_of(FIXTURES / UK11, tmp_path / "bundle.zip")
    first = sync_mis([bundle_zip], trigger="command")
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    before = mirror_state()

    second = sync_mis([bundle_zip], trigger="command")

    assert second.status == SyncRun.Status.SUCCEEDED
    assert all(n == 0 for counts in second.counts.values() for n in counts.values()), second.counts
    assert mirror_state() == before


def test_bad_bundle_fails_and_leaves_the_mirror_unchanged(tmp_path):
    assert sync_mis([FIXTURES / UK11], trigger="command").status == SyncRun.Status.SUCCEEDED
    before = mirror_state()
    users = users_csv("s-1,active,student,Amelia,Okafor,,,p-9,07")
    folder = bundle(tmp_path, users=users, enrollments=NO_ENROLLMENTS)

    run = sync_mis([folder], trigger="command")

    assert run.status == SyncRun.Status.FAILED
    assert [(e["line"], e["field"]) for e in run.errors] == [(2, "agentSourcedIds")]
    assert mirror_state() == before
