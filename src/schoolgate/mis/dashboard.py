"""Selectors for the Data Dashboard: every figure, and the list behind each one.

Each figure and each page of a list costs a fixed number of queries, whatever the
size of the school. Who qualifies for an account is decided by
`schoolgate.accounts.access`, never re-implemented here."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from schoolgate.mis.access import ALL, PRIMARY, held_back_email_keys, qualifying_links
from schoolgate.mis.models import (
    Contact,
    Pupil,
    PupilContact,
    Staff,
    SyncRun,
    TeachingGroup,
)

PER_PAGE = 50


@dataclass(frozen=True)
class DashboardList:
    slug: str
    figure: str  # its key in dashboard_figures()
    title: str
    hint: str


LISTS = {
    item.slug: item
    for item in (
        DashboardList(
            "pr-no-email",
            "contacts_pr_no_email",
            gettext_lazy("Contacts with parental responsibility but no email address"),
            gettext_lazy("They cannot get an account until the MIS holds their email."),
        ),
        DashboardList(
            "invalid-email",
            "contacts_invalid_email",
            gettext_lazy("Contacts with an email address that is not valid"),
            gettext_lazy("Correct the address in the MIS and sync again."),
        ),
        DashboardList(
            "shared-email",
            "shared_emails",
            gettext_lazy("Email addresses shared by different families"),
            gettext_lazy(
                "Contacts who share an address and have parental responsibility for the "
                "same pupils are one household and share one account. These addresses "
                "reach different pupils, so nobody gets their account until you correct "
                "the MIS or approve one account for them."
            ),
        ),
        DashboardList(
            "pupils-no-account-all",
            "pupils_no_account_all",
            gettext_lazy("Pupils with no contact who could get an account"),
            gettext_lazy(
                "No contact has parental responsibility and a valid email address of their own."
            ),
        ),
        DashboardList(
            "pupils-no-account-primary",
            "pupils_no_account_primary",
            gettext_lazy("Pupils with no primary contact who could get an account"),
            gettext_lazy(
                "Under “primary contacts only”, no priority 1 contact has parental "
                "responsibility and a valid email address of their own."
            ),
        ),
        DashboardList(
            "not-primary",
            "contacts_not_primary",
            gettext_lazy("Contacts who are not a priority 1 contact"),
            gettext_lazy(
                "They have parental responsibility and an email address, but are priority 1 "
                "for none of their children: under “primary contacts only” they get no account."
            ),
        ),
        DashboardList(
            "accounts-all",
            "accounts_all",
            gettext_lazy("Contacts who would get an account: all contacts"),
            gettext_lazy("Parental responsibility and a valid email address of their own."),
        ),
        DashboardList(
            "accounts-primary",
            "accounts_primary",
            gettext_lazy("Contacts who would get an account: primary contacts only"),
            gettext_lazy(
                "Parental responsibility, priority 1 and a valid email address of their own."
            ),
        ),
    )
}


# The querysets behind the figures: one place, so a figure and its list always agree.


def _pr_no_email() -> QuerySet[Contact]:
    pr_links = PupilContact.objects.filter(pupil__on_roll=True, parental_responsibility=True)
    return Contact.objects.filter(email="", pk__in=pr_links.values("contact_id"))


def _invalid_email() -> QuerySet[Contact]:
    return Contact.objects.exclude(email="").filter(email_key="")


def _pupils_no_account(mode: str) -> QuerySet[Pupil]:
    covered = qualifying_links(mode=mode).values("pupil_id")
    return Pupil.objects.filter(on_roll=True).exclude(pk__in=covered)


def _not_primary() -> QuerySet[Contact]:
    """Contacts who would qualify with all contacts, but not with primary ones only."""
    primary = qualifying_links(mode=PRIMARY).values("contact_id")
    return _accounts(ALL).exclude(pk__in=primary)


def _accounts(mode: str) -> QuerySet[Contact]:
    return Contact.objects.filter(pk__in=qualifying_links(mode=mode).values("contact_id"))


def dashboard_figures() -> dict:
    """Every Data Dashboard figure, keyed by stable snake_case names (see docs/sync.md)."""
    last = SyncRun.objects.select_related("started_by").first()
    return {
        "pupils_on_roll": Pupil.objects.filter(on_roll=True).count(),
        "contacts": Contact.objects.count(),
        "links": PupilContact.objects.count(),
        "staff": Staff.objects.filter(current=True).count(),
        "groups": TeachingGroup.objects.filter(current=True).count(),
        "last_sync": None
        if last is None
        else {
            "run_id": last.pk,
            "started_at": last.started_at,
            "finished_at": last.finished_at,
            "status": last.status,
            "trigger": last.trigger,
        },
        "contacts_pr_no_email": _pr_no_email().count(),
        "contacts_invalid_email": _invalid_email().count(),
        "shared_emails": held_back_email_keys().count(),
        "pupils_no_account_all": _pupils_no_account(ALL).count(),
        "pupils_no_account_primary": _pupils_no_account(PRIMARY).count(),
        "contacts_not_primary": _not_primary().count(),
        "accounts_all": _accounts(ALL).count(),
        "accounts_primary": _accounts(PRIMARY).count(),
    }


@dataclass(frozen=True)
class PupilRef:
    name: str
    year_group: int | None

    @property
    def year(self) -> str:
        return year_label(self.year_group)


@dataclass(frozen=True)
class ContactRef:
    name: str
    email: str
    pupils: tuple[PupilRef, ...] = ()


@dataclass
class DashboardRow:
    """One line of a list: a contact, a pupil or (shared emails) an address."""

    reason: str
    contact: ContactRef | None = None
    pupil: PupilRef | None = None
    email: str = ""
    contacts: list[ContactRef] = field(default_factory=list)


def dashboard_rows(*, slug: str, page: int | str = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the list behind a figure; `page.object_list` holds DashboardRows.

    Raises KeyError for an unknown slug."""
    builders = {
        "pr-no-email": lambda: _contact_page(
            _pr_no_email(),
            page,
            per_page,
            links=PupilContact.objects.filter(parental_responsibility=True),
            reason=lambda c: _("Parental responsibility but no email address"),
        ),
        "invalid-email": lambda: _contact_page(
            _invalid_email(),
            page,
            per_page,
            links=PupilContact.objects.all(),
            reason=lambda c: _("“%(email)s” is not a valid email address") % {"email": c.email},
        ),
        "shared-email": lambda: _shared_page(page, per_page),
        "pupils-no-account-all": lambda: _pupil_page(ALL, page, per_page),
        "pupils-no-account-primary": lambda: _pupil_page(PRIMARY, page, per_page),
        "not-primary": lambda: _contact_page(
            _not_primary(),
            page,
            per_page,
            links=qualifying_links(mode=ALL),
            reason=lambda c: _("Parental responsibility, but not priority 1"),
        ),
        "accounts-all": lambda: _contact_page(
            _accounts(ALL),
            page,
            per_page,
            links=qualifying_links(mode=ALL),
            reason=lambda c: _("Parental responsibility and a valid email address"),
        ),
        "accounts-primary": lambda: _contact_page(
            _accounts(PRIMARY),
            page,
            per_page,
            links=qualifying_links(mode=PRIMARY),
            reason=lambda c: _("Parental responsibility, priority 1 and a valid email address"),
        ),
    }
    return builders[slug]()


def _paginate(queryset, page, per_page) -> Page:
    return Paginator(queryset, per_page).get_page(page)


def _pupil_ref(pupil: Pupil) -> PupilRef:
    return PupilRef(pupil.display_name, pupil.year_group)


def _pupils_by_contact(links: QuerySet[PupilContact], contact_ids) -> dict[int, list[PupilRef]]:
    """On-roll pupils of each contact through `links`, in one query."""
    pupils = defaultdict(list)
    # Filtered and sorted here, not in SQL: SQLite would otherwise walk every pupil on
    # roll (its on_roll index) instead of the few links of this page's contacts.
    rows = links.filter(contact_id__in=contact_ids).select_related("pupil").order_by()
    rows = sorted(
        (link for link in rows if link.pupil.on_roll),
        key=lambda link: (link.pupil.legal_surname, link.pupil.legal_forename, link.pupil_id),
    )
    for link in rows:
        pupils[link.contact_id].append(_pupil_ref(link.pupil))
    return pupils


def _contact_page(queryset, page, per_page, *, links, reason) -> Page:
    result = _paginate(queryset.order_by("surname", "forename", "pk"), page, per_page)
    contacts = list(result.object_list)
    pupils = _pupils_by_contact(links, [c.pk for c in contacts])
    result.object_list = [
        DashboardRow(
            reason=reason(c),
            contact=ContactRef(c.display_name, c.email, tuple(pupils[c.pk])),
        )
        for c in contacts
    ]
    return result


def _shared_page(page, per_page) -> Page:
    result = _paginate(held_back_email_keys().order_by("email_key"), page, per_page)
    keys = [row["email_key"] for row in result.object_list]
    contacts = list(Contact.objects.filter(email_key__in=keys).order_by("surname", "forename"))
    pupils = _pupils_by_contact(PupilContact.objects.all(), [c.pk for c in contacts])
    by_key = defaultdict(list)
    for c in contacts:
        by_key[c.email_key].append(ContactRef(c.display_name, c.email, tuple(pupils[c.pk])))
    result.object_list = [
        DashboardRow(
            reason=ngettext(
                "%(count)d different contact has this address",
                "%(count)d different contacts have this address",
                len(by_key[key]),
            )
            % {"count": len(by_key[key])},
            email=key,
            contacts=by_key[key],
        )
        for key in keys
    ]
    return result


def _pupil_page(mode: str, page, per_page) -> Page:
    queryset = _pupils_no_account(mode).order_by("legal_surname", "legal_forename", "pk")
    result = _paginate(queryset, page, per_page)
    pupils = list(result.object_list)
    links = defaultdict(list)
    for link in (
        PupilContact.objects.filter(pupil__in=pupils)
        .select_related("contact")
        .order_by("priority", "contact__surname", "pk")
    ):
        links[link.pupil_id].append(link)
    keys = {link.contact.email_key for group in links.values() for link in group}
    shared = set(
        held_back_email_keys().filter(email_key__in=keys - {""}).values_list("email_key", flat=True)
    )
    result.object_list = [
        DashboardRow(
            reason=_why_no_account(links[p.pk], mode=mode, shared=shared),
            pupil=_pupil_ref(p),
            contacts=[
                ContactRef(link.contact.display_name, link.contact.email) for link in links[p.pk]
            ],
        )
        for p in pupils
    ]
    return result


def _why_no_account(links: list[PupilContact], *, mode: str, shared: set[str]) -> str:
    """Why none of this pupil's contacts qualifies, in the words staff would use."""
    if not links:
        return _("No contacts in the MIS")
    candidates = [link for link in links if link.parental_responsibility]
    if not candidates:
        return _("No contact has parental responsibility")
    if mode == PRIMARY:
        candidates = [link for link in candidates if link.priority == 1]
        if not candidates:
            return _("No contact with parental responsibility is priority 1")
    reasons = []
    for link in candidates:
        contact = link.contact
        if link.court_order:
            why = _("court order")
        elif link.no_contact:
            why = _("marked no contact")
        elif not contact.email:
            why = _("no email address")
        elif not contact.email_key:
            why = _("email address not valid")
        elif contact.email_key in shared:
            why = _("email address shared with another family")
        else:  # Only reachable if the data changed between the two queries.
            why = _("not eligible")
        reasons.append(f"{contact.display_name}: {why}")
    return "; ".join(reasons)


def year_label(year_group: int | None) -> str:
    """'Year 7', 'Reception', 'Nursery 2' (N2 = -1, the year before Reception); '' if unknown."""
    if year_group is None:
        return ""
    if year_group == 0:
        return _("Reception")
    if year_group < 0:
        return _("Nursery %(n)d") % {"n": 3 + year_group}
    return _("Year %(n)d") % {"n": year_group}
