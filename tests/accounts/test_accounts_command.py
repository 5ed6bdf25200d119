"""schoolgate accounts generate|resend: the same services from the command line."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from school import ALL_COUNTS, PRIMARY_COUNTS

from schoolgate.accounts.models import AuditEntry, User
from schoolgate.outbox.models import OutboxMessage


def run(*args) -> str:
    out = StringIO()
    call_command("accounts", *args, stdout=out)
    return out.getvalue()


def test_generate_prints_the_counts_as_json(school, parent_role):
    printed = json.loads(run("generate", "--mode", "all", "--json"))

    assert printed == ALL_COUNTS
    assert list(printed) == ["created", "existing", "invited", "same_account", "skipped"]
    assert list(printed["skipped"]) == ["no_email", "no_pr", "not_primary", "conflict"]
    assert User.objects.filter(is_staff=False).count() == 8


def test_generate_primary_contacts_only(school, parent_role):
    assert json.loads(run("generate", "--mode", "primary", "--json")) == PRIMARY_COUNTS


def test_a_dry_run_changes_nothing_and_needs_no_role(school):
    printed = json.loads(run("generate", "--mode", "all", "--dry-run", "--json"))

    assert printed == ALL_COUNTS
    assert not User.objects.filter(is_staff=False).exists()
    assert not OutboxMessage.objects.exists()


def test_generate_says_what_it_did(school, parent_role):
    out = run("generate", "--mode", "all")

    assert "8 account(s) created" in out
    assert "conflict 0" in out
    entry = AuditEntry.objects.get(action="accounts.generated")
    assert entry.actor_label == "command line"


def test_a_dry_run_counts_a_household_once_and_only_other_families_as_conflicts(school):
    from school import change_contact, resync

    # Expected from the rows: the Foxes (one address, PR for Fay both) are one created;
    # Don Dent given Al Ash's address reaches Dan, Al reaches Amy and Ben: a conflict.
    change_contact(school.snapshot, "don", email="al.ash@example.org")
    resync(school.snapshot)

    printed = json.loads(run("generate", "--mode", "all", "--dry-run", "--json"))

    assert printed == {
        "created": 6,  # ann cara colin gina helen, fox.family once
        "existing": 0,
        "invited": 6,
        "same_account": 1,  # fiona
        "skipped": {"no_email": 2, "no_pr": 4, "not_primary": 0, "conflict": 2},
    }


def test_generate_without_a_role_fails_with_a_clear_message(school):
    with pytest.raises(CommandError, match="Choose the role for contact accounts"):
        run("generate", "--mode", "all")

    assert not User.objects.filter(is_staff=False).exists()


def test_generate_needs_a_known_mode(school, parent_role):
    with pytest.raises(CommandError, match="invalid choice: 'some'"):
        run("generate", "--mode", "some")


def test_resend_prints_how_many_were_invited(school, parent_role):
    run("generate", "--mode", "all")

    assert json.loads(run("resend", "--json")) == {"invited": 8}
    assert OutboxMessage.objects.count() == 16
    assert "8 parent(s)" in run("resend")
