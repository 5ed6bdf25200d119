"""core.local_time: the one place a local date and time becomes an aware datetime."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schoolgate.core.local_time import SkippedTime, aware_local

LONDON = ZoneInfo("Europe/London")


def test_a_time_on_the_school_clock_keeps_its_wall_clock_reading():
    # 29 March 2026: the clocks go forward at 01:00 GMT; 16:00 is BST, 15:00 UTC.
    value = aware_local(datetime(2026, 3, 29, 16, 0), LONDON)
    assert value.utcoffset() == timedelta(hours=1)
    assert (value.hour, value.minute) == (16, 0)


def test_a_time_the_clocks_skip_is_refused_not_moved():
    with pytest.raises(SkippedTime) as refused:
        aware_local(datetime(2026, 3, 29, 1, 30), LONDON)
    assert str(refused.value) == "01:30 does not exist on 2026-03-29"
