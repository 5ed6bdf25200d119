"""Rate limits on the pages anyone can flood (docs/accounts.md, Rate limits): past each
limit a friendly 429 page in English and Welsh, and no row of any kind; counts shared
through Redis when CACHE_URL is set; finished task rows pruned by the heartbeat."""

from datetime import timedelta

import pytest
import redis
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks_db.models import DBTaskResult

from schoolgate.accounts.models import SignInFailure, User
from schoolgate.accounts.tasks import send_new_link_if_account, send_reset_if_account
from schoolgate.outbox.models import OutboxMessage

FORGOT = reverse("accounts:forgot-password")
PASSWORD = "correct horse battery staple"


def uid(pk) -> str:
    return urlsafe_base64_encode(force_bytes(pk))


def rows() -> tuple[int, int]:
    return DBTaskResult.objects.count(), OutboxMessage.objects.count()


def test_forgot_password_ten_an_hour_from_one_address_then_429_and_no_row(client):
    statuses = [
        client.post(FORGOT, {"email": f"p{n}@example.org"}, REMOTE_ADDR="10.0.0.1").status_code
        for n in range(10)
    ]
    before = rows()

    refused = client.post(FORGOT, {"email": "p10@example.org"}, REMOTE_ADDR="10.0.0.1")
    elsewhere = client.post(FORGOT, {"email": "p11@example.org"}, REMOTE_ADDR="10.0.0.2")

    assert statuses == [302] * 10
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    page = refused.content.decode()
    assert "Too many requests" in page and "Wait 60 minutes and try again" in page
    assert page.count("<h1") == 1
    assert rows()[0] == before[0] + 1  # only the other address's request
    assert elsewhere.status_code == 302


def test_forgot_password_three_an_hour_for_one_email_whatever_the_address(client):
    for n in range(3):
        client.post(FORGOT, {"email": "Jo@Example.org"}, REMOTE_ADDR=f"10.0.1.{n}")
    before = rows()

    refused = client.post(FORGOT, {"email": "jo@example.org"}, REMOTE_ADDR="10.0.1.9")

    assert refused.status_code == 429
    assert rows() == before


def test_the_429_page_is_in_welsh_for_a_welsh_reader(client):
    client.cookies["django_language"] = "cy"
    for n in range(11):
        response = client.post(FORGOT, {"email": f"p{n}@example.org"}, REMOTE_ADDR="10.0.0.3")

    page = response.content.decode()
    assert response.status_code == 429
    assert 'lang="cy"' in page
    assert "Gormod o geisiadau" in page
    assert "Too many requests" not in page


def test_a_new_window_allows_again(client, monkeypatch):
    from schoolgate.core import ratelimit

    for n in range(11):
        last = client.post(FORGOT, {"email": f"p{n}@example.org"}, REMOTE_ADDR="10.0.0.4")
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0 + 3600)

    again = client.post(FORGOT, {"email": "p11@example.org"}, REMOTE_ADDR="10.0.0.4")

    assert last.status_code == 429 and again.status_code == 302


def test_walking_new_link_ids_from_one_address_reaches_ten_accounts_an_hour(client):
    """The issue's walk sent 58 emails to real accounts: now 10 lookups an hour per
    address, each for an id; the rest are refused before anything is queued."""
    accounts = [User.objects.create_user(f"u{n}@example.org", PASSWORD) for n in range(30)]
    statuses = [
        client.post(
            reverse("accounts:new-link", args=[uid(user.pk)]), REMOTE_ADDR="10.2.0.1"
        ).status_code
        for user in accounts
    ]

    queued = DBTaskResult.objects.filter(task_path=send_new_link_if_account.module_path)
    assert statuses == [302] * 10 + [429] * 20
    assert queued.count() == 10


def test_new_links_for_one_account_three_a_day_from_any_addresses(client):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    spellings = [uid(jo.pk), uid(jo.pk) + "=", uid(jo.pk), uid(jo.pk)]
    statuses = [
        client.post(
            reverse("accounts:new-link", args=[spelling]), REMOTE_ADDR=f"10.3.0.{n}"
        ).status_code
        for n, spelling in enumerate(spellings)
    ]

    queued = DBTaskResult.objects.filter(task_path=send_new_link_if_account.module_path)
    assert statuses == [302, 302, 302, 429]
    assert queued.count() == 3


def test_sign_in_sixty_a_minute_from_one_address_then_429_without_a_failure_row(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for n in range(60):
        client.post(
            reverse("accounts:sign-in"),
            {"username": f"p{n}@example.org", "password": "x"},
            REMOTE_ADDR="10.4.0.1",
        )
    failures = SignInFailure.objects.count()

    refused = client.post(
        reverse("accounts:sign-in"),
        {"username": "late@example.org", "password": "x"},
        REMOTE_ADDR="10.4.0.1",
    )
    page_still_opens = client.get(reverse("accounts:sign-in"), REMOTE_ADDR="10.4.0.1")

    assert refused.status_code == 429
    assert SignInFailure.objects.count() == failures
    assert page_still_opens.status_code == 200


def test_set_password_links_thirty_opens_in_ten_minutes_per_address(client):
    link = reverse("accounts:set-password", args=["MQ", "set-password"])
    statuses = [client.get(link, REMOTE_ADDR="10.5.0.1").status_code for _ in range(31)]

    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    assert client.get(link, REMOTE_ADDR="10.5.0.2").status_code == 200


@pytest.fixture
def shared_cache(settings):
    """The limiter on Redis (db 11), as with CACHE_URL: every server shares the counts."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/11",
            "KEY_PREFIX": "auth-tests",
        },
    }
    caches["default"].clear()
    yield redis.Redis.from_url("redis://127.0.0.1:6379/11")
    caches["default"].clear()


def test_with_a_shared_cache_the_counts_live_in_redis(client, shared_cache):
    for n in range(10):
        client.post(FORGOT, {"email": f"p{n}@example.org"}, REMOTE_ADDR="10.6.0.1")

    # What another web server would read: the count is in Redis, not in this process.
    keys = [k for k in shared_cache.keys("auth-tests:*ratelimit:forgot-password:address*")]
    assert len(keys) == 1
    assert int(shared_cache.get(keys[0])) == 10
    caches["default"].close()
    assert (
        client.post(FORGOT, {"email": "x@example.org"}, REMOTE_ADDR="10.6.0.1").status_code == 429
    )


def test_the_heartbeat_prunes_finished_email_task_rows_and_old_others():
    from schoolgate.ops.tasks import _prune_finished

    reset = send_reset_if_account.enqueue("someone@example.org")
    link = send_new_link_if_account.enqueue("MQ")
    waiting = send_reset_if_account.enqueue("waiting@example.org")
    old = send_reset_if_account.enqueue("old@example.org")
    recent_other = DBTaskResult.objects.create(
        task_path="schoolgate.mis.tasks.sync_drop_folder_task",
        args_kwargs={"args": [], "kwargs": {}},
        status="SUCCESSFUL",
        finished_at=timezone.now() - timedelta(days=1),
        backend_name="default",
    )
    old_other = DBTaskResult.objects.create(
        task_path="schoolgate.mis.tasks.sync_drop_folder_task",
        args_kwargs={"args": [], "kwargs": {}},
        status="SUCCESSFUL",
        finished_at=timezone.now() - timedelta(days=8),
        backend_name="default",
    )
    DBTaskResult.objects.filter(pk__in=[reset.id, link.id, old.id]).update(
        status="SUCCESSFUL", finished_at=timezone.now()
    )

    _prune_finished()

    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert {str(pk) for pk in left} == {str(waiting.id), str(recent_other.pk)}
    assert str(old_other.pk) not in {str(pk) for pk in left}
