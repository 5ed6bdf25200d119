import pytest


@pytest.fixture(autouse=True)
def _media_and_data(settings, tmp_path):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "SYNC_DROP_DIR": str(tmp_path / "drop")}


@pytest.fixture(autouse=True)
def _database(db):
    """Every test may use the database; pages read the school's settings from it."""
