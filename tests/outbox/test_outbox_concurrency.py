"""Two workers claiming at once, each with its own database connection."""

import threading

import pytest
from django.db import connection, connections

from schoolgate.outbox import sending
from schoolgate.outbox.services import queue_emails

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker(claimed: list, errors: list, start: threading.Barrier) -> None:
    try:
        start.wait()
        while True:
            token, messages = sending.claim_batch(limit=7)
            if not messages:
                return
            claimed.extend(m.pk for m in messages)
            sending.send_batch(token=token, messages=messages)
    except Exception as error:  # reported by the test, not lost in the thread
        errors.append(error)
    finally:
        connections.close_all()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks with SKIP LOCKED are PostgreSQL's"
)
def test_two_workers_never_send_one_message_twice(school_mail):
    queue_emails(
        [
            {"to": f"parent{n}@example.org", "template": "addons_test", "context": {}}
            for n in range(300)
        ]
    )
    claims: list[list[int]] = [[], [], []]
    errors: list[Exception] = []
    start = threading.Barrier(len(claims))
    workers = [
        threading.Thread(target=run_worker, args=(claimed, errors, start)) for claimed in claims
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    all_claimed = [pk for claimed in claims for pk in claimed]
    assert len(all_claimed) == len(set(all_claimed)) == 300
    assert sum(1 for claimed in claims if claimed) >= 2  # they really did share the work
    recipients = [m.rcpt_tos[0] for m in school_mail.messages]
    assert len(recipients) == len(set(recipients)) == 300
