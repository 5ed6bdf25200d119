import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request activates its language in this thread; leave no Welsh behind."""
    yield
    translation.deactivate()
