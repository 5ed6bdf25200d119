"""The timetable CSV importer: staff, groups, memberships, and its located problems."""

from pathlib import Path

import pytest

from schoolgate.mis.importers import detect_format, timetable
from schoolgate.mis.models import GroupMembership, GroupTeacher, Staff, SyncRun, TeachingGroup
from schoolgate.mis.snapshot import GroupRow, InvalidSource, StaffRow
from schoolgate.mis.sync import sync_mis

FIXTURES = Path(__file__).parent / "fixtures"
TIMETABLE = FIXTURES / "timetable"
HEADER = ",".join(timetable.COLUMNS)


def read(name: str):
    return timetable.read(TIMETABLE / name, name=name)


def problems_of(path: Path) -> list:
    with pytest.raises(InvalidSource) as caught:
        timetable.read(path, name=path.name)
    return caught.value.problems


def write_csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "made.csv"
    path.write_text("\n".join((header, *lines)) + "\n", encoding="utf-8")
    return path


def test_timetable_gives_staff_groups_memberships_and_teachers():
    snapshot = read("timetable.csv")

    assert snapshot.source_format == "timetable" and snapshot.full
    assert snapshot.covers == {"staff", "groups:registration", "groups:class"}
    assert snapshot.pupils == {} and snapshot.contacts == {}
    assert snapshot.groups == {
        "7AB": GroupRow("7AB", "registration", "7AB", "", 7),
        "7MA1": GroupRow("7MA1", "class", "7 Maths set 1", "Mathematics", 7),
        "RCA": GroupRow("RCA", "registration", "Reception Acorns", "", 0),
        "10FR2": GroupRow("10FR2", "class", "10 French set 2", "French", 10),
    }
    assert snapshot.memberships == {
        ("7AB", "A123456789012"),
        ("7AB", "C123456789012"),
        ("7MA1", "A123456789012"),
        ("7MA1", "Z999999999999"),
        ("RCA", "B123456789012"),
    }
    assert snapshot.group_teachers == {
        ("7AB", "T001"),
        ("7MA1", "T001"),
        ("7MA1", "T002"),
        ("RCA", "T002"),
    }


def test_staff_details_come_from_any_of_their_rows():
    staff = read("timetable.csv").staff

    assert staff["T001"] == StaffRow(
        "T001", "Alan", "Brook", "Mr", "a.brook@school.example", "Form tutor"
    )
    # T002's email differs only in case on a later line: no conflict, first kept.
    assert staff["T002"].email == "C.Dunn@School.example"
    assert staff["T002"].title == "Ms"


def test_teacher_row_without_a_group_lists_staff_who_teach_no_group():
    snapshot = read("timetable.csv")

    assert snapshot.staff["T003"].role == "SENCO"
    assert not any(staff_id == "T003" for _, staff_id in snapshot.group_teachers)


def test_group_with_no_members_is_kept():
    snapshot = read("timetable.csv")

    assert "10FR2" in snapshot.groups
    assert not any(group == "10FR2" for group, _ in snapshot.memberships)


def test_columns_are_read_by_name_in_any_order_and_case():
    snapshot = read("reordered_columns.csv")

    assert snapshot.staff["T010"].surname == "Hale"
    assert snapshot.groups["8C"].kind == "registration"
    assert snapshot.memberships == {("8C", "A123456789012")}
    assert snapshot.covers == {"staff", "groups:registration"}


def test_bom_and_crlf_are_accepted():
    raw = (TIMETABLE / "timetable.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw

    assert len(read("timetable.csv").groups) == 4


def test_detect_format_recognises_a_timetable_by_its_header():
    assert detect_format(TIMETABLE / "timetable.csv", name="timetable.csv") == "timetable"


def test_missing_required_column_is_a_problem_on_line_one():
    (problem,) = problems_of(TIMETABLE / "missing_column.csv")

    assert (problem.line, problem.field) == (1, "group_name")
    assert "missing" in problem.message


def test_bad_types_and_year_groups_are_problems_with_line_and_field():
    problems = problems_of(TIMETABLE / "bad_values.csv")
    located = {(p.line, p.field) for p in problems}

    assert (3, "group_type") in located
    assert (4, "year_group") in located
    assert (5, "member_type") in located
    bad_type = next(p for p in problems if p.line == 3)
    assert "'form' is not one of: registration, class" in bad_type.message


def test_same_group_with_a_different_name_or_type_is_a_problem():
    problems = problems_of(TIMETABLE / "conflicting_group.csv")

    assert {(p.line, p.field) for p in problems} == {(4, "group_type"), (4, "group_name")}
    name = next(p for p in problems if p.field == "group_name")
    assert "'7 AB Maths' differs from '7AB'" in name.message and "line 2" in name.message


def test_staff_member_with_conflicting_names_is_a_problem(tmp_path):
    path = write_csv(
        tmp_path,
        "7AB,registration,7AB,,7,teacher,T001,Mr,Alan,Brook,,",
        "7MA,class,7 Maths,Maths,7,teacher,T001,Mr,Alan,Brooks,,",
    )

    (problem,) = problems_of(path)
    assert (problem.line, problem.field) == (3, "surname")


def test_duplicate_identical_rows_are_harmless(tmp_path):
    row = "7AB,registration,7AB,,7,teacher,T001,Mr,Alan,Brook,,"
    path = write_csv(tmp_path, row, row, "7AB,registration,7AB,,7,pupil,P1,,,,,")

    snapshot = timetable.read(path, name="made.csv")
    assert snapshot.group_teachers == {("7AB", "T001")}
    assert len(snapshot.staff) == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (",,,,,pupil,P1,,,,,", "group_id"),  # a pupil must be in a group
        ("7AB,registration,7AB,,7,teacher,,,,,,", "member_id"),
        ("7AB,registration,7AB,,7,,P1,,,,,", "member_type"),
        (",,,,,,,,,Brook,,", "group_id"),  # says nothing
    ],
)
def test_rows_that_cannot_be_placed_are_problems(tmp_path, line, field):
    path = write_csv(tmp_path, "7AB,registration,7AB,,7,teacher,T001,Mr,Alan,Brook,,", line)

    problems = problems_of(path)
    assert (3, field) in {(p.line, p.field) for p in problems}


def test_teacher_with_no_name_on_any_line_is_a_problem(tmp_path):
    (problem,) = problems_of(write_csv(tmp_path, "7AB,registration,7AB,,7,teacher,T001,Mr,,,,"))

    assert problem.line == 2 and "T001" in problem.message


def test_file_with_no_teachers_is_refused(tmp_path):
    (problem,) = problems_of(write_csv(tmp_path, "7AB,registration,7AB,,7,pupil,P1,,,,,"))

    assert "no teachers" in problem.message


def test_latin1_file_is_not_utf8_at_its_line():
    (problem,) = problems_of(TIMETABLE / "latin1.csv")

    assert problem.line == 3 and "not UTF-8" in problem.message


def test_utf16_file_is_not_utf8(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + "\n").encode("utf-16"))

    (problem,) = problems_of(path)
    assert problem.line == 1 and "not UTF-8" in problem.message


def test_value_too_long_for_the_mirror_is_a_problem(tmp_path):
    path = write_csv(tmp_path, f"7AB,registration,{'x' * 101},,7,teacher,T001,Mr,Alan,Brook,,")

    (problem,) = problems_of(path)
    assert (problem.line, problem.field) == (2, "group_name")


def test_a_second_timetable_retires_what_it_no_longer_lists_of_the_kinds_it_has(tmp_path):
    first = sync_mis([TIMETABLE / "timetable.csv"], trigger="command")
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    # No pupils loaded: memberships are skipped with a warning, not an error.
    assert GroupMembership.objects.count() == 0 and first.warnings
    assert (Staff.objects.count(), TeachingGroup.objects.count()) == (3, 4)
    assert GroupTeacher.objects.count() == 4

    only_forms = write_csv(tmp_path, "7AB,registration,7AB,,7,teacher,T001,Mr,Alan,Brook,,")
    second = sync_mis([only_forms], trigger="command")

    assert second.status == SyncRun.Status.SUCCEEDED, second.errors
    assert set(Staff.objects.filter(current=True).values_list("mis_id", flat=True)) == {"T001"}
    current = TeachingGroup.objects.filter(current=True)
    # Registration groups are replaced; a file with no classes says nothing of classes.
    assert set(current.values_list("mis_id", flat=True)) == {"7AB", "7MA1", "10FR2"}
    assert set(GroupTeacher.objects.values_list("group__mis_id", "staff__mis_id")) == {
        ("7AB", "T001"),
        ("7MA1", "T001"),
        ("7MA1", "T002"),
    }
