"""A fresh database for one bench run, shared by bench/grid.py, pdf.py and takeup.py.

A fresh SQLite file in a temp dir, or, with DATABASE_URL, a fresh PostgreSQL database
test_<name> (created, then dropped). Imported by the scripts as a sibling module: run
them as `.venv/bin/python bench/<script>.py`."""

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def run_in_fresh_database(prefix: str, run, *, header: str) -> None:
    """Set Django up on a fresh database, print where and `header`, call run(), and
    drop the database and the temp dir whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["SCHOOLGATE_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "schoolgate.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    old_name = connection.settings_dict["NAME"]
    try:
        if postgres:
            test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
            where = f"PostgreSQL ({test_name})"
        else:
            call_command("migrate", verbosity=0)
            where = f"SQLite ({connection.settings_dict['NAME']})"
        print(f"{where}; Python {platform.python_version()}; {os.cpu_count()} cores; {header}\n")
        run()
    finally:
        connection.close()
        if postgres:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)
