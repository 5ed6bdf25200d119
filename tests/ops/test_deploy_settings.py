"""Production settings come from the environment and pass Django's deploy checks."""

import subprocess

from ops_helpers import SCHOOLGATE, SECRET

# The production environment of docs/deploy.md.
PRODUCTION = {
    "SECRET_KEY": SECRET,
    "DEBUG": "0",
    "SITE_URL": "https://parents.example.sch.uk",
    "ALLOWED_HOSTS": "parents.example.sch.uk",
    "EMAIL_HOST": "smtp.example.sch.uk",
    "DEFAULT_FROM_EMAIL": "Example School <parents@example.sch.uk>",
    "SECURE_SSL_REDIRECT": "1",
    "HSTS_INCLUDE_SUBDOMAINS": "1",
}


def deploy_check(tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SCHOOLGATE, "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": "/usr/bin:/bin", "SCHOOLGATE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )


def test_production_environment_passes_the_deploy_checks_without_a_warning(tmp_path):
    done = deploy_check(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_the_public_development_key_fails_the_deploy_checks(tmp_path):
    env = {**PRODUCTION}
    del env["SECRET_KEY"]
    done = deploy_check(tmp_path, **env)
    assert done.returncode != 0
    assert "schoolgate.E001" in done.stderr


def test_a_plain_http_site_url_is_warned_about(tmp_path):
    done = deploy_check(tmp_path, **{**PRODUCTION, "SITE_URL": "http://parents.example.sch.uk"})
    assert done.returncode != 0
    assert "schoolgate.W001" in done.stderr


def database_settings(tmp_path, **env) -> dict:
    """The default database's settings as a process started with `env` sees them."""
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES['default'];"
        "print(json.dumps({k: d.get(k) for k in "
        "('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'DISABLE_SERVER_SIDE_CURSORS')}))"
    )
    done = subprocess.run(
        [*SCHOOLGATE, "shell", "-c", code],
        env={"PATH": "/usr/bin:/bin", "SCHOOLGATE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


POSTGRES = "postgres://schoolgate@db.internal:5432/schoolgate"


def test_production_keeps_connections_for_ten_minutes_with_health_checks(tmp_path):
    production = database_settings(tmp_path, **PRODUCTION, DATABASE_URL=POSTGRES)
    development = database_settings(tmp_path, DEBUG="1", DATABASE_URL=POSTGRES)
    chosen = database_settings(tmp_path, **PRODUCTION, DATABASE_URL=POSTGRES, DB_CONN_MAX_AGE="60")

    assert production == {
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "DISABLE_SERVER_SIDE_CURSORS": False,
    }
    assert development["CONN_MAX_AGE"] == 0
    assert chosen["CONN_MAX_AGE"] == 60


def test_behind_pgbouncer_transaction_pooling_nothing_is_kept(tmp_path):
    pooled = database_settings(
        tmp_path, **PRODUCTION, DATABASE_URL=POSTGRES, DB_TRANSACTION_POOLING="1"
    )

    assert pooled["CONN_MAX_AGE"] == 0
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
