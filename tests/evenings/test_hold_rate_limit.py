"""Holding times is rate-limited per parent (docs/accounts.md, Rate limits): past the
limit the friendly 429 page, and no Hold row."""

from test_parent_pages import at, key, upcoming_evening, url

from schoolgate.evenings.models import Hold


def test_the_31st_hold_in_ten_minutes_is_refused_and_holds_nothing(client, school):
    evening = upcoming_evening(school)
    client.force_login(school.ann)
    pick = {f"slot-{key(school.amy, evening, school, 'S-MIA')}": 0}
    slots = [at(evening, school, "S-MIA", 16, minute).pk for minute in range(0, 60, 10)]

    statuses = []
    for n in range(30):
        pick = {name: slots[n % len(slots)] for name in pick}
        statuses.append(client.post(url("hold-slots", evening.pk), pick).status_code)
    holds = Hold.objects.count()
    refused = client.post(url("hold-slots", evening.pk), pick)

    assert set(statuses) == {302}
    assert refused.status_code == 429
    assert "Too many requests" in refused.text
    assert Hold.objects.count() == holds


def test_another_parent_is_not_held_back_by_the_first(client, school):
    evening = upcoming_evening(school)
    client.force_login(school.ann)
    pick = {
        f"slot-{key(school.amy, evening, school, 'S-MIA')}": at(evening, school, "S-MIA", 16, 0).pk
    }
    for _ in range(31):
        client.post(url("hold-slots", evening.pk), pick)

    client.force_login(school.bea)
    other = {
        f"slot-{key(school.cal, evening, school, 'S-MIA')}": at(evening, school, "S-MIA", 17, 0).pk
    }

    assert client.post(url("hold-slots", evening.pk), other).status_code == 302
