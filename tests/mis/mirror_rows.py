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


def mirror_rows(*, contact_ids: bool = True) -> dict[str, list]:
    """Every mirror table's rows. Without `contact_ids` contacts are known by name and
    email, for two sources that give the same people different ids (a CTF has none)."""

    def rows(queryset, *fields):
        return sorted(queryset.values_list(*fields), key=repr)

    person = ("forename", "surname", "email_key")
    contact = ("contact__mis_id",) if contact_ids else tuple(f"contact__{f}" for f in person)
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
        "contacts": rows(Contact.objects, *(("mis_id",) if contact_ids else ()), "title", *person),
        "links": rows(
            PupilContact.objects,
            "pupil__mis_id",
            *contact,
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
