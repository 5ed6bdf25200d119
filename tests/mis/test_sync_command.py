"""`schoolgate sync PATH... [--format] [--json]`."""

import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.snapshot import KINDS

PUPILS = (
    "pupil_id,legal_forename,legal_surname,year_group,contact_id,contact_forename,"
    "contact_surname,contact_email,parental_responsibility,priority\n"
    "1001,Amelia,Okafor,7,C501,Grace,Okafor,grace@example.org,yes,1\n"
    "1002,Ben,Okafor,9,C501,Grace,Okafor,grace@example.org,yes,1\n"
)


@pytest.fixture
def pupils_csv(tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_text(PUPILS)
    return path


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(PUPILS.replace("yes,1\n1002", "maybe,1\n1002"))
    return path


def run_json(capsys, *args) -> tuple[dict, int]:
    code = 0
    try:
        call_command("sync", *map(str, args), "--json")
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr().out
    return json.loads(out), code


def test_json_report_of_a_good_sync(capsys, pupils_csv):
    report, code = run_json(capsys, pupils_csv)
    assert code == 0
    assert set(report) == {
        "status",
        "counts",
        "warnings",
        "errors",
        "run_id",
        "duration_ms",
        "unchanged",
        "held",
    }
    assert report["status"] == "succeeded"
    assert list(report["counts"]) == list(KINDS)
    assert report["counts"]["pupils"] == {"added": 2, "changed": 0, "removed": 0}
    assert report["counts"]["staff"] == {"added": 0, "changed": 0, "removed": 0}
    assert report["errors"] == []
    run = SyncRun.objects.get(pk=report["run_id"])
    assert run.trigger == SyncRun.Trigger.COMMAND and run.files == ["pupils.csv"]
    assert isinstance(report["duration_ms"], int)


def test_same_file_twice_reports_no_changes(capsys, pupils_csv):
    run_json(capsys, pupils_csv)
    report, _ = run_json(capsys, pupils_csv)
    assert all(c == {"added": 0, "changed": 0, "removed": 0} for c in report["counts"].values())


def test_failed_sync_prints_json_then_exits_non_zero(capsys, bad_csv):
    report, code = run_json(capsys, bad_csv)
    assert code == 1
    assert report["status"] == "failed"
    [problem] = report["errors"]
    assert (problem["file"], problem["line"], problem["field"]) == (
        "bad.csv",
        2,
        "parental_responsibility",
    )
    assert not Pupil.objects.exists()


def test_missing_file_fails_with_its_name(capsys, tmp_path):
    report, code = run_json(capsys, tmp_path / "nope.csv")
    assert code == 1
    assert "nope.csv" in report["errors"][0]["file"]


def test_format_option_is_obeyed(capsys, pupils_csv):
    report, code = run_json(capsys, "--format", "ctf", pupils_csv)
    assert code == 1 and report["status"] == "failed"


def test_human_summary(capsys, pupils_csv, bad_csv):
    call_command("sync", str(pupils_csv))
    out = capsys.readouterr().out
    assert "succeeded" in out and "pupils" in out
    with pytest.raises(SystemExit) as exit:
        call_command("sync", str(bad_csv))
    assert exit.value.code == 1
    err = capsys.readouterr().err
    assert "nothing was changed" in err
    assert "bad.csv, line 2, field 'parental_responsibility'" in err


def test_the_schoolgate_command_line_prints_one_json_object(tmp_path, bad_csv):
    env = {"SCHOOLGATE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    schoolgate = [sys.executable, "-m", "schoolgate"]
    subprocess.run([*schoolgate, "migrate", "-v0"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*schoolgate, "sync", "--json", str(bad_csv)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "failed"
