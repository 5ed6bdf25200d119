"""`schoolgate backup` and `schoolgate restore`: round trips on SQLite and PostgreSQL."""

import subprocess

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from ops_helpers import SCHOOLGATE, command_env, migrate

from schoolgate.accounts.models import User
from schoolgate.ops.backup import BackupError, backup_database, restore_database

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL")


def emails() -> set[str]:
    return set(User.objects.values_list("email", flat=True))


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_brings_the_data_back(tmp_path):
    User.objects.create_user("kept@example.org")
    backup = backup_database(path=tmp_path / "site.backup")
    User.objects.filter(email="kept@example.org").delete()
    User.objects.create_user("added.later@example.org")

    restore_database(path=backup)
    assert emails() == {"kept@example.org"}


@on_sqlite
def test_sqlite_commands_round_trip_a_live_wal_database(tmp_path):
    """The commands, on a database file in WAL mode, as `schoolgate serve` leaves it."""
    env = command_env(tmp_path / "data")
    migrate(env)

    def schoolgate(*args, **kwargs):
        return subprocess.run(
            [*SCHOOLGATE, *args], env=env, capture_output=True, text=True, check=True, **kwargs
        )

    def shell(code: str) -> str:
        return schoolgate("shell", "-v", "0", "-c", code).stdout.strip()

    users = "from schoolgate.accounts.models import User as U; "
    shell(users + "U.objects.create_user('kept@example.org')")
    done = schoolgate("backup", str(tmp_path / "site.backup"))
    assert "Backed up to" in done.stdout
    shell(users + "U.objects.all().delete(); U.objects.create_user('later@example.org')")

    schoolgate("restore", str(tmp_path / "site.backup"), "--no-input")
    listed = shell(users + "print(sorted(U.objects.values_list('email', flat=True)))")
    assert listed == "['kept@example.org']"
    pragma = "from django.db import connection as c; cursor = c.cursor(); "
    pragma += "cursor.execute('PRAGMA journal_mode'); print(cursor.fetchone()[0])"
    assert shell(pragma) == "wal"  # still the live database's mode


@on_sqlite
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all " * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore_database(path=junk)


def test_backup_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "no" / "such" / "site.backup"))


def test_restore_asks_before_replacing_everything(tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled; nothing was changed"):
        call_command("restore", str(tmp_path / "site.backup"))


def scratch_users(conninfo: dict) -> set[str]:
    with psycopg.connect(**conninfo) as conn:
        return {row[0] for row in conn.execute("SELECT email FROM accounts_user")}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_round_trip_into_a_scratch_database(tmp_path, scratch_postgres):
    User.objects.create_user("kept@example.org")
    backup = backup_database(path=tmp_path / "site.dump")
    assert backup.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    _, admin, name = scratch_postgres("restore")
    target = {**connection.settings_dict, "NAME": name}
    conninfo = {**connection.get_connection_params(), "dbname": name}

    restore_database(path=backup, settings_dict=target)  # into an empty database
    assert scratch_users(conninfo) == {"kept@example.org"}

    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM accounts_user")
        conn.execute("CREATE TABLE stray (id int)")  # not in the backup: left alone
    restore_database(path=backup, settings_dict=target)  # over changed data
    assert scratch_users(conninfo) == {"kept@example.org"}


@on_postgresql
def test_postgresql_restore_of_a_bad_file_changes_nothing(tmp_path, scratch_postgres):
    _, admin, name = scratch_postgres("restore")
    junk = tmp_path / "site.dump"
    junk.write_bytes(b"PGDMP but not really")
    with pytest.raises(BackupError, match="not a pg_dump archive"):
        restore_database(path=junk, settings_dict={**connection.settings_dict, "NAME": name})
