"""The whole mirror as plain sorted rows, to compare two ways of loading the same data."""

from schoolgate.mis.models import (
    Contact,
    GroupMembership,
    GroupTeacher,
    Pupil,
    PupilContact,
    Staff,
    TeachingGroup,
)

MIRROR = (GroupMembership, GroupTeacher, PupilContact, Contact, Pupil, Staff, TeachingGroup)


def mirror_rows(*, contact_key: str = "mis_id") -> dict[str, list]:
    """Every mirror table's rows; contacts keyed by `contact_key` (e.g. email_key when two
    sources give the same people different ids)."""

    def rows(queryset, *fields):
        return sorted(queryset.values_list(*fields), key=repr)

    contact = "contact__mis_id" if contact_key == "mis_id" else f"contact__{contact_key}"
    return {
        "pupils": rows(
            Pupil.objects,
            "mis_id",
            "upn",
            "legal_forename",
            "legal_surname",
            "preferred_forename",
            "preferred_surname",
            "date_of_birth",
            "year_group",
            "on_roll",
        ),
        "contacts": rows(Contact.objects, contact_key, "title", "forename", "surname", "email_key"),
        "links": rows(
            PupilContact.objects,
            "pupil__mis_id",
            contact,
            "relationship",
            "parental_responsibility",
            "priority",
            "court_order",
        ),
        "staff": rows(
            Staff.objects, "mis_id", "title", "forename", "surname", "email", "role", "current"
        ),
        "groups": rows(TeachingGroup.objects, "name", "kind", "subject", "year_group", "current"),
        "memberships": rows(GroupMembership.objects, "group__name", "pupil__mis_id"),
        "group_teachers": rows(GroupTeacher.objects, "group__name", "staff__mis_id"),
    }


def empty_mirror() -> None:
    for model in MIRROR:
        model.objects.all().delete()
