"""The staff Sync page: upload, report, history, templates; and who may use it."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS
from schoolgate.mis.models import Contact, Pupil, PupilContact, SyncRun

HEADER = (
    "pupil_id,upn,legal_forename,legal_surname,year_group,registration_group,"
    "contact_id,contact_forename,contact_surname,contact_email,parental_responsibility,priority\n"
)
GOOD = HEADER + (
    "1001,,Amelia,Okafor,7,7JS,C501,Grace,Okafor,grace@example.org,yes,1\n"
    "1001,,Amelia,Okafor,7,7JS,C502,Daniel,Okafor,daniel@example.org,yes,2\n"
    "1002,,Ben,Okafor,9,9KT,C501,Grace,Okafor,grace@example.org,yes,1\n"
)
# Line 3 gives a year group that does not exist, line 4 a PR that is not yes or no.
BAD = HEADER + (
    "1003,,Cara,Diaz,7,7JS,C601,Rosa,Diaz,rosa@example.org,yes,1\n"
    "1004,,Dev,Diaz,23,7JS,C601,Rosa,Diaz,rosa@example.org,yes,1\n"
    "1005,,Eli,Diaz,8,8AB,C602,Luis,Diaz,luis@example.org,perhaps,1\n"
)
TIMETABLE = (
    "group_id,group_type,group_name,subject,year_group,member_type,member_id,"
    "title,forename,surname,email,role\n"
)


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def staff(client):
    user = User.objects.create_user(
        "office@school.example.org", "pw", is_staff=True, first_name="Olive", last_name="Office"
    )
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))  # holds RUN_SYNC
    client.force_login(user)
    return user


@pytest.fixture
def parent_client(client):
    client.force_login(User.objects.create_user("grace@example.org", "pw"))
    return client


def test_sync_page_offers_the_form_templates_and_formats(client, staff):
    response = client.get(reverse("mis:sync"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and "multiple" in html
    assert 'class="govuk-file-upload"' in html
    assert reverse("mis:template", args=["pupils-contacts.csv"]) in html
    assert reverse("mis:template", args=["timetable.csv"]) in html
    for anchor in ("format-ctf", "format-oneroster", "format-csv", "format-timetable"):
        assert f'id="{anchor}"' in html
    assert html.count("<h1") == 1


def test_good_upload_syncs_and_shows_the_report(client, staff):
    response = client.post(
        reverse("mis:sync"), {"files": [upload("school.csv", GOOD)]}, follow=True
    )
    run = SyncRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("mis:sync-report", args=[run.pk])
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.trigger, run.started_by, run.files) == ("upload", staff, ["school.csv"])
    assert Pupil.objects.count() == 2 and Contact.objects.count() == 2
    html = response.content.decode()
    assert "The sync succeeded" in html
    assert "Pupils" in html and "Pupil–contact links" in html


def test_bad_upload_lists_every_problem_and_changes_nothing(client, staff):
    client.post(reverse("mis:sync"), {"files": [upload("school.csv", GOOD)]})
    before = list(PupilContact.objects.values_list("pk", "pupil_id", "contact_id"))
    response = client.post(reverse("mis:sync"), {"files": [upload("autumn.csv", BAD)]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "nothing was changed" in html
    assert "autumn.csv" in html
    assert "line 3" in html and "year_group" in html
    assert "line 4" in html and "parental_responsibility" in html
    assert not Pupil.objects.filter(mis_id__in=["1003", "1004", "1005"]).exists()
    assert list(PupilContact.objects.values_list("pk", "pupil_id", "contact_id")) == before
    failed = SyncRun.objects.first()
    assert failed.status == SyncRun.Status.FAILED
    assert reverse("mis:sync-report", args=[failed.pk]) in html


def test_several_files_sync_together(client, staff):
    timetable = TIMETABLE + (
        "7MA1,class,7 Maths,Mathematics,7,teacher,T1,Mr,Sam,Haddad,sam@school.example.org,Teacher\n"
        "7MA1,class,7 Maths,Mathematics,7,pupil,1001,,,,,\n"
    )
    client.post(
        reverse("mis:sync"),
        {"files": [upload("school.csv", GOOD), upload("timetable.csv", timetable)]},
    )
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.files == ["school.csv", "timetable.csv"]
    assert run.counts["staff"]["added"] == 1


def test_upload_with_no_file_asks_for_one(client, staff):
    response = client.post(reverse("mis:sync"), {})
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert 'href="#id_files"' in html
    assert "Choose at least one file to sync" in html
    assert not SyncRun.objects.exists()


def test_chosen_format_is_obeyed(client, staff):
    response = client.post(
        reverse("mis:sync"), {"files": [upload("school.csv", GOOD)], "source_format": "ctf"}
    )
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "nothing was changed" in response.content.decode()
    assert not Pupil.objects.exists()


def test_history_lists_runs_newest_first_with_who_and_what(client, staff):
    client.post(reverse("mis:sync"), {"files": [upload("first.csv", GOOD)]})
    client.post(reverse("mis:sync"), {"files": [upload("second.csv", BAD)]})
    html = client.get(reverse("mis:sync")).content.decode()
    assert html.index("second.csv") < html.index("first.csv")
    assert "Olive Office" in html
    first = SyncRun.objects.get(files=["first.csv"])
    added = sum(c["added"] for c in first.counts.values())
    assert f"{added} added, 0 changed, 0 removed" in html
    for run in SyncRun.objects.all():
        assert reverse("mis:sync-report", args=[run.pk]) in html


def test_report_shows_counts_per_kind_and_warnings(client, staff):
    text = GOOD.replace("daniel@example.org", "daniel@")
    client.post(reverse("mis:sync"), {"files": [upload("school.csv", text)]})
    run = SyncRun.objects.get()
    html = client.get(reverse("mis:sync-report", args=[run.pk])).content.decode()
    assert "<caption" in html and 'scope="row"' in html
    for label in ("Pupils", "Contacts", "Staff", "Groups", "Group members", "Group teachers"):
        assert label in html
    assert "daniel@" in html and "not a valid email address" in html


def test_report_of_unknown_run_is_404(client, staff):
    assert client.get(reverse("mis:sync-report", args=[999999])).status_code == 404


def test_templates_download_and_nothing_else(client, staff):
    for name in ("pupils-contacts.csv", "timetable.csv"):
        response = client.get(reverse("mis:template", args=[name]))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        header = b"".join(response.streaming_content).splitlines()[0]
        assert header.startswith(b"pupil_id," if name.startswith("pupils") else b"group_id,")
    for name in ("views.py", "timetable.CSV", "..%2Furls.py"):
        assert client.get(f"/staff/mis/sync/templates/{name}").status_code == 404


def test_timetable_template_has_the_documented_header(client, staff):
    response = client.get(reverse("mis:template", args=["timetable.csv"]))
    header = b"".join(response.streaming_content).decode().splitlines()[0]
    assert header == (
        "group_id,group_type,group_name,subject,year_group,member_type,member_id,"
        "title,forename,surname,email,role"
    )


def test_parent_gets_403_on_every_staff_page(parent_client):
    run = SyncRun.objects.create(trigger="command", status="succeeded")
    urls = [
        reverse("mis:dashboard"),
        reverse("mis:dashboard-list", args=["accounts-all"]),
        reverse("mis:sync"),
        reverse("mis:sync-report", args=[run.pk]),
        reverse("mis:template", args=["timetable.csv"]),
    ]
    for url in urls:
        assert parent_client.get(url).status_code == 403, url
    response = parent_client.post(reverse("mis:sync"), {"files": [upload("x.csv", GOOD)]})
    assert response.status_code == 403
    assert not Pupil.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("mis:sync"))
    assert response.status_code == 302
    assert reverse("accounts:sign-in") in response["Location"]
