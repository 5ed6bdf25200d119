"""Friendly error pages, and a friendly 503 while the database is down."""

import psycopg
import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import Client

SIGN_IN = "/accounts/sign-in/"


def refuse(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


def test_page_not_found_is_friendly(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"govuk-frontend.min.css" in response.content


def test_a_page_the_account_may_not_see_is_a_friendly_403(client, parent_for, school):
    client.force_login(parent_for(school.contacts["ann"]))
    response = client.get("/staff/outbox/")
    assert response.status_code == 403
    assert b"You cannot see this page" in response.content


@pytest.mark.urls("ops_urls")
def test_a_bug_gives_the_friendly_500_page_even_without_a_database():
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(refuse):
        response = client.get("/test/boom")
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content
    assert b"Traceback" not in response.content and b"a bug" not in response.content


def test_database_down_gives_a_friendly_503_then_recovers(client):
    with connection.execute_wrapper(refuse):
        response = client.get(SIGN_IN)
    assert response.status_code == 503
    assert b"Sorry, the service is unavailable" in response.content
    assert b"Connection refused" not in response.content
    assert response["Retry-After"] == "30"
    assert response["X-Request-ID"]
    # The database is back: the very next request works.
    assert client.get(SIGN_IN).status_code == 200


def test_database_down_while_showing_the_404_page_gives_the_503_page():
    # The 404 page shows the school's name, which is read from the database.
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(refuse):
        response = client.get("/no-such-page/")
    assert response.status_code == 503
    assert b"Sorry, the service is unavailable" in response.content


@pytest.mark.urls("ops_urls")
def test_database_down_after_the_view_gives_the_503_page_too():
    # The session is saved by middleware once the view has returned.
    client = Client(raise_request_exception=False)
    with connection.execute_wrapper(refuse):
        response = client.get("/test/remember")
    assert response.status_code == 503
    assert b"Sorry, the service is unavailable" in response.content
    assert client.get("/test/remember").status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own disconnect")
@pytest.mark.django_db(transaction=True)
def test_connection_killed_by_postgresql_gives_503_then_a_new_connection_works(client):
    assert client.get(SIGN_IN).status_code == 200
    backend_pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    response = client.get(SIGN_IN)
    assert response.status_code == 503
    assert b"Sorry, the service is unavailable" in response.content
    # What Django does at the start of every request (the test client skips it):
    # a connection found broken is dropped, and the next query opens a new one.
    close_old_connections()
    assert client.get(SIGN_IN).status_code == 200
    assert connection.connection.info.backend_pid != backend_pid
