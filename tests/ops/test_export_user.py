"""`schoolgate export-user EMAIL`: everything held about one person, nothing of another."""

import json

import pytest
from django.core.management import call_command

from schoolgate.accounts.audit import record
from schoolgate.accounts.models import AuditEntry, SignInFailure
from schoolgate.mis.models import SyncRun
from schoolgate.ops import export
from schoolgate.outbox.services import queue_email


@pytest.fixture
def ann(school, parent_role, parent_for):
    """Ann Ash (mother of Amy and Ben) with an account, an email and an audit trail; and
    the Cole family, with the same kinds of records, who must not appear in her export."""
    for contact in ("ann", "cara"):
        user = parent_for(school.contacts[contact])
        user.groups.add(parent_role)
        queue_email(
            to=school.contacts[contact].email,
            template="invitation",
            context={"first_name": contact, "url": "https://example.org/set"},
        )
        record(action="accounts.invited", subject=user.email, actor=school.admin)
        SignInFailure.objects.create(
            email=user.email, address="192.0.2.10" if contact == "ann" else "198.51.100.7"
        )
    return parent_for(school.contacts["ann"])


def run_export(capsys, email: str) -> tuple[dict, str]:
    call_command("export-user", email)
    out = capsys.readouterr().out
    return json.loads(out), out


def test_export_holds_the_persons_account_contacts_children_emails_and_audit(ann, capsys):
    data, _ = run_export(capsys, "ann.ash@example.org")
    parts = data["parts"]
    assert data["email"] == "ann.ash@example.org" and data["found"] is True

    assert parts["account"]["email"] == "ann.ash@example.org"
    assert parts["account"]["roles"] == ["MIS Parent"]
    assert parts["account"]["has_password"] is False
    assert "password" not in parts["account"]

    [contact] = parts["mis_contacts"]
    assert contact["mis_id"] == "C-ANN" and contact["surname"] == "Ash"
    assert {p["pupil"] for p in contact["pupils"]} == {"Amy Ash", "Ben Ash"}
    assert all(p["parental_responsibility"] for p in contact["pupils"])

    [email] = parts["emails"]
    assert email["template"] == "invitation" and email["status"] == "queued"
    assert [entry["action"] for entry in parts["audit"]] == ["accounts.invited"]
    assert parts["sign_in_records"]["failed_attempts"][0]["address"] == "192.0.2.10"
    assert parts["mis_staff"] == [] and parts["syncs_started"] == []


def test_export_holds_nothing_of_another_person(ann, capsys):
    _, text = run_export(capsys, "ann.ash@example.org")
    for other in ("cara", "Cole", "C-CARA", "198.51.100.7", "colin", "Al Ash", "al.ash"):
        assert other not in text


def test_the_email_is_normalised_as_everywhere_else(ann, capsys):
    data, _ = run_export(capsys, "  ANN.Ash@Example.ORG ")
    assert data["email"] == "ann.ash@example.org"
    assert data["parts"]["account"]["email"] == "ann.ash@example.org"


def test_a_contact_without_an_account_still_gets_their_mis_record(school, capsys):
    data, _ = run_export(capsys, "steve.stone@example.org")
    assert data["parts"]["account"] is None
    [contact] = data["parts"]["mis_contacts"]
    assert contact["pupils"][0]["parental_responsibility"] is False


def test_staff_export_lists_their_actions_but_not_whom_they_concerned(ann, school, capsys):
    SyncRun.objects.create(trigger=SyncRun.Trigger.UPLOAD, started_by=school.admin)
    data, text = run_export(capsys, "admin@school.example")
    actions = data["parts"]["audit"]
    assert {entry["action"] for entry in actions} == {"accounts.invited"}
    assert all(entry["by"] == "this person" for entry in actions)
    assert "ann.ash" not in text
    assert len(data["parts"]["syncs_started"]) == 1


def test_nobody_known_is_an_empty_export(capsys):
    call_command("export-user", "nobody@example.org")
    captured = capsys.readouterr()
    assert json.loads(captured.out)["found"] is False
    assert "Nothing is held about nobody@example.org" in captured.err


def test_the_export_is_audited(ann, capsys):
    run_export(capsys, "ann.ash@example.org")
    entry = AuditEntry.objects.get(action="ops.export_user")
    assert entry.subject == "ann.ash@example.org" and entry.actor_label == "command line"


def test_other_apps_add_their_part(ann, monkeypatch):
    monkeypatch.setattr(export, "_exporters", dict(export._exporters))
    export.register_export(
        "evenings", lambda *, email, user: [{"evening": "Year 7", "parent": email}]
    )
    data = export.export_user(email="ann.ash@example.org")
    assert data["parts"]["evenings"] == [{"evening": "Year 7", "parent": "ann.ash@example.org"}]


def test_export_to_a_file(ann, tmp_path):
    call_command("export-user", "ann.ash@example.org", "--output", str(tmp_path / "sar.json"))
    data = json.loads((tmp_path / "sar.json").read_text())
    assert data["parts"]["account"]["email"] == "ann.ash@example.org"
