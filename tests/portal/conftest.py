import pytest
from portal_school import make_parents


@pytest.fixture
def parents(school):
    """Accounts for every contact who may have one, by short name (tests/school.py)."""
    return make_parents(school)
