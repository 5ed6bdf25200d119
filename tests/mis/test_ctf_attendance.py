"""Attendance from a CTF's Attendance section: read from real SIMS exports and
hand-written files, then through the sync engine (all-or-nothing, idempotent)."""

from pathlib import Path

import pytest

from schoolgate.mis.importers import ctf
from schoolgate.mis.models import Attendance, Pupil, SyncRun
from schoolgate.mis.snapshot import InvalidSource
from schoolgate.mis.sync import sync_mis

CTF = Path(__file__).parent / "fixtures" / "ctf"
UPN = "A123456789012"


def write_ctf(tmp_path: Path, pupils: str, *, qualifier: str = "full", name="made.xml") -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n'
        f"<Header><DocumentQualifier>{qualifier}</DocumentQualifier></Header>\n"
        f"<CTFpupilData>\n{pupils}\n</CTFpupilData>\n</CTfile>\n",
        encoding="utf-8",
    )
    return path


def year_data(
    year="2024",
    possible="380",
    attended="370",
    authorised="8",
    unauthorised="2",
    *,
    lea="838",
    estab="3321",
    school="Our School",
) -> str:
    parts = [
        f"<Year>{year}</Year>",
        f"<LEA>{lea}</LEA>",
        f"<Estab>{estab}</Estab>",
        f"<SchoolName>{school}</SchoolName>",
        f"<SessionsPossible>{possible}</SessionsPossible>",
        f"<SessionsAuthorised>{authorised}</SessionsAuthorised>",
        f"<SessionsAttended>{attended}</SessionsAttended>",
        f"<SessionsUnauthorised>{unauthorised}</SessionsUnauthorised>",
    ]
    return f"<YearData>{''.join(parts)}</YearData>"


def pupil(upn: str = UPN, *, attendance: str | None = None) -> str:
    section = "" if attendance is None else f"<Attendance>{attendance}</Attendance>"
    return (
        f"<Pupil><UPN>{upn}</UPN><Surname>Lee</Surname><Forename>Kim</Forename>"
        f"<BasicDetails><NCyearActual>7</NCyearActual></BasicDetails>{section}</Pupil>"
    )


def sync(*paths) -> SyncRun:
    return sync_mis(paths, trigger=SyncRun.Trigger.COMMAND)


def figures(upn: str = UPN) -> list[tuple]:
    return list(
        Attendance.objects.filter(pupil__mis_id=upn)
        .order_by("year", "school")
        .values_list(
            "year",
            "school",
            "school_name",
            "sessions_possible",
            "sessions_attended",
            "sessions_authorised",
            "sessions_unauthorised",
        )
    )


# Reading


def test_a_real_sims_export_gives_each_year_at_each_school():
    snapshot = ctf.read(CTF / "ctf19_sims_gryphon_y12.xml", name="y12.xml")

    rows = sorted(snapshot.attendance.values(), key=lambda r: r.year)
    assert [r.year for r in rows] == [2010, 2011, 2012, 2013, 2014, 2018, 2019]
    assert rows[0].school == "801/3411" and rows[0].school_name == "St. Patrick's Primary"
    assert (rows[0].possible, rows[0].attended, rows[0].authorised, rows[0].unauthorised) == (
        372,
        366,
        6,
        0,
    )
    assert rows[-1].school_name == "Huish Episcopi Academy"
    assert (rows[-1].possible, rows[-1].attended, rows[-1].unauthorised) == (242, 235, 3)
    assert snapshot.attendance_pupils == {"Z801209809069"}


def test_every_real_sample_with_attendance_reads_it():
    for name, expected in (
        ("ctf19_sims_gryphon_y7_2_students.xml", 2),
        ("ctf19_sims_gryphon_y7_partial.xml", 1),
        ("ctf19_sims_gryphon_y7_spaced_numbers.xml", 7),
    ):
        assert len(ctf.read(CTF / name, name=name).attendance) == expected, name


def test_a_pupil_without_an_attendance_section_states_none(tmp_path):
    snapshot = ctf.read(write_ctf(tmp_path, pupil()), name="made.xml")

    assert snapshot.attendance == {} and snapshot.attendance_pupils == set()


def test_two_periods_of_one_year_at_one_school_are_added_up(tmp_path):
    two = year_data(possible="100", attended="90", authorised="6", unauthorised="4") + year_data(
        possible="50", attended="50", authorised="0", unauthorised="0"
    )
    snapshot = ctf.read(write_ctf(tmp_path, pupil(attendance=two)), name="made.xml")

    [row] = snapshot.attendance.values()
    assert (row.possible, row.attended, row.authorised, row.unauthorised) == (150, 140, 6, 4)


def test_bad_figures_are_located_problems_and_nothing_is_read(tmp_path):
    bad = year_data(year="twenty", possible="-1") + year_data(attended="lots")
    path = write_ctf(tmp_path, pupil(attendance=bad))

    with pytest.raises(InvalidSource) as caught:
        ctf.read(path, name="made.xml")

    texts = [str(p) for p in caught.value.problems]
    assert any("Pupil[1]/Attendance/YearData[1]" in t and "field 'Year'" in t for t in texts)
    assert any("YearData[2]" in t and "field 'SessionsAttended'" in t for t in texts), texts


def test_a_year_data_without_a_year_is_a_problem(tmp_path):
    path = write_ctf(tmp_path, pupil(attendance=year_data(year="")))

    with pytest.raises(InvalidSource) as caught:
        ctf.read(path, name="made.xml")

    assert "the attendance has no year" in str(caught.value.problems[0])


# Syncing


def test_attendance_is_synced_and_a_second_sync_changes_nothing(tmp_path):
    path = write_ctf(tmp_path, pupil(attendance=year_data("2023") + year_data("2024")))

    first = sync(path)
    again = sync(path)

    assert first.status == again.status == SyncRun.Status.SUCCEEDED
    assert first.counts["attendance"] == {"added": 2, "changed": 0, "removed": 0}
    assert again.counts["attendance"] == {"added": 0, "changed": 0, "removed": 0}
    assert figures() == [
        (2023, "838/3321", "Our School", 380, 370, 8, 2),
        (2024, "838/3321", "Our School", 380, 370, 8, 2),
    ]


def test_changed_figures_are_updated_and_years_no_longer_stated_removed(tmp_path):
    sync(write_ctf(tmp_path, pupil(attendance=year_data("2023") + year_data("2024"))))

    run = sync(write_ctf(tmp_path, pupil(attendance=year_data("2024", attended="360"))))

    assert run.counts["attendance"] == {"added": 0, "changed": 1, "removed": 1}
    assert figures() == [(2024, "838/3321", "Our School", 380, 360, 8, 2)]


def test_a_file_without_a_pupils_attendance_leaves_it_alone(tmp_path):
    other = "B123456789012"
    sync(write_ctf(tmp_path, pupil(attendance=year_data()) + pupil(other, attendance=year_data())))

    # A partial file for the other pupil only, with no Attendance section for anyone.
    run = sync(write_ctf(tmp_path, pupil(other), qualifier="partial"))

    assert run.status == SyncRun.Status.SUCCEEDED
    assert "attendance" not in run.counts
    assert len(figures()) == 1 and len(figures(other)) == 1


def test_a_bad_file_changes_no_attendance(tmp_path):
    sync(write_ctf(tmp_path, pupil(attendance=year_data())))
    before = figures()

    run = sync(write_ctf(tmp_path, pupil(attendance=year_data(attended="x"))))

    assert run.status == SyncRun.Status.FAILED
    assert figures() == before


def test_the_real_sample_syncs_with_its_attendance():
    run = sync(CTF / "ctf19_sims_gryphon_y12.xml")

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.counts["attendance"]["added"] == 7
    assert Pupil.objects.get(mis_id="Z801209809069").attendance.count() == 7
