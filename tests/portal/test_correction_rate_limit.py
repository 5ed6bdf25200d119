"""Correction requests are rate-limited per parent (docs/accounts.md, Rate limits):
past the limit the 429 page and no CorrectionRequest row."""

from django.test import Client
from django.urls import reverse

from schoolgate.portal.models import CorrectionRequest


def test_corrections_ten_an_hour_per_parent_then_429_and_no_row(client, school, parents):
    client.force_login(parents["ann"])
    url = reverse("portal:my-details")
    for n in range(10):
        assert client.post(url, {"field": "phone", "details": f"number {n}"}).status_code == 302
    stored = CorrectionRequest.objects.count()

    refused = client.post(url, {"field": "phone", "details": "one more"})
    reading = client.get(url)
    other = Client()
    other.force_login(parents["al"])

    assert stored == 10
    assert refused.status_code == 429
    assert CorrectionRequest.objects.count() == 10
    assert reading.status_code == 200
    assert other.post(url, {"field": "phone", "details": "mine"}).status_code == 302
