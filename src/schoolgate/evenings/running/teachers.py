"""Which evenings' teachers a signed-in member of staff is.

A staff account is linked to the MIS staff record with the same email address
(accounts.users.create_staff_accounts makes them so): the link is the email key,
never a name."""

from django.db.models import QuerySet

from schoolgate.core.emails import normalise_email
from schoolgate.evenings.models import EveningTeacher
from schoolgate.mis.models import Staff


def staff_records_for(user) -> QuerySet[Staff]:
    if not user.is_authenticated or not user.is_staff or not user.email:
        return Staff.objects.none()
    return Staff.objects.filter(email_key=normalise_email(user.email))


def teacher_entries_for(user, *, evening=None) -> QuerySet[EveningTeacher]:
    """The user's places at evenings (removed teachers left out)."""
    entries = EveningTeacher.objects.filter(
        staff__in=staff_records_for(user), removed=False
    ).select_related("evening", "staff")
    if evening is not None:
        entries = entries.filter(evening=evening)
    return entries
