"""The retention policy: what Schoolgate deletes, and when (settings RETAIN_*).

- parents' messages to teachers: blanked RETAIN_MESSAGES_DAYS after the evening's last
  day ends (the appointments themselves stay: they are the school's record);
- teachers' private notes on appointments: deleted at the same time as the messages;
- accounts whose contact the MIS no longer links to any pupil: deactivated at once
  (after each sync, accounts.orphans), deleted RETAIN_ORPHANED_ACCOUNTS_DAYS later with
  their appointments at evenings that are over; an account with an appointment at an
  evening still to come is kept and reported;
- sync reports: deleted RETAIN_SYNC_REPORTS_DAYS after they started.

`apply_retention(dry_run=True)` says what would go and changes nothing."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from schoolgate.accounts.audit import record
from schoolgate.accounts.orphans import parent_accounts, update_orphans
from schoolgate.evenings.models import Appointment, AppointmentNote, Evening
from schoolgate.mis.models import SyncRun


@dataclass
class RetentionReport:
    dry_run: bool
    messages: dict[str, int] = field(default_factory=dict)  # evening name: messages
    notes: dict[str, int] = field(default_factory=dict)  # evening name: private notes
    deactivated: list[str] = field(default_factory=list)
    accounts_deleted: list[str] = field(default_factory=list)
    accounts_kept: list[str] = field(default_factory=list)  # orphaned, evening to come
    sync_reports: int = 0

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "messages": self.messages,
            "notes": self.notes,
            "deactivated": self.deactivated,
            "accounts_deleted": self.accounts_deleted,
            "accounts_kept": self.accounts_kept,
            "sync_reports": self.sync_reports,
        }


def days(name: str) -> timedelta:
    return timedelta(days=settings.SCHOOLGATE[name])


def apply_retention(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    with transaction.atomic():
        _messages(report, now=now)
        _accounts(report, now=now)
        _sync_reports(report, now=now)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _messages(report: RetentionReport, *, now: datetime) -> None:
    over = (
        Evening.objects.annotate(last_end=Max("days__ends_at"))
        .filter(last_end__lte=now - days("RETAIN_MESSAGES_DAYS"))
        .order_by("last_end")
    )
    for evening in over:
        with_messages = Appointment.objects.filter(evening=evening).exclude(message="")
        count = with_messages.update(message="")
        if count:
            report.messages[evening.name] = count
        notes, _by_model = AppointmentNote.objects.filter(appointment__evening=evening).delete()
        if notes:
            report.notes[evening.name] = notes


def _accounts(report: RetentionReport, *, now: datetime) -> None:
    # Normally already done after each sync; here too, in case the parent role or
    # the generation mode changed since.
    changes = update_orphans(now=now, actor_label="retention")
    report.deactivated = changes["deactivated"]
    expired = parent_accounts().filter(
        is_active=False, orphaned_at__lte=now - days("RETAIN_ORPHANED_ACCOUNTS_DAYS")
    )
    for user in expired.order_by("email"):
        mine = Appointment.objects.filter(parent=user)
        if mine.filter(evening__days__ends_at__gt=now).exists():  # an evening to come
            report.accounts_kept.append(user.email)
            continue
        # The parent's time cells go with the appointments and the account (cascades).
        removed = mine.count()
        mine.delete()
        record(
            action="user.deleted",
            subject=user.email,
            actor_label="retention",
            reason=f"retention: no longer linked to any pupil since {user.orphaned_at:%Y-%m-%d}",
            appointments_deleted=removed,
        )
        user.delete()
        report.accounts_deleted.append(user.email)


def _sync_reports(report: RetentionReport, *, now: datetime) -> None:
    old = SyncRun.objects.filter(started_at__lte=now - days("RETAIN_SYNC_REPORTS_DAYS"))
    report.sync_reports = old.count()
    old.delete()
