"""A checksum of every MIS mirror row, to prove a refused or held sync changed nothing."""

import hashlib

from schoolgate.mis.models import (
    Attendance,
    Contact,
    GroupMembership,
    GroupTeacher,
    Pupil,
    PupilContact,
    Staff,
    TeachingGroup,
)

MIRROR = (
    Pupil,
    Contact,
    PupilContact,
    Staff,
    TeachingGroup,
    GroupMembership,
    GroupTeacher,
    Attendance,
)


def mirror_checksum() -> str:
    """SHA-256 over every row's values of every mirror table, in primary-key order."""
    digest = hashlib.sha256()
    for model in MIRROR:
        digest.update(model.__name__.encode())
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()
