from schoolgate.accounts.models import AuditEntry


def record(
    *, action: str, subject: str = "", actor=None, actor_label: str = "", reason: str = "", **detail
) -> AuditEntry:
    """Write one audit entry (in the caller's transaction)."""
    return AuditEntry.objects.create(
        action=action,
        subject=subject,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or (str(actor) if actor is not None else ""),
        reason=reason,
        detail=detail,
    )
