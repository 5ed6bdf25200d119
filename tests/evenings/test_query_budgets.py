"""Query budgets for a parent's visit (issue 13): each page of the booking path stays
within a fixed number of SQL queries, and that number does not grow as the evening
fills. Budgets, not timings: a query count is the same on a busy machine as a quiet one.
The budgets are ceilings set for where the pages should stay, with a little room; a
change that makes a page need more must say why here."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from evenings_school import make_school
from test_parent_pages import book_now, key, upcoming_evening, url

from schoolgate.evenings.models import Hold

# The pages of one visit, and the most SQL queries each may take (session, user and
# two-factor look-ups included: three of every page's count).
BUDGETS = {
    "evening page": 18,
    "automatic form": 16,
    "plan": 26,
    "hold": 42,
    "hold page": 13,
    "confirm": 32,
}


def counted(step: str, spent: dict, call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    spent[step] = len(queries)
    assert response.status_code in (200, 302), f"{step}: {response.status_code}"
    return response


def visit(client, school, evening) -> dict[str, int]:
    """Ann books Amy's and Ben's teachers by "find times for me"; queries per step."""
    spent = {}
    client.force_login(school.ann)
    client.get(url("list"))  # what a first page of the session does once is not the visit's
    counted("evening page", spent, lambda: client.get(url("evening", evening.pk)))
    counted("automatic form", spent, lambda: client.get(url("automatic", evening.pk)))
    chosen = [
        key(school.amy, evening, school, "S-MIA"),
        key(school.amy, evening, school, "S-EVE"),
        key(school.ben, evening, school, "S-SAM"),
    ]
    plan = counted(
        "plan",
        spent,
        lambda: client.post(
            url("automatic", evening.pk), {"teacher": chosen, "earliest": "", "latest": ""}
        ),
    )
    fields = dict(re.findall(r'name="(slot-[\d-]+)" value="(\d+)"', plan.text))
    assert len(fields) == 3
    counted("hold", spent, lambda: client.post(url("hold-slots", evening.pk), fields))
    hold = Hold.objects.get(parent=school.ann, confirmed_at__isnull=True)
    counted("hold page", spent, lambda: client.get(url("hold", evening.pk, hold.pk)))
    counted("confirm", spent, lambda: client.post(url("confirm", evening.pk, hold.pk), {}))
    assert hold.appointments.filter(status="confirmed").count() == 3
    return spent


def test_each_page_of_a_visit_keeps_to_its_budget(client):
    school = make_school()
    evening = upcoming_evening(school)
    spent = visit(client, school, evening)
    over = {step: (n, BUDGETS[step]) for step, n in spent.items() if n > BUDGETS[step]}
    assert over == {}, f"queries over budget (spent, budget): {over}"


def test_a_visit_costs_the_same_queries_on_a_full_evening_as_an_empty_one(client):
    """Flat as the evening fills: 20 other families' bookings add no query to the visit."""
    school = make_school(extra_families=20)
    empty = upcoming_evening(school, name="Empty evening")
    quiet = visit(client, school, empty)

    busy_evening = upcoming_evening(school, name="Busy evening")
    for n, (parent, child) in enumerate(school.racers()):
        # Twelve of Mia's 18 times (Ann still finds one) and eight of Tom's.
        teacher, n = ("S-MIA", n) if n < 12 else ("S-TOM", n - 12)
        book_now(school, busy_evening, parent, (child, teacher, 16 + n // 6, (n % 6) * 10))
    school.ann.refresh_from_db()
    busy = visit(client, school, busy_evening)

    assert busy_evening.appointments.filter(status="confirmed").count() == 23
    assert busy == quiet
