"""The MIS mirror: what the school's MIS holds, keyed by the MIS's own ids.

Only the sync engine (`schoolgate.mis.sync`) writes these tables."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Pupil(models.Model):
    mis_id = models.CharField(max_length=100, unique=True)
    upn = models.CharField(_("UPN"), max_length=13, blank=True, db_index=True)
    legal_forename = models.CharField(max_length=100)
    legal_surname = models.CharField(max_length=100)
    preferred_forename = models.CharField(max_length=100, blank=True)
    preferred_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    year_group = models.SmallIntegerField(null=True, blank=True, db_index=True)
    on_roll = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["legal_surname", "legal_forename"]

    def __str__(self):
        return self.display_name

    @property
    def forename(self) -> str:
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str:
        return self.preferred_surname or self.legal_surname

    @property
    def display_name(self) -> str:
        return f"{self.forename} {self.surname}"


class Contact(models.Model):
    mis_id = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=30, blank=True)
    forename = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100, blank=True)
    # As the MIS holds it (trimmed), and the normalised key: '' when missing or invalid.
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True)
    phones = models.JSONField(default=list, blank=True)  # [{"type": "M", "number": "..."}]

    class Meta:
        ordering = ["surname", "forename"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.title, self.forename, self.surname) if p)

    @property
    def has_invalid_email(self) -> bool:
        return bool(self.email) and not self.email_key


class PupilContact(models.Model):
    """The pupil-contact relationship; PR and priority belong here, not to the person."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="pupil_links")
    relationship = models.CharField(max_length=60, blank=True)
    parental_responsibility = models.BooleanField(default=False)
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    court_order = models.BooleanField(default=False)
    no_contact = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "contact"], name="unique_pupil_contact")
        ]
        indexes = [models.Index(fields=["contact", "pupil"])]
        ordering = ["priority"]

    def __str__(self):
        return f"{self.contact} → {self.pupil}"


class Staff(models.Model):
    mis_id = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=30, blank=True)
    forename = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True)
    role = models.CharField(max_length=100, blank=True)
    # Staff who leave stay referenced by past evenings, so they are retired, not deleted.
    current = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["surname", "forename"]
        verbose_name_plural = "staff"

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.title and self.surname:
            return f"{self.title} {self.forename[:1]} {self.surname}".replace("  ", " ")
        return " ".join(p for p in (self.forename, self.surname) if p)


class TeachingGroup(models.Model):
    class Kind(models.TextChoices):
        REGISTRATION = "registration", _("Registration group")
        CLASS = "class", _("Class")

    mis_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=100, blank=True)
    year_group = models.SmallIntegerField(null=True, blank=True)
    current = models.BooleanField(default=True, db_index=True)
    pupils = models.ManyToManyField(Pupil, through="GroupMembership", related_name="groups")
    teachers = models.ManyToManyField(Staff, through="GroupTeacher", related_name="groups")

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "pupil"], name="unique_group_member")
        ]
        indexes = [models.Index(fields=["pupil", "group"])]


class GroupTeacher(models.Model):
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "staff"], name="unique_group_teacher")
        ]


class SyncRun(models.Model):
    """The report of one sync, kept as history."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        # A full file that would take many pupils off roll or deactivate many accounts:
        # nothing changed; a person who may run syncs confirms it (docs/sync.md).
        HELD = "held", _("Needs confirming")

    class Trigger(models.TextChoices):
        UPLOAD = "upload", _("Upload on the Sync page")
        COMMAND = "command", _("Command line")
        SCHEDULED = "scheduled", _("Scheduled drop folder")
        API = "api", _("API")
        PULL = "pull", _("Scheduled pull from the MIS")

    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    source_format = models.CharField(max_length=40, blank=True)
    files = models.JSONField(default=list)
    full = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict)
    warnings = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # A held run: {"counts": {...}, "files": [{"path", "name"}], "source_format",
    # "confirmed_by"}; the files are kept until it is confirmed or out of date.
    hold = models.JSONField(default=dict, blank=True)
    # SHA-256 of each file's bytes, in order: a succeeded run's hashes let an
    # identical file set be skipped unread next time.
    file_hashes = models.JSONField(default=list, blank=True)
    # Skipped unread: the files were byte for byte those of the last succeeded run.
    unchanged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        # Capabilities over the mirror (docs/permissions.md): not about one model.
        permissions = [
            ("view_mis_data", "See MIS data and contacts"),
            ("run_sync", "Run a sync from MIS files and confirm large changes"),
        ]

    def __str__(self):
        return f"Sync {self.pk} ({self.status})"


class Attendance(models.Model):
    """A pupil's attendance for one school year at one school, as the CTF's Attendance
    section carries it (sessions are half days). Written only by the sync engine."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance")
    year = models.PositiveSmallIntegerField()  # the calendar year the school year starts in
    school = models.CharField(max_length=20, blank=True)  # LEA/Estab, e.g. "838/3321"
    school_name = models.CharField(max_length=200, blank=True)
    sessions_possible = models.PositiveIntegerField(null=True, blank=True)
    sessions_attended = models.PositiveIntegerField(null=True, blank=True)
    sessions_authorised = models.PositiveIntegerField(null=True, blank=True)
    sessions_unauthorised = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pupil", "-year", "school"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "year", "school"], name="one_attendance_per_pupil_year_school"
            )
        ]

    def __str__(self):
        return f"{self.pupil} {self.year} {self.school}"


class DataSource(models.Model):
    """Where the mirror's data comes from: files (upload, command, drop folder), a
    OneRoster REST service or Wonde; one row. Secrets are stored encrypted
    (`schoolgate.core.secrets`) and never shown back (docs/import-oneroster-api.md)."""

    class Kind(models.TextChoices):
        FILES = "files", _("Files (upload, drop folder or command line)")
        ONEROSTER = "oneroster", _("OneRoster API")
        WONDE = "wonde", _("Wonde")

    kind = models.CharField(
        _("Data source"), max_length=20, choices=Kind.choices, default=Kind.FILES
    )
    oneroster_url = models.URLField(_("OneRoster service address"), max_length=500, blank=True)
    oneroster_version = models.CharField(
        _("OneRoster version"),
        max_length=5,
        choices=[("1.1", "1.1"), ("1.2", "1.2")],
        default="1.2",
    )
    oneroster_token_url = models.URLField(
        _("Token address (OneRoster 1.2)"), max_length=500, blank=True
    )
    oneroster_client_id = models.CharField(
        _("Client id (consumer key)"), max_length=200, blank=True
    )
    oneroster_client_secret = models.TextField(blank=True)  # encrypted
    wonde_school_id = models.CharField(_("Wonde school id"), max_length=100, blank=True)
    wonde_api_url = models.URLField(_("Wonde API address"), max_length=500, blank=True)
    wonde_token = models.TextField(blank=True)  # encrypted
    # The times of day (school time, HH:MM, comma-separated) a pull runs.
    sync_times = models.CharField(
        _("Times to sync each day"), max_length=200, default="07:00,13:00"
    )
    last_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Data source: {self.kind}"

    @classmethod
    def load(cls) -> "DataSource":
        source, _created = cls.objects.get_or_create(pk=1)
        return source
