"""The whole mission in a real browser, as people live it, in one ordered story:

1. the administrator signs in, loads the demo school's CTF (and its timetable), reads
   the sync report and the Data Dashboard, creates the "MIS Parent" role, sets the
   add-on settings (that role, primary contacts, the school's own SMTP server, which
   is a real one here: a test email arrives) and generates accounts for primary
   contacts; the demo's parents' evening is published as `schoolgate demo` does;
2. a parent opens the invitation that reached the SMTP server, sets a password,
   signs out and in again, books for two children: one by "Find times for me", the
   other by choosing times with the keyboard alone; sees the countdown, confirms,
   and receives the confirmation with its .ics;
3. the office generates accounts for all contacts, and the children's other parent,
   on a phone, opens their invitation and sees the appointments the first parent
   booked;
4. the organiser signs in and, from the evening's overview, marks a booked teacher
   absent, cancelling their appointments; the parent sees the cancellation on the
   evening's page, and both parents receive it by email (METHOD:CANCEL);
5. a sync removes the first parent's parental responsibility for one child, and
   their next page load no longer shows that child (the other parent still sees it).

Emails go through the outbox, the real worker (`db_worker`) and a real SMTP server
(aiosmtpd). Every page is checked once with axe-core (WCAG 2.2 AA) at desktop and
phone sizes, or at the one size the person uses when the page is the answer to a form
(see browser_helpers.Visit.check); names start with "mission-"."""

import re
from datetime import UTC
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ORGANISERS, ensure_builtin_roles
from schoolgate.core.emails import normalise_email
from schoolgate.evenings.demo import set_up_demo_evening
from schoolgate.evenings.models import Appointment
from schoolgate.mis.demo import DEMO_ADMIN_EMAIL, demo_parent, generate_school, write_ctf
from schoolgate.mis.models import PupilContact
from schoolgate.outbox.testing import Received, SMTPServer, smtp_server

__all__ = ["smtp_server"]

pytestmark = pytest.mark.browser

PUPILS = 30
ADMIN_PASSWORD = "a long office passphrase"
PARENT_PASSWORD = "blue kettle morning 42"
OTHER_PASSWORD = "green teapot evening 17"
ORGANISER_EMAIL = "s.senior@school.example"
ORGANISER_PASSWORD = "a senior leader's passphrase"
SCHOOL_FROM = "office@school.example"
LINK = re.compile(r"https?://\S+/accounts/set-password/\S+")


# What a person does, in small steps.


def menu(page, label: str):
    """An item of the site's navigation menu."""
    return page.get_by_role("navigation", name="Menu").get_by_role("link", name=label, exact=True)


def row_values(page, label: str) -> list[str]:
    """The cells of the table row headed `label`."""
    row = page.locator("tr", has=page.locator("th", has_text=label))
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def success_banner(page):
    return page.locator(".govuk-notification-banner--success")


def sign_in_with_keyboard(page, *, email: str, password: str) -> None:
    """Type into the sign-in form without touching the mouse (the email field has focus)."""
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def tab_to(page, target, *, limit: int = 80) -> None:
    """Press Tab until `target` (a locator) has the focus: the keyboard moves, the locator
    only tells the test where the focus should land."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(element) => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def upload(page, *paths) -> None:
    page.get_by_label("Files from your MIS").set_input_files([str(path) for path in paths])
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sync report \d+$"))


def set_password_from(visit, invitation: Received, *, password: str) -> None:
    """Open the invitation's link and choose a password."""
    link = urlsplit(LINK.search(invitation.part("text/plain")).group(0))
    page = visit.goto(link.path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    page.get_by_role("button", name=re.compile("password", re.I)).click()
    page.wait_for_url(re.compile(r"/parents/(#main-content)?$"))


def booked_rows(page) -> list[str]:
    """The titles of the booked appointments' cards on an evening's page."""
    titles = page.locator("#appointments .govuk-summary-card__title")
    return [" ".join(t.split()) for t in titles.all_inner_texts()]


def children_on_home(page) -> list[str]:
    return page.locator("h2[id^=child-]").all_inner_texts()


# The mail: the outbox's worker sends through the school's SMTP server.


def run_the_worker() -> None:
    """What `schoolgate db_worker` does in production: every queued task, then exit."""
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def mail_to(server: SMTPServer, email: str, *, subject: str = "") -> list[Received]:
    return [
        m
        for m in server.messages
        if normalise_email(email) in [normalise_email(r) for r in m.rcpt_tos]
        and subject in str(m.message["Subject"])
    ]


def check_ics(received: Received, appointments, *, method: str) -> None:
    """The message's one .ics attachment: METHOD (in the file and in its MIME type), and
    for each appointment one VEVENT starting at its time in UTC, with a summary naming
    the pupil and the teacher."""
    (part,) = [
        p for p in received.message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert part.get_filename().endswith(".ics")
    assert part.get_param("method") == method
    raw = part.get_content()
    raw = raw.decode() if isinstance(raw, bytes) else raw
    calendar = Calendar.from_ical(raw)
    assert str(calendar["METHOD"]) == method
    events = [event for event in calendar.walk("VEVENT")]
    assert len(events) == len(appointments), [str(e["SUMMARY"]) for e in events]
    for appointment in appointments:
        teacher = appointment.teacher.staff.display_name
        (event,) = [e for e in events if teacher in str(e["SUMMARY"])]
        assert appointment.pupil.display_name in str(event["SUMMARY"])
        start = event.decoded("DTSTART")
        assert start.utcoffset() is not None and start.utcoffset().total_seconds() == 0
        assert start == appointment.starts_at.astimezone(UTC)
        # Written in UTC ("…Z"), with no time zone for a calendar to get wrong.
        assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in raw
        if method == "CANCEL":
            assert str(event["STATUS"]) == "CANCELLED"


def confirmed(parent: User) -> list[Appointment]:
    return list(
        Appointment.objects.filter(parent=parent, status=Appointment.Status.CONFIRMED)
        .select_related("teacher__staff", "pupil")
        .order_by("starts_at")
    )


# The story.


def test_the_whole_mission_as_people_would_walk_it(visit, visit_at, smtp_server, tmp_path):
    school = generate_school(tmp_path / "mis", pupils=PUPILS)
    User.objects.create_user(
        DEMO_ADMIN_EMAIL,
        ADMIN_PASSWORD,
        first_name="Demo",
        last_name="Administrator",
        is_staff=True,
        is_superuser=True,
    )
    office = visit
    page = office.page

    # 1. The administrator signs in with the keyboard alone and loads the demo CTF.
    office.goto("/accounts/sign-in/")
    office.check("mission-sign-in")
    sign_in_with_keyboard(page, email=DEMO_ADMIN_EMAIL, password=ADMIN_PASSWORD)
    page.wait_for_url("**/staff/mis/")
    expect(page.get_by_text("No data has been synced yet.")).to_be_visible()
    office.check("mission-dashboard-empty")
    menu(page, "Sync").click()
    office.check("mission-sync")
    upload(page, school.ctf, school.timetable)
    expect(page.get_by_text("The sync succeeded. This is its report.")).to_be_visible()
    assert row_values(page, "Pupils")[0] == str(PUPILS)
    office.check("mission-sync-report")

    # The demo's parents' evening, published as `schoolgate demo` does (its set-up
    # pages have their own browser test).
    evening = set_up_demo_evening()
    assert evening is not None

    # The Data Dashboard: what came in, and who will not get an account.
    menu(page, "Data Dashboard").click()
    on_roll = page.locator(".govuk-summary-list__row", has_text="Pupils on roll")
    expect(on_roll.locator("dd")).to_have_text(str(PUPILS))
    expect(page.get_by_role("link", name=re.compile("no email address"))).to_be_visible()
    primary_figure = page.locator("a[href$='/accounts-primary/'] .sg-figure").inner_text()
    office.check("mission-dashboard")

    # The "MIS Parent" role, with no permissions.
    menu(page, "User Manager").click()
    office.check("mission-users")
    page.get_by_role("link", name="Roles", exact=True).click()
    page.get_by_role("link", name="Create New Role").click()
    office.check("mission-role-create")
    page.get_by_label("Title").fill("MIS Parent")
    page.get_by_label("Description").fill("Parents' accounts made from the MIS.")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("The role “MIS Parent” was created.")).to_be_visible()
    office.check("mission-role-detail")

    # Add-on settings: the role, primary contacts, reminders, and the school's own mail
    # server, proved by a test email that arrives there.
    menu(page, "Add-ons").click()
    office.check("mission-addon-settings")
    page.get_by_label("Role for contact accounts").select_option(label="MIS Parent")
    page.get_by_label("Primary contacts only").check()
    page.get_by_label("Send reminders the day before an evening begins").check()
    page.get_by_label("SMTP server").fill(smtp_server.host)
    page.get_by_label("SMTP port").fill(str(smtp_server.port))
    page.get_by_label("Use STARTTLS").uncheck()
    page.get_by_label("From address").fill(SCHOOL_FROM)
    page.get_by_role("button", name=re.compile("^Save and send a test email")).click()
    expect(page.get_by_text(f"A test email was sent to {DEMO_ADMIN_EMAIL}")).to_be_visible()
    (test_email,) = mail_to(smtp_server, DEMO_ADMIN_EMAIL)
    assert test_email.mail_from == SCHOOL_FROM

    # MIS Accounts: what each choice would do, then accounts for primary contacts.
    menu(page, "MIS Accounts").click()
    office.check("mission-mis-accounts")
    would_create = row_values(page, "New accounts that would be created and invited")
    all_contacts, primary_only = (int(value) for value in would_create[:2])
    assert 0 < primary_only < all_contacts
    assert primary_only == int(primary_figure)  # as the Data Dashboard said
    page.get_by_label("Primary contacts only").check()
    page.get_by_role("button", name="Generate Contact Accounts").click()
    # No mass email on one click: a page says how many and who, then confirm.
    page.get_by_role("button", name="Create the accounts and send the emails").click()
    expect(success_banner(page)).to_contain_text(f"{primary_only} accounts were created")
    office.check("mission-mis-accounts-generated")

    # 2. The invitations go out through the worker and arrive at the SMTP server.
    run_the_worker()
    invitations = [m for m in smtp_server.messages if m is not test_email]
    assert len(invitations) == primary_only
    contact, children = demo_parent()
    assert contact is not None and len(children) == 2
    (invitation,) = mail_to(smtp_server, contact.email_key)
    assert invitation.mail_from == SCHOOL_FROM

    parent = office.another_person()
    ppage = parent.page
    link = urlsplit(LINK.search(invitation.part("text/plain")).group(0))
    parent.goto(link.path)
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Set your password")
    parent.check("mission-set-password")
    ppage.get_by_label("Password", exact=True).fill(PARENT_PASSWORD)
    ppage.get_by_label("Confirm password").fill(PARENT_PASSWORD)
    ppage.keyboard.press("Enter")
    ppage.wait_for_url(re.compile(r"/parents/(#main-content)?$"))

    # Signs out, and in again with the new password.
    ppage.get_by_role("button", name="Sign out").click()
    expect(ppage.get_by_label("Email address")).to_be_visible()
    sign_in_with_keyboard(ppage, email=contact.email_key, password=PARENT_PASSWORD)
    ppage.wait_for_url(re.compile(r"/parents/(#main-content)?$"))
    assert sorted(children_on_home(ppage)) == sorted(c.display_name for c in children)
    expect(ppage.get_by_text("Not booked").first).to_be_visible()
    parent.check("mission-portal-home")

    # Books the older child's teachers with "Find times for me".
    first, second = children
    ppage.get_by_role("link", name=f"Book now {evening.name} for {first.display_name}").click()
    expect(ppage.get_by_role("heading", level=1)).to_have_text(evening.name)
    parent.check("mission-evening")
    first_group = ppage.get_by_role("group", name=f"Teachers for {first.display_name}")
    first_teachers = first_group.locator("input[name=teacher]")
    assert first_teachers.count() >= 2
    first_teachers.nth(0).check()
    first_teachers.nth(1).check()
    ppage.get_by_role("button", name="Find times for me").click()
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Find times for me")
    parent.check("mission-automatic")
    ppage.get_by_label("The earliest you can be there").fill("16:00")
    ppage.get_by_label("The latest you can stay until").fill("17:00")
    ppage.get_by_role("button", name="Find times", exact=True).click()
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Suggested times")
    expect(ppage.locator("#itinerary tbody tr")).to_have_count(2)
    parent.check("mission-proposal", phone=False)
    ppage.get_by_role("button", name="Hold these times").click()

    # The countdown ticks while the times are held.
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    timer = ppage.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"Time left to confirm: [12]:\d\d"))
    shown = timer.inner_text()
    expect(timer).not_to_have_text(shown, timeout=3000)
    parent.check("mission-hold")
    ppage.get_by_role("button", name="Confirm appointments").click()
    expect(success_banner(ppage)).to_contain_text("Your 2 appointments are booked.")
    parent.check("mission-evening-booked")
    parent_user = User.objects.get(email=normalise_email(contact.email_key))
    automatic = confirmed(parent_user)
    assert [a.pupil_id for a in automatic] == [first.pk, first.pk]

    # The younger child's teacher, booked with the keyboard alone: choose the teacher,
    # choose a time that clashes with nothing, hold, confirm.
    ppage.goto(f"/parents/evenings/{evening.pk}/")  # back at the top of the page
    second_group = ppage.get_by_role("group", name=f"Teachers for {second.display_name}")
    # (a teacher the older child is not seeing, so that the absence later is one
    # teacher's one appointment)
    seen = {a.teacher.staff.display_name for a in automatic}
    boxes = second_group.locator("input[name=teacher]")
    teacher_box = next(
        box
        for box in boxes.all()
        if ppage.locator(f"label[for='{box.get_attribute('id')}']").inner_text().strip() not in seen
    )
    tab_to(ppage, teacher_box)
    ppage.keyboard.press("Space")
    expect(teacher_box).to_be_checked()
    tab_to(ppage, ppage.get_by_role("button", name="Choose times myself"))
    ppage.keyboard.press("Enter")
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Choose your times")
    parent.check("mission-manual")
    radios = ppage.locator("form#times input[type=radio]")
    tab_to(ppage, radios.first)
    ppage.keyboard.press("Space")  # the first free time
    for _ in range(40):  # arrow on past the times that clash with the other child's
        focused = ppage.locator("input[type=radio]:focus")
        if not focused.get_attribute("aria-describedby"):
            break
        ppage.keyboard.press("ArrowRight")
    focused = ppage.locator("input[type=radio]:focus")
    expect(focused).to_be_checked()
    assert not focused.get_attribute("aria-describedby")
    chosen_time = ppage.locator(f"label[for='{focused.get_attribute('id')}']").inner_text()
    tab_to(ppage, ppage.get_by_role("button", name="Continue"))
    ppage.keyboard.press("Enter")
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    expect(ppage.get_by_role("timer")).to_be_visible()
    tab_to(ppage, ppage.get_by_role("button", name="Confirm appointments"))
    ppage.keyboard.press("Enter")
    expect(success_banner(ppage)).to_contain_text("Your appointment is booked.")
    booked = confirmed(parent_user)
    manual = [a for a in booked if a.pupil_id == second.pk]
    assert len(booked) == 3 and len(manual) == 1
    assert timezone.localtime(manual[0].starts_at).strftime("%H:%M") == chosen_time.strip()
    rows = booked_rows(ppage)
    assert len(rows) == 3

    # The confirmations arrive, each with its .ics (METHOD:PUBLISH, times in UTC).
    run_the_worker()
    confirmations = mail_to(smtp_server, contact.email_key, subject="Appointments confirmed")
    assert len(confirmations) == 2
    by_pupil = {
        first.pk: next(m for m in confirmations if first.display_name in m.part("text/plain")),
        second.pk: next(m for m in confirmations if second.display_name in m.part("text/plain")),
    }
    check_ics(by_pupil[first.pk], automatic, method="PUBLISH")
    check_ics(by_pupil[second.pk], manual, method="PUBLISH")
    assert by_pupil[first.pk].mail_from == SCHOOL_FROM

    # 3. The office gives accounts to all contacts; the children's other parent, on a
    # phone, sets a password and sees the appointments the first parent booked.
    menu(page, "MIS Accounts").click()
    page.get_by_label("All contacts").check()
    page.get_by_role("button", name="Generate Contact Accounts").click()
    # No mass email on one click: a page says how many and who, then confirm.
    page.get_by_role("button", name="Create the accounts and send the emails").click()
    expect(success_banner(page)).to_contain_text("accounts were created")
    run_the_worker()
    (other_link,) = PupilContact.objects.filter(
        pupil=first, parental_responsibility=True, priority=2
    ).select_related("contact")
    other = other_link.contact
    (other_invitation,) = mail_to(smtp_server, other.email_key, subject="")
    other_parent = visit_at("phone")
    set_password_from(other_parent, other_invitation, password=OTHER_PASSWORD)
    opage = other_parent.page
    assert sorted(children_on_home(opage)) == sorted(c.display_name for c in children)
    opage.get_by_role("link", name=re.compile(f"^See or change.*for {first.display_name}")).click()
    expect(opage.get_by_role("heading", level=1)).to_have_text(evening.name)
    assert booked_rows(opage) == rows
    booked_by = opage.locator("#appointments .govuk-summary-list__row", has_text="Booked by")
    assert "You" not in [text.strip() for text in booked_by.locator("dd").all_inner_texts()]
    other_parent.check("mission-evening-other-parent")

    # 4. The organiser, a senior leader, signs in and marks the teacher of the first
    # appointment absent for the evening, cancelling their appointments.
    ensure_builtin_roles()
    organiser_user = User.objects.create_user(
        ORGANISER_EMAIL, ORGANISER_PASSWORD, first_name="Sam", last_name="Senior", is_staff=True
    )
    organiser_user.groups.add(Group.objects.get(name=ORGANISERS))
    organiser = office.another_person()
    organiser.goto("/accounts/sign-in/")
    sign_in_with_keyboard(organiser.page, email=ORGANISER_EMAIL, password=ORGANISER_PASSWORD)
    organiser.page.wait_for_url(re.compile(r"/staff/"))
    absent = automatic[0]
    organiser_marks_absent(organiser, evening, absent)
    run_the_worker()
    ppage.goto(f"/parents/evenings/{evening.pk}/")
    notice = ppage.locator("#cancelled-by-absence")
    expect(notice).to_contain_text("Cancelled because a teacher cannot be there")
    expect(notice).to_contain_text(f"{first.display_name} with {absent.teacher.staff}")
    assert len(booked_rows(ppage)) == 2
    expect(ppage.locator("#appointments")).not_to_contain_text(absent.teacher.staff.display_name)
    parent.check("mission-evening-after-absence")
    # Both parents are told, with an .ics that cancels the event.
    (cancellation,) = mail_to(smtp_server, contact.email_key, subject="Appointment cancelled")
    check_ics(cancellation, [absent], method="CANCEL")
    assert absent.teacher.staff.display_name in cancellation.part("text/plain")
    (other_cancellation,) = mail_to(smtp_server, other.email_key, subject="Appointment cancelled")
    check_ics(other_cancellation, [absent], method="CANCEL")

    # 5. The MIS no longer gives the first parent parental responsibility for the
    # younger child: on their next page load the child is gone.
    email = normalise_email(contact.email_key)
    (pupil,) = [p for p in school.school.pupils if p.upn == second.upn]
    (mis_link,) = [
        row
        for row in pupil.links
        if row.person.email and normalise_email(row.person.email) == email
    ]
    mis_link.responsibility = False
    changed = tmp_path / "changed"
    changed.mkdir()
    write_ctf(school.school, changed / school.ctf.name)
    office.goto("/staff/mis/sync/")
    upload(page, changed / school.ctf.name, school.timetable)
    assert row_values(page, "Pupil–contact links") == ["0", "1", "0"]
    office.check("mission-sync-report-changes")

    menu(ppage, "Your children").click()
    assert children_on_home(ppage) == [first.display_name]
    parent.check("mission-portal-home-after-sync")
    parent.goto(f"/parents/evenings/{evening.pk}/")
    assert booked_rows(ppage) and not [r for r in booked_rows(ppage) if second.display_name in r]
    expect(ppage.get_by_role("group", name=f"Teachers for {second.display_name}")).to_have_count(0)
    parent.goto(f"/parents/children/{second.pk}/", status=404)
    # The other parent keeps both children: access follows the MIS, person by person.
    other_parent.goto("/parents/")
    assert sorted(children_on_home(opage)) == sorted(c.display_name for c in children)
    other_parent.goto(f"/parents/children/{second.pk}/")


def organiser_marks_absent(organiser, evening, appointment) -> None:
    """From the organiser's evenings to the absence page: the teacher away for the whole
    evening, their appointments cancelled."""
    page = organiser.page
    menu(page, "Parents' evenings").click()
    organiser.check("mission-organiser-evenings")
    page.get_by_role("link", name=evening.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(evening.name)
    organiser.check("mission-organiser-evening")
    page.get_by_role("link", name="A teacher is absent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A teacher is absent")
    organiser.check("mission-absences")
    teacher = appointment.teacher.staff.display_name
    # The list says how many appointments each teacher has: this one, the family's.
    page.get_by_label("Which teacher is absent?").select_option(label=f"{teacher} (1 appointment)")
    page.get_by_label("The whole evening").check()
    page.get_by_label(re.compile("^Cancel them")).check()
    page.get_by_role("button", name="Mark absent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{teacher} is absent")
    expect(success_banner(page)).to_contain_text("1 appointment was cancelled")
    expect(page.locator("#cancelled")).to_contain_text(appointment.pupil.display_name)
    organiser.check("mission-absence")
