"""Bounded reading of MIS files: zip bombs, oversized files and floods of rows are
refused while they are read, within a stated peak memory, and change nothing.

Peak memory is measured in a fresh Python process (`subprocess`), as the peak
resident set size the kernel reports for it (`VmHWM` in /proc/self/status, which is
ru_maxrss without what a forked process inherits from its parent). RSS, not
tracemalloc, because the limit is on the process (lxml and zlib allocate outside
Python's allocator, which tracemalloc does not see); a fresh process, because
pytest's own process already holds far more than the file being read."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from mirror import mirror_checksum

from schoolgate.mis.importers import oneroster, read_sources
from schoolgate.mis.importers.common import Budget
from schoolgate.mis.models import SyncRun
from schoolgate.mis.snapshot import InvalidSource

PEAK_LIMIT_MB = 300
BOMB_MB = 300  # unpacked size of the bomb's one member
USERS_HEADER = b"sourcedId,role,givenName,familyName\n"


def write_member(archive: zipfile.ZipFile, name: str, head: bytes, byte: bytes, megabytes: int):
    """A member of `head` then `megabytes` MB of one repeated byte, written a MB at a time
    (the test itself must not hold the bomb in memory)."""
    with archive.open(name, "w") as member:
        member.write(head)
        chunk = byte * (1024 * 1024)
        for _ in range(megabytes):
            member.write(chunk)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A real zip bomb: users.csv of a header and 300 MB of line ends, under 1 MB zipped."""
    path = tmp_path_factory.mktemp("bomb") / "roster.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        write_member(archive, "users.csv", USERS_HEADER, b"\n", BOMB_MB)
    assert path.stat().st_size < 1024 * 1024
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("users.csv").file_size > BOMB_MB * 1024 * 1024
    return path


def peak_of_read(paths: list[Path], **environ) -> dict:
    """Read the files through `read_sources` in a fresh process; its problems and peak."""
    script = """
import json, sys
from pathlib import Path
import django
django.setup()
from schoolgate.mis.importers import read_sources
from schoolgate.mis.snapshot import InvalidSource
problems = []
try:
    read_sources([Path(p) for p in sys.argv[1:]])
except InvalidSource as error:
    problems = [p.as_dict() for p in error.problems]
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"problems": problems, "peak_mb": peak / 1024}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings", **environ}
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_zip_bomb_is_refused_within_the_peak_memory(bomb):
    result = peak_of_read([bomb])
    print("bomb peak MB", result["peak_mb"])

    [problem] = result["problems"]
    assert problem["file"] == "roster.zip/users.csv"
    assert "50 MB" in problem["message"] and "MIS_FILE_MAX_MB" in problem["message"]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_a_zip_bomb_upload_fails_the_sync_and_changes_nothing(client, school, bomb):
    client.force_login(school.admin)
    before = mirror_checksum()

    with bomb.open("rb") as handle:
        upload = SimpleUploadedFile("roster.zip", handle.read(), content_type="application/zip")
        response = client.post(reverse("mis:sync"), {"files": [upload]})

    assert response.status_code == 200
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    [error] = run.errors
    assert error["file"] == "roster.zip/users.csv"
    assert mirror_checksum() == before


def test_members_each_under_the_file_cap_are_stopped_at_the_total_cap(tmp_path):
    path = tmp_path / "roster.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        write_member(archive, "users.csv", USERS_HEADER, b"\n", 4)
        write_member(archive, "classes.csv", b"sourcedId,title,classType\n", b"\n", 4)
    budget = Budget(file_bytes=5 * 1024 * 1024, total_bytes=6 * 1024 * 1024, rows=1000)

    with pytest.raises(InvalidSource) as raised:
        oneroster.read(path, name="roster.zip", budget=budget)

    [problem] = raised.value.problems
    assert "at most 6 MB" in problem.message


def test_files_each_under_the_file_cap_stop_at_the_total_cap_while_read(tmp_path, settings):
    """Plain files declare no size: the total is counted as they are read."""
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "MIS_FILE_MAX_MB": 2, "MIS_IMPORT_MAX_MB": 3}
    pupils, timetable = tmp_path / "pupils.csv", tmp_path / "timetable.csv"
    pupils.write_bytes(b"pupil_id,legal_forename,legal_surname\n" + b"\n" * 1_900_000)
    timetable.write_bytes(
        b"group_id,group_type,group_name,member_type,member_id\n" + b"\n" * 1_900_000
    )

    with pytest.raises(InvalidSource) as raised:
        read_sources([pupils, timetable])

    [problem] = raised.value.problems
    assert problem.file == "timetable.csv"
    assert "larger than 3 MB in all" in problem.message


def test_a_file_larger_than_the_cap_on_disk_is_refused_without_reading(tmp_path, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "MIS_FILE_MAX_MB": 1}
    path = tmp_path / "pupils.csv"
    with path.open("wb") as handle:
        handle.write(b"pupil_id,legal_forename,legal_surname\n")
        handle.truncate(2 * 1024 * 1024)  # a sparse file: "big" without writing it

    with pytest.raises(InvalidSource) as raised:
        read_sources([path])

    [problem] = raised.value.problems
    assert problem.file == "pupils.csv" and "larger than 1 MB" in problem.message


def test_one_endless_line_is_refused_at_a_megabyte(tmp_path):
    path = tmp_path / "roster.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        write_member(archive, "users.csv", b"", b"a", 20)

    with pytest.raises(InvalidSource) as raised:
        oneroster.read(path, name="roster.zip")

    [problem] = raised.value.problems
    assert problem.file == "roster.zip/users.csv" and problem.line == 1
    assert "longer than 1 MB" in problem.message


def test_rows_past_the_row_cap_stop_the_read(tmp_path, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "MIS_IMPORT_MAX_ROWS": 100}
    path = tmp_path / "timetable.csv"
    lines = [f"G{n},registration,Form {n},pupil,P{n}" for n in range(150)]
    path.write_text("group_id,group_type,group_name,member_type,member_id\n" + "\n".join(lines))

    with pytest.raises(InvalidSource) as raised:
        read_sources([path])

    [problem] = raised.value.problems
    assert problem.file == "timetable.csv" and problem.line == 102  # the 101st row
    assert "more than 100 rows" in problem.message


def test_a_flood_of_elements_in_a_ctf_is_refused(tmp_path):
    path = tmp_path / "export.xml"
    with path.open("wb") as handle:
        handle.write(b"<CTfile><Header><DocumentQualifier>full</DocumentQualifier></Header>")
        handle.write(b"<CTFpupilData><Pupil>")
        handle.write(b"<x/>" * 150_000)
        handle.write(b"</Pupil></CTFpupilData></CTfile>")

    with pytest.raises(InvalidSource) as raised:
        read_sources([path])

    [problem] = raised.value.problems
    assert problem.file == "export.xml" and "100,000 elements" in problem.message


def test_the_worst_case_within_the_caps_stays_within_the_peak_memory(tmp_path):
    """The pupils-contacts template with a new pupil and contact on every row (the
    heaviest row an importer keeps), read to the row cap (80,000) in a fresh process:
    what a sync keeps per row is what bounds its memory once the bytes are capped."""
    path = tmp_path / "pupils.csv"
    with path.open("w") as handle:
        handle.write(
            "pupil_id,upn,legal_forename,legal_surname,preferred_forename,year_group,"
            "registration_group,contact_id,contact_title,contact_forename,contact_surname,"
            "contact_email,contact_phone,relationship,parental_responsibility,priority\n"
        )
        for n in range(81_000):
            handle.write(
                f"P{n:07d},,Forename{n},Surname{n},Pref{n},7,7G{n % 300},C{n:07d},Mrs,"
                f"Contact{n},Family{n},c{n}@example.org,07700900{n % 1000:03d},PAM,yes,1\n"
            )

    result = peak_of_read([path])
    print("worst case peak MB", result["peak_mb"])

    [problem] = result["problems"]
    assert problem["file"] == "pupils.csv" and problem["line"] == 80_002
    assert "80,000 rows" in problem["message"]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_an_upload_over_the_file_cap_is_refused_by_the_form(client, school, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "MIS_FILE_MAX_MB": 1}
    client.force_login(school.admin)
    big = SimpleUploadedFile("pupils.csv", b"pupil_id\n" + b"\n" * (1024 * 1024), "text/csv")

    response = client.post(reverse("mis:sync"), {"files": [big]})

    assert response.status_code == 200
    assert "pupils.csv is larger than 1 MB" in response.content.decode()
    assert not SyncRun.objects.exists()
