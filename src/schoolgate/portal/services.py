"""The portal's writes: a parent asks for a correction; the office marks it done.

Neither touches the MIS mirror: the office applies the change in the MIS itself."""

from django.db import transaction
from django.utils import timezone

from schoolgate.accounts.audit import record
from schoolgate.portal.models import CorrectionRequest
from schoolgate.portal.selectors import my_contact


def request_correction(*, user, field: str, details: str) -> CorrectionRequest:
    """Store a parent's correction for the school office to apply in the MIS."""
    if field not in CorrectionRequest.Field.values:
        raise ValueError(f"field: {field!r} is not one of {', '.join(CorrectionRequest.Field)}")
    details = details.strip()
    if not details:
        raise ValueError("details: the correction is empty")
    contact = my_contact(user)
    with transaction.atomic():
        correction = CorrectionRequest.objects.create(
            requested_by=user,
            contact=contact,
            contact_name=contact.display_name if contact else "",
            field=field,
            details=details,
        )
        record(
            action="portal.correction_requested",
            subject=user.email,
            actor=user,
            correction=correction.pk,
            field=field,
        )
    return correction


def mark_correction_done(*, correction: CorrectionRequest, actor) -> bool:
    """Mark a request done once it is applied in the MIS; False if it already was."""
    with transaction.atomic():
        updated = CorrectionRequest.objects.filter(
            pk=correction.pk, status=CorrectionRequest.Status.OPEN
        ).update(status=CorrectionRequest.Status.DONE, done_at=timezone.now(), done_by=actor)
        if updated:
            record(
                action="portal.correction_done",
                subject=correction.requested_by.email,
                actor=actor,
                correction=correction.pk,
            )
    correction.refresh_from_db()
    return bool(updated)
