"""Look up one pupil for the office: "does this child's mum have an account?"

Reads the mirror and the accounts; who may see the pupil is decided by
`accounts.access.qualifying_links`, as everywhere else."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from schoolgate.accounts.access import held_back_email_keys, qualifying_links
from schoolgate.accounts.models import User
from schoolgate.mis.models import Pupil, PupilContact

MATCHES = 25


def find_pupils(query: str) -> QuerySet[Pupil]:
    """Pupils whose UPN is `query`, or whose names contain every word of it."""
    query = query.strip()
    if not query:
        return Pupil.objects.none()
    pupils = Pupil.objects.all()
    by_upn = Q(upn__iexact=query)
    by_name = Q()
    for word in query.split():
        by_name &= (
            Q(legal_forename__icontains=word)
            | Q(legal_surname__icontains=word)
            | Q(preferred_forename__icontains=word)
            | Q(preferred_surname__icontains=word)
        )
    return pupils.filter(by_upn | by_name).order_by(
        "-on_roll", "legal_surname", "legal_forename", "pk"
    )[:MATCHES]


@dataclass(frozen=True)
class ContactLine:
    name: str
    relationship: str
    parental_responsibility: bool
    priority: int | None
    court_order: bool
    no_contact: bool
    email: str
    gives_access: bool
    account: User | None
    held_back: bool = False  # the email is shared with another family, not approved

    @property
    def signed_in(self) -> bool:
        return bool(self.account and self.account.last_login)


def pupil_contacts(pupil: Pupil) -> list[ContactLine]:
    """Each contact of the pupil, with what the MIS says and what Schoolgate made of it."""
    links = list(
        PupilContact.objects.filter(pupil=pupil)
        .select_related("contact")
        .order_by("priority", "contact__surname", "contact__forename", "pk")
    )
    giving = set(qualifying_links().filter(pupil=pupil).values_list("contact_id", flat=True))
    keys = {link.contact.email_key for link in links if link.contact.email_key}
    accounts = {user.email: user for user in User.objects.filter(email__in=keys)}
    held_back = set(
        held_back_email_keys().filter(email_key__in=keys).values_list("email_key", flat=True)
    )
    return [
        ContactLine(
            name=link.contact.display_name,
            relationship=link.relationship,
            parental_responsibility=link.parental_responsibility,
            priority=link.priority,
            court_order=link.court_order,
            no_contact=link.no_contact,
            email=link.contact.email,
            gives_access=link.contact_id in giving,
            account=accounts.get(link.contact.email_key),
            held_back=link.contact.email_key in held_back,
        )
        for link in links
    ]
