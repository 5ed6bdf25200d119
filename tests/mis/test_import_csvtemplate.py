"""The Schoolgate CSV template (pupils-contacts.csv): columns, encodings, errors, and sync."""

from datetime import date
from pathlib import Path

import pytest

from schoolgate.mis.importers import csvtemplate
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

FIXTURES = Path(__file__).parent / "fixtures" / "csvtemplate"
FULL = FIXTURES / "pupils-contacts-full.csv"
TEMPLATE = Path(csvtemplate.__file__).parent.parent / "csv_templates" / "pupils-contacts.csv"
HEADER = ",".join(csvtemplate.COLUMNS)
PUPIL = "1001,,Amelia,Okafor,,,2013-04-17,7,7A"
CONTACT = "C501,Mrs,Grace,Okafor,grace@example.org,,Mother,yes,1,no"


def read(path: Path):
    return csvtemplate.read(path, name=path.name)


def write(tmp_path: Path, *rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "pupils.csv"
    path.write_bytes("\r\n".join((header, *rows)).encode(encoding) + b"\r\n")
    return path


def problems_of(path: Path) -> list:
    with pytest.raises(InvalidSource) as raised:
        read(path)
    return raised.value.problems


def located(problems) -> list[tuple]:
    return [(p.line, p.field) for p in problems]


# What a good file gives


def test_every_column_is_read():
    snapshot = read(FULL)

    assert snapshot.pupils["1001"].__dict__ == {
        "mis_id": "1001",
        "upn": "K801200001001",
        "legal_forename": "Amelia",
        "legal_surname": "Okafor",
        "preferred_forename": "Millie",
        "preferred_surname": "",
        "date_of_birth": date(2013, 4, 17),
        "year_group": 7,
    }
    assert snapshot.pupils["1002"].date_of_birth == date(2011, 11, 2)  # DD/MM/YYYY
    assert snapshot.pupils["1003"].year_group == 0  # R
    contact = snapshot.contacts["C501"]
    assert (contact.title, contact.forename, contact.surname, contact.email) == (
        "Mrs",
        "Grace",
        "Okafor",
        "grace.okafor@example.org",
    )
    assert contact.phones == (("", "07700900123"),)
    link = snapshot.links[("1001", "C501")]
    assert (link.relationship, link.parental_responsibility, link.priority, link.court_order) == (
        "Mother",
        True,
        1,
        False,
    )
    carer = snapshot.links[("1003", "C504")]
    assert (carer.parental_responsibility, carer.priority, carer.court_order) == (True, None, True)
    assert snapshot.links[("1002", "C503")].parental_responsibility is False
    assert (snapshot.source_format, snapshot.full, snapshot.warnings) == ("csv", True, [])


def test_a_contact_shared_by_siblings_is_one_contact_with_a_link_to_each():
    snapshot = read(FULL)

    assert len(snapshot.contacts) == 4
    assert [key for key in snapshot.links if key[1] == "C501"] == [
        ("1001", "C501"),
        ("1002", "C501"),
    ]


def test_a_pupil_with_no_contacts_has_one_row_and_no_links():
    snapshot = read(FULL)

    assert "1004" in snapshot.pupils
    assert not [key for key in snapshot.links if key[0] == "1004"]


def test_registration_groups_become_groups_with_members_and_the_pupils_year():
    snapshot = read(FULL)

    assert {g.mis_id: (g.kind, g.name, g.year_group) for g in snapshot.groups.values()} == {
        "7A": ("registration", "7A", 7),
        "9B": ("registration", "9B", 9),
        "RA": ("registration", "RA", 0),
    }
    assert snapshot.memberships == {
        ("7A", "1001"),
        ("7A", "1004"),
        ("9B", "1002"),
        ("RA", "1003"),
    }
    assert snapshot.covers == {"pupils", "contacts", "links", "groups:registration"}


def test_a_tutor_group_spanning_years_has_no_year_group(tmp_path):
    path = write(tmp_path, "1,,A,B,,,,7,Vert1", "2,,C,D,,,,8,Vert1")

    assert read(path).groups["Vert1"].year_group is None


def test_without_registration_groups_groups_are_not_covered(tmp_path):
    path = write(tmp_path, "1,Amelia,Okafor", header="pupil_id,legal_forename,legal_surname")

    snapshot = read(path)

    assert snapshot.covers == {"pupils", "contacts", "links"}
    assert snapshot.groups == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("True", True),
        ("1", True),
        ("no", False),
        ("N", False),
        ("false", False),
        ("0", False),
        ("", False),
    ],
)
def test_booleans_accept_yes_no_true_false_y_n_1_0_and_blank_is_no(tmp_path, text, value):
    path = write(tmp_path, f"{PUPIL},C501,,Grace,Okafor,,,Mother,{text},1,{text}")

    link = read(path).links[("1001", "C501")]

    assert (link.parental_responsibility, link.court_order) == (value, value)


def test_windows_1252_file_is_read_and_the_warning_says_so(tmp_path):
    path = write(tmp_path, "1,,Zoë,O’Brien,,,,7,", "2,,Siân,Ørsted,,,,8,", encoding="cp1252")

    snapshot = read(path)

    assert snapshot.pupils["1"].legal_forename == "Zoë"
    assert snapshot.pupils["1"].legal_surname == "O’Brien"
    assert snapshot.pupils["2"].legal_forename == "Siân"
    assert len(snapshot.warnings) == 1
    assert "Windows-1252" in snapshot.warnings[0]


def test_utf8_with_a_bom_and_crlf_is_read_without_warning(tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n1,,Zoë,Smith,,,,7,\r\n".encode())

    snapshot = read(path)

    assert snapshot.pupils["1"].legal_forename == "Zoë"
    assert snapshot.warnings == []


def test_a_file_neither_utf8_nor_windows_1252_names_the_line(tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_bytes(f"{HEADER}\n1,,Amelia,Okafor,,,,7,\n".encode() + b"2,,B\x81n,Shaw,,,,7,\n")

    [problem] = problems_of(path)

    assert problem.line == 3
    assert "0x81" in problem.message


def test_the_downloadable_template_reads_cleanly():
    snapshot = read(TEMPLATE)

    assert len(snapshot.pupils) == 1
    assert len(snapshot.links) == 2
    assert snapshot.warnings == []


# Errors: what and where, and nothing read


def test_missing_required_column_is_a_problem(tmp_path):
    path = write(tmp_path, "1,Amelia", header="pupil_id,legal_forename")

    assert located(problems_of(path)) == [(1, "legal_surname")]


def test_missing_required_values_are_problems_naming_line_and_column(tmp_path):
    path = write(
        tmp_path,
        "1,,Amelia,,,,,7,",
        "2,,Ben,Okafor,,,,7,,C1,,,Okafor,,,,yes,,",
    )

    assert located(problems_of(path)) == [(2, "legal_surname"), (3, "contact_forename")]


def test_bad_date_is_a_problem(tmp_path):
    path = write(tmp_path, "1,,Amelia,Okafor,,,31/02/2013,7,", "2,,Ben,Okafor,,,2013-13-01,7,")

    problems = problems_of(path)

    assert located(problems) == [(2, "date_of_birth"), (3, "date_of_birth")]
    assert "YYYY-MM-DD or DD/MM/YYYY" in problems[0].message


def test_bad_boolean_is_a_problem(tmp_path):
    path = write(tmp_path, f"{PUPIL},C501,,Grace,Okafor,,,Mother,maybe,1,")

    [problem] = problems_of(path)

    assert (problem.line, problem.field) == (2, "parental_responsibility")
    assert "maybe" in problem.message


@pytest.mark.parametrize("priority", ["0", "-1", "first", "1.5"])
def test_priority_must_be_a_positive_whole_number(tmp_path, priority):
    path = write(tmp_path, f"{PUPIL},C501,,Grace,Okafor,,,Mother,yes,{priority},")

    assert located(problems_of(path)) == [(2, "priority")]


def test_bad_year_group_is_a_problem(tmp_path):
    path = write(tmp_path, "1,,Amelia,Okafor,,,,Year 7,")

    assert located(problems_of(path)) == [(2, "year_group")]


def test_same_pupil_with_different_details_is_a_problem_naming_both_lines(tmp_path):
    path = write(
        tmp_path,
        f"{PUPIL},{CONTACT}",
        "1001,,Amelia,Okafor,,,2013-04-18,7,7A,C502,Mr,Daniel,Okafor,,,Father,yes,2,",
    )

    [problem] = problems_of(path)

    assert (problem.line, problem.field) == (3, "date_of_birth")
    assert "line 2" in problem.message and "2013-04-17" in problem.message


def test_same_contact_with_different_details_is_a_problem(tmp_path):
    path = write(
        tmp_path,
        f"{PUPIL},{CONTACT}",
        "1002,,Ben,Okafor,,,,9,9B,C501,Mrs,Grace,Okafor,other@example.org,,Mother,yes,1,",
    )

    assert located(problems_of(path)) == [(3, "contact_email")]


def test_same_pupil_and_contact_twice_is_a_problem(tmp_path):
    path = write(tmp_path, f"{PUPIL},{CONTACT}", f"{PUPIL},{CONTACT}")

    [problem] = problems_of(path)

    assert (problem.line, problem.field) == (3, "contact_id")
    assert "line 2" in problem.message


def test_contact_details_without_contact_id_are_a_problem(tmp_path):
    path = write(tmp_path, f"{PUPIL},,,Grace,Okafor,,,,,,")

    assert located(problems_of(path)) == [(2, "contact_forename")]


def test_upn_must_be_thirteen_letters_and_digits_and_unique(tmp_path):
    path = write(
        tmp_path,
        "1,K80120000100,Amelia,Okafor,,,,7,",
        "2,K801200001002,Ben,Okafor,,,,7,",
        "3,k801200001002,Chloe,Hart,,,,7,",
    )

    problems = problems_of(path)

    assert located(problems) == [(2, "upn"), (4, "upn")]
    assert "pupil 2 on line 3" in problems[1].message


def test_a_column_not_in_the_template_is_a_problem(tmp_path):
    header = "pupil_id,legal_forename,legal_surname,contact_emial"
    path = write(tmp_path, "1,Amelia,Okafor,a@example.org", header=header)

    assert located(problems_of(path)) == [(1, "contact_emial")]


def test_a_value_too_long_for_the_mirror_is_a_problem(tmp_path):
    path = write(tmp_path, f"1,,{'A' * 101},Okafor,,,,7,")

    [problem] = problems_of(path)

    assert (problem.line, problem.field) == (2, "legal_forename")
    assert "101 characters" in problem.message


def test_every_problem_in_the_file_is_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "1,,Amelia,,,,2013-02-30,7,",
        "2,,Ben,Okafor,,,,7,,C1,,Dan,Okafor,,,,perhaps,0,",
    )

    assert located(problems_of(path)) == [
        (2, "legal_surname"),
        (2, "date_of_birth"),
        (3, "parental_responsibility"),
        (3, "priority"),
    ]


# Through the sync engine


def mirror_state() -> dict[str, list]:
    """Every mirror row's values, to prove a failed sync changed nothing at all."""
    tables = (Pupil, Contact, PupilContact, Staff, TeachingGroup, GroupMembership, GroupTeacher)
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in tables}


def test_sync_fills_the_mirror_from_the_template():
    run = sync_mis([FULL], trigger="command")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.source_format == "csv"
    assert Pupil.objects.count() == 4
    assert Contact.objects.count() == 4
    assert PupilContact.objects.count() == 5
    grace = Contact.objects.get(mis_id="C501")
    assert sorted(grace.pupil_links.values_list("pupil__mis_id", "priority")) == [
        ("1001", 1),
        ("1002", 1),
    ]
    assert sorted(
        TeachingGroup.objects.get(mis_id="7A").pupils.values_list("mis_id", flat=True)
    ) == ["1001", "1004"]


def test_second_identical_sync_changes_nothing():
    assert sync_mis([FULL], trigger="command").status == SyncRun.Status.SUCCEEDED
    before = mirror_state()

    second = sync_mis([FULL], trigger="command")

    assert second.status == SyncRun.Status.SUCCEEDED
    assert all(n == 0 for counts in second.counts.values() for n in counts.values()), second.counts
    assert mirror_state() == before


def test_bad_file_fails_and_leaves_the_mirror_unchanged(tmp_path):
    assert sync_mis([FULL], trigger="command").status == SyncRun.Status.SUCCEEDED
    before = mirror_state()
    bad = write(tmp_path, f"{PUPIL},{CONTACT}", f"{PUPIL},{CONTACT}")

    run = sync_mis([bad], trigger="command")

    assert run.status == SyncRun.Status.FAILED
    assert [(e["file"], e["line"], e["field"]) for e in run.errors] == [
        ("pupils.csv", 3, "contact_id")
    ]
    assert mirror_state() == before
