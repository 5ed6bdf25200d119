import pytest


@pytest.fixture(autouse=True)
def _media_and_data(settings, tmp_path):
    settings.SCHOOLGATE = {
        **settings.SCHOOLGATE,
        "SYNC_DROP_DIR": str(tmp_path / "drop"),
        "SYNC_HELD_DIR": str(tmp_path / "held-syncs"),
    }


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    """Rate-limit counts live in the cache: each test starts from none, with the
    limiter's clock held still so that no count straddles two windows."""
    from django.core.cache import cache

    from schoolgate.core import ratelimit

    cache.clear()
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0)


@pytest.fixture(autouse=True)
def _database(db):
    """Every test may use the database; pages read the school's settings from it."""


# A ready school for any test (see tests/school.py): families, staff, groups, users.
@pytest.fixture
def school():
    from school import build_school

    return build_school()


@pytest.fixture
def parent_role():
    """The "MIS Parent" role, chosen in the add-on settings for contact accounts."""
    from school import make_parent_role

    return make_parent_role()


@pytest.fixture
def parent_for():
    """parent_for(contact) -> that contact's account (found by email, made if none)."""
    from school import parent_user

    return parent_user
