"""The CTF importer on real SIMS exports and hand-written files, then through the sync engine."""

from datetime import date
from pathlib import Path

import pytest

from schoolgate.mis.importers import ctf
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

FIXTURES = Path(__file__).parent / "fixtures"
CTF = FIXTURES / "ctf"
TIMETABLE = FIXTURES / "timetable" / "timetable.csv"
MIRROR = (Pupil, Contact, PupilContact, Staff, TeachingGroup, GroupMembership, GroupTeacher)


def read(name: str):
    return ctf.read(CTF / name, name=name)


def problems_of(path: Path) -> list:
    with pytest.raises(InvalidSource) as caught:
        ctf.read(path, name=path.name)
    return caught.value.problems


def write_ctf(tmp_path: Path, pupils: str, *, qualifier: str = "full") -> Path:
    """A minimal CTF around the given Pupil elements."""
    path = tmp_path / "made.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n'
        f"<Header><DocumentQualifier>{qualifier}</DocumentQualifier></Header>\n"
        f"<CTFpupilData>\n{pupils}\n</CTFpupilData>\n</CTfile>\n",
        encoding="utf-8",
    )
    return path


def pupil(upn: str = "A123456789012", *, inner: str = "", year: str = "7") -> str:
    return (
        f"<Pupil><UPN>{upn}</UPN><Surname>Lee</Surname><Forename>Kim</Forename>"
        f"<BasicDetails><NCyearActual>{year}</NCyearActual></BasicDetails>{inner}</Pupil>"
    )


def links_of(snapshot, upn: str) -> list:
    return [link for (pupil_id, _), link in snapshot.links.items() if pupil_id == upn]


def contact_named(snapshot, forename: str, surname: str) -> list:
    return [c for c in snapshot.contacts.values() if (c.forename, c.surname) == (forename, surname)]


# Real SIMS exports


def test_sims_two_pupils_give_their_contacts_pr_and_priority_by_order_value():
    snapshot = read("ctf19_sims_gryphon_y7_2_students.xml")

    assert (len(snapshot.pupils), len(snapshot.contacts), len(snapshot.links)) == (2, 7, 7)
    assert snapshot.full and snapshot.covers == {"pupils", "contacts", "links"}
    assert snapshot.source_format == "ctf"
    richie = links_of(snapshot, "G335311012004")
    # The file lists Orders 3, 4, 2, 1; the links come out by value.
    assert [link.priority for link in richie] == [1, 2, 3, 4]
    by_contact = {snapshot.contacts[link.contact_id].forename: link for link in richie}
    assert by_contact["Jeanie"].relationship == "PAM"
    assert by_contact["Jeanie"].parental_responsibility
    assert by_contact["Mac"].parental_responsibility
    assert not by_contact["Curvel"].parental_responsibility
    assert not by_contact["Marjery"].parental_responsibility
    assert not any(link.court_order for link in snapshot.links.values())
    assert sum(bool(c.email) for c in snapshot.contacts.values()) == 5


def test_sims_pupil_fields_are_read():
    lionel = read("ctf19_sims_gryphon_y7_2_students.xml").pupils["G335311012004"]

    assert lionel.upn == lionel.mis_id == "G335311012004"
    assert (lionel.legal_forename, lionel.legal_surname) == ("Lionel", "Richie")
    assert (lionel.preferred_forename, lionel.preferred_surname) == ("Lionel", "Richie")
    assert lionel.date_of_birth == date(2008, 11, 13)
    assert lionel.year_group == 6


def test_sims_contacts_without_relationship_keep_an_empty_one():
    snapshot = read("ctf19_sims_gryphon_y12.xml")

    assert (len(snapshot.pupils), len(snapshot.contacts), len(snapshot.links)) == (1, 4, 4)
    links = links_of(snapshot, "Z801209809069")
    assert [link.priority for link in links] == [1, 2, 3, 4]
    assert [link.relationship for link in links] == ["PAF", "PAM", "", ""]
    assert [link.parental_responsibility for link in links] == [True, True, False, False]


def test_sims_phone_numbers_lose_their_spaces_and_pupil_email_is_not_a_contact():
    snapshot = read("ctf19_sims_gryphon_y7_spaced_numbers.xml")

    (paddle,) = contact_named(snapshot, "Flappy", "Paddle")
    assert paddle.phones == (("H", "232300"), ("M", "07689415547"), ("M", "07234515547"))
    (lucy,) = contact_named(snapshot, "Lucy", "Cocker")
    assert ("W", "776241") in lucy.phones
    emails = {c.email for c in snapshot.contacts.values()}
    assert "sCocker2@hssd.gov.gg" not in emails  # the pupil's own address
    assert emails == {"lucy.falla@cwgsy.net", ""}
    assert [link.relationship for link in links_of(snapshot, "C706200819999")] == [
        "PAM",
        "REL",
        "REL",
    ]


def test_sims_partial_file_is_not_full_and_covers_nothing():
    snapshot = read("ctf19_sims_gryphon_y7_partial.xml")

    assert not snapshot.full
    assert snapshot.covers == set()
    assert list(snapshot.pupils) == ["J933207636549"]
    assert snapshot.contacts == {} and snapshot.links == {}


# Every field mapping, on a hand-written file


def test_pupil_fields_are_trimmed_and_preferred_names_read():
    snapshot = read("families.xml")
    amelia = snapshot.pupils["A123456789012"]

    assert (amelia.legal_forename, amelia.legal_surname) == ("Amelia", "Smith")
    assert (amelia.preferred_forename, amelia.preferred_surname) == ("Millie", "Smith-Jones")
    assert amelia.date_of_birth == date(2013, 3, 4)
    assert amelia.upn == "A123456789012"
    assert snapshot.pupils["B123456789012"].preferred_forename == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), ("07", 7), (" 11 ", 11), ("R", 0), ("r", 0), ("N2", -1), ("N1", -2), ("X", None)],
)
def test_year_group_codes(tmp_path, value, expected):
    snapshot = ctf.read(write_ctf(tmp_path, pupil(year=value)), name="made.xml")

    assert snapshot.pupils["A123456789012"].year_group == expected


def test_same_parent_under_two_siblings_is_one_contact_with_merged_details():
    snapshot = read("families.xml")

    (jo,) = contact_named(snapshot, "Jo", "Smith")
    # Title from the first sighting; phones from both; email as the file gives it (trimmed).
    assert jo.title == "Mrs"
    assert jo.email == "Jo.Smith@Example.com"
    assert jo.phones == (("M", "07700900123"), ("H", "01632960001"), ("W", "02079460000"))
    (sam,) = contact_named(snapshot, "Sam", "Smith")
    assert sam.email == "" and sam.phones == (("M", "07700900456"),)
    assert {(p, c) for p, c in snapshot.links if c in (jo.mis_id, sam.mis_id)} == {
        ("A123456789012", jo.mis_id),
        ("B123456789012", jo.mis_id),
        ("A123456789012", sam.mis_id),
        ("B123456789012", sam.mis_id),
    }


def test_priority_and_court_order_belong_to_each_link():
    snapshot = read("families.xml")
    (jo,) = contact_named(snapshot, "Jo", "Smith")
    (sam,) = contact_named(snapshot, "Sam", "Smith")

    assert snapshot.links[("A123456789012", jo.mis_id)].priority == 2
    assert snapshot.links[("B123456789012", jo.mis_id)].priority == 1
    assert snapshot.links[("A123456789012", sam.mis_id)].court_order
    assert not snapshot.links[("B123456789012", sam.mis_id)].court_order
    # Order 1 first in the file's links for the pupil, whatever the document order.
    assert [link.contact_id for link in links_of(snapshot, "A123456789012")][:2] == [
        sam.mis_id,
        jo.mis_id,
    ]


def test_responsible_is_accepted_for_responsibility():
    snapshot = read("families.xml")
    (sam,) = contact_named(snapshot, "Sam", "Smith")

    # Sam's link to Amelia uses <Responsible>, to Ben <Responsibility>.
    assert snapshot.links[("A123456789012", sam.mis_id)].parental_responsibility
    assert snapshot.links[("B123456789012", sam.mis_id)].parental_responsibility


def test_contact_without_order_or_relationship_has_no_priority_and_no_relationship():
    snapshot = read("families.xml")
    gran = contact_named(snapshot, "Gran", "Green")
    link = snapshot.links[("A123456789012", gran[0].mis_id)]

    assert link.priority is None and link.relationship == ""
    assert not link.parental_responsibility
    assert links_of(snapshot, "A123456789012")[-1] is link  # no Order sorts last


def test_people_with_no_email_or_phone_are_never_merged_across_pupils():
    snapshot = read("families.xml")

    gran = contact_named(snapshot, "Gran", "Green")
    assert len(gran) == 2
    assert {link_pupil for link_pupil, c in snapshot.links if c in {g.mis_id for g in gran}} == {
        "A123456789012",
        "B123456789012",
    }


def test_two_people_sharing_an_email_stay_two_contacts():
    snapshot = read("families.xml")

    (jo,) = contact_named(snapshot, "Jo", "Smith")
    (sian,) = contact_named(snapshot, "Siân", "Brown")
    assert jo.mis_id != sian.mis_id
    assert sian.email == "JO.SMITH@example.com"
    assert snapshot.links[("C123456789012", sian.mis_id)].relationship == "CAR"


def test_contact_ids_are_stable_and_ignore_case_and_spacing():
    first = ctf.contact_id(
        forename="Jo", surname="Smith", email=" Jo.Smith@Example.com", phones=[], upn="A"
    )
    again = ctf.contact_id(
        forename="JO", surname="smith", email="jo.smith@example.com", phones=[], upn="B"
    )

    assert first == again
    assert first.startswith("ctf:") and first in read("families.xml").contacts
    by_phone = ctf.contact_id(
        forename="Sam", surname="Smith", email="", phones=[("M", "07700900456")], upn="A"
    )
    assert by_phone == ctf.contact_id(
        forename="Sam", surname="Smith", email="", phones=[("M", "07700900456")], upn="B"
    )
    nameless_a = ctf.contact_id(forename="Gran", surname="Green", email="", phones=[], upn="A")
    nameless_b = ctf.contact_id(forename="Gran", surname="Green", email="", phones=[], upn="B")
    assert nameless_a != nameless_b


def test_same_person_twice_under_one_pupil_gives_one_link_with_the_stronger_flags(tmp_path):
    contact = (
        "<Contact><Order>{order}</Order><Surname>Ray</Surname><Forename>Al</Forename>"
        "<Responsibility>{pr}</Responsibility><Email>al@example.com</Email></Contact>"
    )
    contacts = contact.format(order=3, pr="false") + contact.format(order=1, pr="true")
    path = write_ctf(tmp_path, pupil(inner=f"<Contacts>{contacts}</Contacts>"))

    (link,) = ctf.read(path, name="made.xml").links.values()
    assert link.priority == 1 and link.parental_responsibility


def test_default_namespace_reads_the_same_as_no_namespace():
    plain, namespaced = read("families.xml"), read("namespaced.xml")

    assert namespaced.pupils == plain.pupils
    assert namespaced.contacts == plain.contacts
    assert namespaced.links == plain.links
    assert namespaced.covers == plain.covers


def test_utf16_with_a_byte_order_mark_reads_the_same():
    assert read("utf16_no_declaration.xml").contacts == read("families.xml").contacts


def test_partial_qualifier_makes_a_partial_snapshot(tmp_path):
    snapshot = ctf.read(write_ctf(tmp_path, pupil(), qualifier="partial"), name="made.xml")

    assert not snapshot.full and snapshot.covers == set()


def test_missing_document_qualifier_is_read_as_partial_with_a_warning(tmp_path):
    path = tmp_path / "noheader.xml"
    path.write_text(f"<CTfile><CTFpupilData>{pupil()}</CTFpupilData></CTfile>")

    snapshot = ctf.read(path, name="noheader.xml")
    assert not snapshot.full
    assert "full or partial" in snapshot.warnings[0]


def test_comments_are_ignored_and_do_not_shift_element_numbers(tmp_path):
    contacts = (
        "<Contacts><!-- first --><Contact><Surname>Ray</Surname><!-- x --></Contact>"
        "<!-- second --><Contact><Order>none</Order><Surname>Lin</Surname></Contact></Contacts>"
    )
    (problem,) = problems_of(write_ctf(tmp_path, pupil(inner=contacts)))

    assert (problem.element, problem.field) == ("Pupil[1]/Contacts/Contact[2]", "Order")


# Bad files: every problem, located


def test_truncated_xml_is_a_problem_with_its_line():
    (problem,) = problems_of(CTF / "truncated.xml")

    assert problem.file == "truncated.xml"
    assert problem.line == 20
    assert problem.message.startswith("the file ends early or is damaged at column")
    assert "StartTag" not in problem.message


def test_a_file_cut_short_in_a_tag_says_it_ends_early(tmp_path):
    whole = (CTF / "truncated.xml").read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(whole[: whole.index("<", 200) + 1], encoding="utf-8")  # ends on a "<"

    (problem,) = problems_of(cut)

    assert "ends early or is damaged" in problem.message
    assert "invalid element name" not in problem.message


def test_latin1_bytes_in_a_utf8_file_are_a_problem_with_their_line():
    (problem,) = problems_of(CTF / "latin1_declared_utf8.xml")

    assert problem.line == 16
    assert "encoding" in problem.message


def test_utf16_without_a_byte_order_mark_or_declaration_is_read_or_located(tmp_path):
    text = (CTF / "families.xml").read_text(encoding="utf-8").split("\n", 1)[1]
    path = tmp_path / "utf16be.xml"
    path.write_bytes(text.encode("utf-16-be"))

    # libxml2 recognises '<' in UTF-16 by its bytes; either way nothing is misread.
    try:
        snapshot = ctf.read(path, name="utf16be.xml")
    except InvalidSource as error:
        assert error.problems[0].line is not None
    else:
        assert snapshot.contacts == read("families.xml").contacts


def test_a_root_other_than_ctfile_is_not_a_ctf():
    (problem,) = problems_of(CTF / "not_ctf.xml")

    assert problem.line == 2
    assert "not a CTF" in problem.message and "Roster" in problem.message


def test_pupil_without_upn_is_named_by_element_and_line():
    (problem,) = problems_of(CTF / "missing_upn.xml")

    assert (problem.element, problem.line) == ("Pupil[3]/UPN", 8)
    assert "no UPN" in problem.message


def test_repeated_upn_names_both_pupils():
    (problem,) = problems_of(CTF / "duplicate_upn.xml")

    assert (problem.element, problem.line) == ("Pupil[3]/UPN", 8)
    assert "Pupil[1]" in problem.message and "line 5" in problem.message


def test_every_bad_value_is_reported_with_element_and_field():
    problems = problems_of(CTF / "bad_values.xml")
    found = {(p.element, p.field) for p in problems}

    assert found == {
        ("Pupil[1]", "DOB"),
        ("Pupil[1]", "BasicDetails/NCyearActual"),
        ("Pupil[1]/Contacts/Contact[1]", "Order"),
        ("Pupil[1]/Contacts/Contact[1]", "Responsibility"),
        ("Pupil[1]/Contacts/Contact[1]", ""),  # neither forename nor surname
        ("Pupil[1]/Contacts/Contact[2]", "Responsibility"),
    }
    dob = next(p for p in problems if p.field == "DOB")
    assert "'2013-02-30' is not a date" in dob.message and dob.line == 5
    nameless = next(p for p in problems if p.field == "" and p.element.endswith("Contact[1]"))
    assert nameless.line == 12


def test_malformed_upn_is_a_problem(tmp_path):
    problems = problems_of(write_ctf(tmp_path, pupil(upn="A12345")))

    assert [(p.element, p.field) for p in problems] == [("Pupil[1]/UPN", "")]


def test_value_too_long_for_the_mirror_is_a_problem(tmp_path):
    long_name = "x" * 101
    contacts = f"<Contacts><Contact><Surname>{long_name}</Surname></Contact></Contacts>"
    (problem,) = problems_of(write_ctf(tmp_path, pupil(inner=contacts)))

    assert (problem.element, problem.field) == ("Pupil[1]/Contacts/Contact[1]", "Surname")


def test_full_file_with_no_pupils_is_refused(tmp_path):
    (problem,) = problems_of(write_ctf(tmp_path, ""))

    assert "no pupils" in problem.message


def test_doctype_and_entities_are_refused_without_expansion(tmp_path):
    path = tmp_path / "entities.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE CTfile [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f"<CTfile><CTFpupilData>{pupil(inner='<Contacts><Contact><Surname>&b;&x;</Surname></Contact></Contacts>')}"
        "</CTFpupilData></CTfile>"
    )

    (problem,) = problems_of(path)
    assert "DOCTYPE" in problem.message


def test_unknown_document_qualifier_is_a_problem(tmp_path):
    (problem,) = problems_of(write_ctf(tmp_path, pupil(), qualifier="complete"))

    assert problem.element == "Header/DocumentQualifier"
    assert "'complete'" in problem.message


def test_empty_and_missing_files_are_problems(tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")

    assert "empty" in problems_of(empty)[0].message
    assert problems_of(tmp_path / "absent.xml")[0].file == "absent.xml"


# Through the real sync engine


def mirror_counts() -> dict:
    return {model.__name__: model.objects.count() for model in MIRROR}


def test_ctf_and_timetable_fill_the_mirror():
    run = sync_mis([CTF / "families.xml", TIMETABLE], trigger="command")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.source_format == "ctf+timetable"
    assert mirror_counts() == {
        "Pupil": 4,
        "Contact": 5,
        "PupilContact": 7,
        "Staff": 3,
        "TeachingGroup": 4,
        "GroupMembership": 4,  # the fifth names a pupil the CTF does not have
        "GroupTeacher": 4,
    }
    assert any("Z999999999999" in warning for warning in run.warnings)
    amelia = Pupil.objects.get(mis_id="A123456789012")
    assert amelia.display_name == "Millie Smith-Jones" and amelia.year_group == 7
    jo = Contact.objects.get(forename="Jo", surname="Smith")
    assert jo.email_key == "jo.smith@example.com"
    assert jo.phones[0] == {"type": "M", "number": "07700900123"}
    link = PupilContact.objects.get(pupil=amelia, contact__forename="Sam")
    assert (link.priority, link.relationship, link.court_order) == (1, "PAF", True)
    assert set(amelia.groups.values_list("mis_id", flat=True)) == {"7AB", "7MA1"}
    tutor = Staff.objects.get(mis_id="T001")
    assert set(tutor.groups.values_list("mis_id", flat=True)) == {"7AB", "7MA1"}
    assert Staff.objects.get(mis_id="T003").groups.count() == 0


def test_loading_the_same_files_again_changes_nothing():
    sync_mis([CTF / "families.xml", TIMETABLE], trigger="command")
    before = mirror_counts()

    run = sync_mis([CTF / "families.xml", TIMETABLE], trigger="command")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert all(
        (c["added"], c["changed"], c["removed"]) == (0, 0, 0) for c in run.counts.values()
    ), run.counts
    assert mirror_counts() == before


def test_the_real_samples_load_and_reload_without_changes():
    samples = [CTF / "ctf19_sims_gryphon_y7_2_students.xml", CTF / "ctf19_sims_gryphon_y12.xml"]
    first = sync_mis(samples, trigger="command")
    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    assert (Pupil.objects.count(), Contact.objects.count()) == (3, 11)

    again = sync_mis(samples, trigger="command")
    assert all(sum(c.values()) == 0 for c in again.counts.values()), again.counts


@pytest.mark.parametrize(
    "bad",
    [
        CTF / "truncated.xml",
        CTF / "duplicate_upn.xml",
        CTF / "bad_values.xml",
        FIXTURES / "timetable" / "conflicting_group.csv",
    ],
    ids=lambda path: path.name,
)
def test_a_bad_file_leaves_the_mirror_unchanged(bad):
    sync_mis([CTF / "families.xml", TIMETABLE], trigger="command")
    before = mirror_counts()
    snapshot_before = list(Contact.objects.order_by("mis_id").values_list("mis_id", "phones"))

    if bad.suffix == ".csv":
        run = sync_mis([CTF / "families.xml", bad], trigger="command")
    else:
        run = sync_mis([bad, TIMETABLE], trigger="command")

    assert run.status == SyncRun.Status.FAILED
    assert run.errors and all(error["file"] == bad.name for error in run.errors)
    assert mirror_counts() == before
    assert list(Contact.objects.order_by("mis_id").values_list("mis_id", "phones")) == (
        snapshot_before
    )
