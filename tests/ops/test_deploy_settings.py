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
