"""The Data Dashboard: figures, the lists behind them, the pages and `schoolgate dashboard`."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS
from schoolgate.mis.dashboard import LISTS, dashboard_figures, dashboard_rows, year_label
from schoolgate.mis.snapshot import (
    ContactRow,
    GroupRow,
    LinkRow,
    PupilRow,
    Snapshot,
    StaffRow,
)
from schoolgate.mis.sync import apply_snapshot, sync_snapshot

EVERYTHING = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}


def messy_school() -> Snapshot:
    """One pupil or contact for each case the dashboard tells apart."""
    s = Snapshot(covers=set(EVERYTHING), full=True, source_format="test", files=["school"])
    pupils = [
        ("P1", "Amy", "Ash", 7),
        ("P2", "Ben", "Ash", 9),
        ("P3", "Cal", "Best", 7),
        ("P4", "Dee", "Dunn", 8),
        ("P5", "Eve", "Eng", 10),
        ("P6", "Fay", "Fox", 11),
        ("P7", "Gus", "Gray", 0),
        ("P9", "Hal", "Hu", None),
    ]
    for mis_id, forename, surname, year in pupils:
        s.pupils[mis_id] = PupilRow(mis_id, forename, surname, year_group=year)
    contacts = [
        ("C1", "Ann", "Ash", "ann@example.org"),
        ("C2", "Al", "Ash", "al@example.org"),
        ("C3", "Bea", "Best", ""),
        ("C4", "Dan", "Dunn", "dan@"),
        ("C5", "Ed", "Eng", "shared@example.org"),
        ("C6", "Em", "Eng", "SHARED@example.org"),
        ("C7", "Flo", "Fox", "flo@example.org"),
        ("C8", "Fred", "Fox", "fred@example.org"),
        ("C9", "Gail", "Gray", "gail@example.org"),
    ]
    for mis_id, forename, surname, email in contacts:
        s.contacts[mis_id] = ContactRow(mis_id, forename, surname, email=email)
    links = [
        LinkRow("P1", "C1", "PAM", True, 1),
        LinkRow("P1", "C2", "PAF", True, 2),
        LinkRow("P2", "C1", "PAM", True, 1),
        LinkRow("P3", "C3", "PAM", True, 1),
        LinkRow("P4", "C4", "PAF", True, 1),
        LinkRow("P5", "C5", "PAF", True, 1),
        LinkRow("P5", "C6", "PAM", True, 2),
        LinkRow("P6", "C7", "REL", False, 1),
        LinkRow("P6", "C8", "PAF", True, 2),
        LinkRow("P7", "C9", "PAM", True, 1, court_order=True),
    ]
    for link in links:
        s.links[(link.pupil_id, link.contact_id)] = link
    s.staff["S1"] = StaffRow("S1", "Tom", "Teach")
    s.staff["S2"] = StaffRow("S2", "Ria", "Reed")
    s.groups["7A"] = GroupRow("7A", "registration", "7A", year_group=7)
    s.groups["7MA"] = GroupRow("7MA", "class", "7 Maths", "Maths", 7)
    return s


def big_school(pupils: int) -> Snapshot:
    """Many families of the same shapes, to show query counts do not grow."""
    s = Snapshot(covers=set(EVERYTHING), full=True, files=["big"])
    for n in range(pupils):
        pid, cid = f"B{n}", f"BC{n}"
        s.pupils[pid] = PupilRow(pid, f"Pupil{n}", f"Family{n}", year_group=7 + n % 5)
        email = "" if n % 7 == 0 else f"bad{n}@" if n % 11 == 0 else f"parent{n}@example.org"
        s.contacts[cid] = ContactRow(cid, f"Parent{n}", f"Family{n}", email=email)
        s.links[(pid, cid)] = LinkRow(pid, cid, "PAM", n % 5 != 0, 1 + n % 2)
        if n % 13 == 0:  # shared with the next family's contact
            s.contacts[cid] = ContactRow(cid, f"Parent{n}", f"Family{n}", email="same@example.org")
    return s


def load(snapshot: Snapshot) -> None:
    with transaction.atomic():
        apply_snapshot(snapshot)


@pytest.fixture
def school():
    load(messy_school())


@pytest.fixture
def staff_client(client):
    user = User.objects.create_user("office@school.example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))  # holds SEE_MIS_DATA
    client.force_login(user)
    return client


@pytest.fixture
def parent_client(client):
    user = User.objects.create_user("ann@example.org", "pw")
    client.force_login(user)
    return client


def reasons(slug: str) -> dict:
    rows = dashboard_rows(slug=slug).object_list
    return {
        (row.pupil or row.contact).name if (row.pupil or row.contact) else row.email: row.reason
        for row in rows
    }


def test_figures_count_each_case(school):
    figures = dashboard_figures()
    last_sync = figures.pop("last_sync")
    assert last_sync is None
    assert figures == {
        "pupils_on_roll": 8,
        "contacts": 9,
        "links": 10,
        "staff": 2,
        "groups": 2,
        "contacts_pr_no_email": 1,
        "contacts_invalid_email": 1,
        "shared_emails": 0,  # Ed and Em Eng share one address as one household
        "pupils_no_account_all": 4,  # Cal, Dee, Gus, Hal
        "pupils_no_account_primary": 5,  # and Fay (Fred is priority 2)
        "contacts_not_primary": 3,  # Al, Em, Fred
        "accounts_all": 5,  # Ann, Al, Ed, Em, Fred
        "accounts_primary": 2,  # Ann, Ed
    }


def test_every_list_holds_as_many_rows_as_its_figure(school):
    figures = dashboard_figures()
    for slug, item in LISTS.items():
        assert dashboard_rows(slug=slug).paginator.count == figures[item.figure], slug


def test_off_roll_pupils_and_retired_staff_are_not_counted(school):
    snapshot = messy_school()
    del snapshot.pupils["P9"]
    del snapshot.staff["S2"]
    load(snapshot)
    figures = dashboard_figures()
    assert figures["pupils_on_roll"] == 7
    assert figures["staff"] == 1
    assert figures["pupils_no_account_all"] == 3


def test_last_sync_is_the_newest_run(school):
    run = sync_snapshot(messy_school(), trigger="api")
    last = dashboard_figures()["last_sync"]
    assert last["run_id"] == run.pk
    assert last["status"] == "succeeded"


def test_lists_name_the_people_and_say_why(school):
    assert reasons("pr-no-email") == {"Bea Best": "Parental responsibility but no email address"}
    assert "dan@" in reasons("invalid-email")["Dan Dunn"]
    no_account = reasons("pupils-no-account-all")
    assert no_account["Cal Best"] == "Bea Best: no email address"
    assert no_account["Dee Dunn"] == "Dan Dunn: email address not valid"
    assert "Eve Eng" not in no_account  # her parents' shared address is one household
    assert no_account["Gus Gray"] == "Gail Gray: court order"
    assert no_account["Hal Hu"] == "No contacts in the MIS"
    assert "Fay Fox" not in no_account
    primary = reasons("pupils-no-account-primary")
    assert primary["Fay Fox"] == "No contact with parental responsibility is priority 1"
    assert set(reasons("accounts-all")) == {"Ann Ash", "Al Ash", "Ed Eng", "Em Eng", "Fred Fox"}
    assert set(reasons("accounts-primary")) == {"Ann Ash", "Ed Eng"}
    assert set(reasons("not-primary")) == {"Al Ash", "Em Eng", "Fred Fox"}


def test_contact_rows_list_their_pupils_with_year(school):
    row = next(
        r for r in dashboard_rows(slug="accounts-all").object_list if r.contact.name == "Ann Ash"
    )
    assert [(p.name, p.year) for p in row.contact.pupils] == [
        ("Amy Ash", "Year 7"),
        ("Ben Ash", "Year 9"),
    ]


def test_an_email_shared_across_families_lists_both_families():
    snapshot = messy_school()
    # Ivy Ives's mother uses the Engs' address: two families, one address.
    snapshot.pupils["P10"] = PupilRow("P10", "Ivy", "Ives", year_group=7)
    snapshot.contacts["C10"] = ContactRow("C10", "Ida", "Ives", email="Shared@Example.org")
    snapshot.links[("P10", "C10")] = LinkRow("P10", "C10", "PAM", True, 1)
    load(snapshot)

    [row] = dashboard_rows(slug="shared-email").object_list
    assert row.email == "shared@example.org"
    assert {c.name: [p.name for p in c.pupils] for c in row.contacts} == {
        "Ed Eng": ["Eve Eng"],
        "Em Eng": ["Eve Eng"],
        "Ida Ives": ["Ivy Ives"],
    }
    assert dashboard_figures()["shared_emails"] == 1
    no_account = reasons("pupils-no-account-all")
    assert no_account["Eve Eng"] == (
        "Ed Eng: email address shared with another family; "
        "Em Eng: email address shared with another family"
    )


@pytest.mark.parametrize("size", [10, 300])
def test_figures_take_a_fixed_number_of_queries(size, django_assert_max_num_queries):
    load(big_school(size))
    # One more per access rule than the mirror alone needs: the office's approvals.
    with django_assert_max_num_queries(21):
        dashboard_figures()


@pytest.mark.parametrize("size", [10, 300])
@pytest.mark.parametrize("slug", sorted(LISTS))
def test_a_list_page_takes_a_fixed_number_of_queries(size, slug, django_assert_max_num_queries):
    load(big_school(size))
    with django_assert_max_num_queries(6):
        page = dashboard_rows(slug=slug)
        list(page.object_list)


def test_dashboard_page_shows_each_figure_as_a_link_to_its_list(school, staff_client):
    response = staff_client.get(reverse("mis:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for slug in LISTS:
        assert reverse("mis:dashboard-list", args=[slug]) in html


def test_list_page_is_a_table_with_caption_and_row_headers(school, staff_client):
    response = staff_client.get(reverse("mis:dashboard-list", args=["pupils-no-account-all"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<caption" in html and 'scope="row"' in html and 'scope="col"' in html
    assert "Gail Gray: court order" in html


def test_list_pages_hold_fifty_rows(staff_client):
    snapshot = Snapshot(covers={"pupils"}, full=True)
    for n in range(60):
        snapshot.pupils[f"X{n}"] = PupilRow(f"X{n}", "Pupil", f"Surname{n:02d}", year_group=7)
    load(snapshot)
    url = reverse("mis:dashboard-list", args=["pupils-no-account-all"])
    first = staff_client.get(url).content.decode()
    second = staff_client.get(url + "?page=2").content.decode()
    assert first.count('<th scope="row"') == 50
    assert second.count('<th scope="row"') == 10
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_unknown_list_is_404(staff_client):
    assert staff_client.get(reverse("mis:dashboard-list", args=["nope"])).status_code == 404


def test_parent_cannot_open_the_dashboard_or_its_lists(school, parent_client):
    assert parent_client.get(reverse("mis:dashboard")).status_code == 403
    for slug in LISTS:
        assert parent_client.get(reverse("mis:dashboard-list", args=[slug])).status_code == 403


def test_dashboard_command_prints_the_same_figures_as_json(school, capsys):
    call_command("dashboard", "--json")
    printed = json.loads(capsys.readouterr().out)
    expected = dashboard_figures()
    assert printed == {**expected, "last_sync": None}


def test_dashboard_command_prints_a_summary(school, capsys):
    call_command("dashboard")
    out = capsys.readouterr().out
    assert "Pupils on roll" in out and "8" in out


def test_year_labels_follow_the_mis_codes():
    assert [year_label(y) for y in (None, -2, -1, 0, 1, 11)] == [
        "",
        "Nursery 1",
        "Nursery 2",
        "Reception",
        "Year 1",
        "Year 11",
    ]
