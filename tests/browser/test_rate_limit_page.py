"""The "Too many requests" page (HTTP 429, docs/accounts.md, Rate limits) at desktop
and phone sizes, with axe-core."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_too_many_requests_page(visit):
    link = reverse("accounts:set-password", args=["MQ", "set-password"])
    for _ in range(30):  # the limit for opening links from one address
        assert Client().get(link, REMOTE_ADDR="127.0.0.1").status_code == 200

    page = visit.goto(link, status=429)

    expect(page.get_by_role("heading", level=1)).to_have_text("Too many requests")
    visit.check("too-many-requests", status=429)
