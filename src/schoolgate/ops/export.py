"""Everything held about one person, for a subject access request.

Each app contributes a part: `register_export(name, func)`, where `func(*, email, user)`
gets the normalised email and the person's account (or None) and returns data that
JSON can carry. An app registers its part from its AppConfig.ready(). Data about other
people is left out or reduced to what is needed to make sense of this person's."""

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from schoolgate.core.emails import normalise_email

Exporter = Callable[..., Any]
_exporters: dict[str, Exporter] = {}


def register_export(name: str, func: Exporter) -> None:
    """Add (or replace) the part called `name` of every export."""
    _exporters[name] = func


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def export_user(*, email: str) -> dict:
    """{"email", "exported_at", "found", "parts": {name: data}} for one person."""
    from schoolgate.accounts.models import User

    key = normalise_email(email)
    user = User.objects.filter(email=key).first()
    parts = {name: func(email=key, user=user) for name, func in _exporters.items()}
    return {
        "email": key,
        "exported_at": timezone.now(),
        "found": _has_data(parts),
        "parts": parts,
    }


def _has_data(value) -> bool:
    if isinstance(value, dict):
        return any(_has_data(item) for item in value.values())
    return bool(value)


def _same_address(value: str, key: str) -> bool:
    return normalise_email(value) == key


def _account(*, email, user):
    if user is None:
        return None
    totp = getattr(user, "totp", None)  # None when no authenticator app was set up
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "date_joined": user.date_joined,
        "invited_at": user.invited_at,
        "last_login": user.last_login,
        # Whether a password is set, never the hash.
        "has_password": user.has_usable_password(),
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "authenticator_app": (
            {"set_up": True, "confirmed_at": totp.confirmed_at} if totp else {"set_up": False}
        ),
        # When they signed in, not the session keys (which would let one sign in as them).
        "sessions_signed_in_at": list(
            user.signed_in_sessions.order_by("signed_in_at").values_list("signed_in_at", flat=True)
        ),
    }


def _mis_contacts(*, email, user):
    from schoolgate.mis.models import Contact

    contacts = Contact.objects.filter(email_key=email).prefetch_related("pupil_links__pupil")
    return [
        {
            "mis_id": contact.mis_id,
            "title": contact.title,
            "forename": contact.forename,
            "surname": contact.surname,
            "email": contact.email,
            "phones": contact.phones,
            "pupils": [
                {
                    "pupil_mis_id": link.pupil.mis_id,
                    "pupil": link.pupil.display_name,
                    "year_group": link.pupil.year_group,
                    "on_roll": link.pupil.on_roll,
                    "relationship": link.relationship,
                    "parental_responsibility": link.parental_responsibility,
                    "priority": link.priority,
                    "court_order": link.court_order,
                    "no_contact": link.no_contact,
                }
                for link in contact.pupil_links.all()
            ],
        }
        for contact in contacts
    ]


def _mis_staff(*, email, user):
    from schoolgate.mis.models import Staff

    return [
        {
            "mis_id": staff.mis_id,
            "title": staff.title,
            "forename": staff.forename,
            "surname": staff.surname,
            "email": staff.email,
            "role": staff.role,
            "current": staff.current,
            "groups": sorted(group.name for group in staff.groups.all()),
        }
        for staff in Staff.objects.filter(email_key=email).prefetch_related("groups")
    ]


def _audit(*, email, user):
    from django.db.models import Q

    from schoolgate.accounts.models import AuditEntry

    about = Q(subject__iexact=email)
    if user is not None:
        about |= Q(actor=user)
    entries = []
    for entry in AuditEntry.objects.filter(about).order_by("at", "id"):
        if _same_address(entry.subject, email):
            entries.append(
                {
                    "at": entry.at,
                    "action": entry.action,
                    "by": entry.actor_label,
                    "detail": entry.detail,
                    "reason": entry.reason,
                }
            )
        elif user is not None and entry.actor_id == user.pk:
            # What they did to someone else: the act is theirs, the subject is not.
            entries.append({"at": entry.at, "action": entry.action, "by": "this person"})
    return entries


def _outbox(*, email, user):
    from schoolgate.outbox.models import OutboxMessage

    messages = OutboxMessage.objects.filter(to__iexact=email).order_by("created_at", "id")
    return [
        {
            "queued_at": message.created_at,
            "sent_at": message.sent_at,
            "status": message.status,
            "template": message.template,
            "from": message.from_email,
            "subject": message.subject,
            "text": message.body_text,
            "attempts": message.attempts,
            "last_error": message.last_error,
        }
        for message in messages
        if _same_address(message.to, email)
    ]


def _syncs_started(*, email, user):
    if user is None:
        return []
    from schoolgate.mis.models import SyncRun

    return [
        {"id": run.pk, "started_at": run.started_at, "trigger": run.trigger, "status": run.status}
        for run in SyncRun.objects.filter(started_by=user).order_by("started_at")
    ]


def _sign_in_records(*, email, user):
    """What the lockout holds: the times and addresses of failed sign-ins as this email
    (kept LOCKOUT_WINDOW_MINUTES), and the last successful sign-in."""
    from schoolgate.accounts.models import SignInFailure

    return {
        "failed_attempts": list(
            SignInFailure.objects.filter(email=email).order_by("at").values("at", "address")
        ),
        "last_sign_in": user.last_login if user is not None else None,
    }


def _evening_notes(*, email, user):
    """The private notes this person wrote as a teacher on appointments (their own
    words; the appointment reduced to its evening, time and pupil)."""
    if user is None:
        return []
    from schoolgate.evenings.models import AppointmentNote

    notes = AppointmentNote.objects.filter(author=user).select_related(
        "appointment__evening", "appointment__pupil"
    )
    return [
        {
            "evening": note.appointment.evening.name,
            "appointment_starts_at": note.appointment.starts_at,
            "pupil": note.appointment.pupil.display_name,
            "text": note.text,
            "updated_at": note.updated_at,
        }
        for note in notes.order_by("appointment__starts_at", "pk")
    ]


register_export("account", _account)
register_export("mis_contacts", _mis_contacts)
register_export("mis_staff", _mis_staff)
register_export("audit", _audit)
register_export("emails", _outbox)
register_export("syncs_started", _syncs_started)
register_export("sign_in_records", _sign_in_records)
register_export("evening_notes", _evening_notes)
