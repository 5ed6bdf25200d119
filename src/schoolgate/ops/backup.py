"""Backups of the whole database, and restoring one.

SQLite: the online backup API (a consistent copy while the site runs).
PostgreSQL: `pg_dump --format=custom`, and `pg_restore --clean --if-exists` in one
transaction (the client tools must be installed, of the server's major version or newer)."""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.db import connections

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


def engine_of(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return SQLITE
    if engine.endswith("postgresql"):
        return POSTGRESQL
    raise BackupError(f"Backups of {engine} databases are not supported.")


def backup_database(*, path: Path, using: str = "default") -> Path:
    """Write a backup of the database to `path` (replaced only once complete)."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the backup file's name.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} does not exist.")
    connection = connections[using]
    engine = engine_of(connection.settings_dict)
    # Written beside the target, then renamed: a failed backup never replaces a good one.
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if engine == SQLITE:
            _sqlite_backup(connection, Path(partial))
        else:
            _pg_dump(connection.settings_dict, Path(partial))
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return path


def restore_database(*, path: Path, using: str = "default", settings_dict: dict | None = None):
    """Replace the database's content with the backup at `path`.

    `settings_dict` restores into another PostgreSQL database than `using`'s."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    connection = connections[using]
    settings_dict = settings_dict or connection.settings_dict
    if engine_of(settings_dict) == SQLITE:
        _sqlite_restore(connection, path)
    else:
        _pg_restore(settings_dict, path)


def _sqlite_backup(connection, target: Path) -> None:
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        with connection.wrap_database_errors:
            connection.connection.backup(destination)
        # The copy is a plain file: not WAL, so it is one self-contained file.
        destination.execute("PRAGMA journal_mode=DELETE")
        if destination.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("The backup copy failed its integrity check.")
    finally:
        destination.close()


def _sqlite_restore(connection, source_path: Path) -> None:
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        try:
            tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            raise BackupError(f"{source_path} is not a SQLite database.") from None
        if "django_migrations" not in tables:
            raise BackupError(f"{source_path} is not a Schoolgate backup (no migrations table).")
        connection.ensure_connection()
        if connection.in_atomic_block:
            raise BackupError("Cannot restore inside a transaction.")
        with connection.wrap_database_errors:
            source.backup(connection.connection)
    finally:
        source.close()


def _pg_command(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise BackupError(
            f"{tool} was not found: install PostgreSQL's client tools "
            f"(e.g. `apt install postgresql-client`) of the server's version or newer."
        )
    return found


def _pg_env(settings_dict: dict) -> tuple[list[str], dict]:
    """Connection options for pg_dump/pg_restore; the password goes in the environment."""
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return args, env


def _run(command: list[str], *, env: dict) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {done.stderr.strip() or done.returncode}")


def _pg_dump(settings_dict: dict, target: Path) -> None:
    args, env = _pg_env(settings_dict)
    _run(
        [
            _pg_command("pg_dump"),
            *args,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            "--dbname",
            settings_dict["NAME"],
        ],
        env=env,
    )


def _pg_restore(settings_dict: dict, source: Path) -> None:
    args, env = _pg_env(settings_dict)
    pg_restore = _pg_command("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(source)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{source} is not a pg_dump archive (custom format).")
    # One transaction: a restore that fails part-way leaves the database as it was.
    _run(
        [
            pg_restore,
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            settings_dict["NAME"],
            str(source),
        ],
        env=env,
    )
