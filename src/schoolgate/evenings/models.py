"""Parents' evenings: the set-up, the precomputed slots, and the bookings.

The booking rules live in the database (docs/architecture.md rule 4), as unique rows:

- `SlotClaim`: one row per taken teacher slot, unique on the slot (rule 1). Breaks
  claim their slots too, so nothing can be booked in a break.
- `Appointment`: a conditional unique constraint on (evening, pupil, teacher,
  family_key) among live rows (rule 2); family_key is 0 when meetings are shared and
  the parent's id when each parent books their own.
- `ParentCell` and `ParentRoomCell`: one row per minute of a parent's time, unique on
  (evening, parent, minute) (rule 3). Room cells run on for the travel gap after each
  in-person appointment and carry the room, so two rooms cannot meet in one minute.

docs/architecture.md describes the design; `schoolgate.evenings.booking` writes
these rows, always in one transaction with the appointment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schoolgate.mis.models import Pupil, Staff, TeachingGroup


class Evening(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    class SplitFamilies(models.TextChoices):
        SHARED = "shared", _("One meeting per pupil and teacher, seen by everyone with access")
        SEPARATE = "separate", _("Separate meetings: each parent books their own")

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")
        BOTH = "both", _("In person or video")

    class RunBy(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served: parents book their own times")
        SCHOOL = "school", _("Scheduled by the school: families give wishes, the school builds it")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    booking_opens = models.DateTimeField(_("booking opens"))
    booking_closes = models.DateTimeField(_("booking closes"))
    cutoff_hours = models.PositiveSmallIntegerField(
        _("no booking or cancelling within this many hours of a slot"), null=True, blank=True
    )
    slot_minutes = models.PositiveSmallIntegerField(_("appointment length (minutes)"), default=5)
    max_per_pupil = models.PositiveSmallIntegerField(
        _("most appointments per pupil"), null=True, blank=True
    )
    max_per_parent = models.PositiveSmallIntegerField(
        _("most appointments per parent"), null=True, blank=True
    )
    travel_gap_minutes = models.PositiveSmallIntegerField(
        _("travel gap between rooms (minutes)"), default=0
    )
    split_families = models.CharField(
        _("split families"),
        max_length=10,
        choices=SplitFamilies.choices,
        default=SplitFamilies.SHARED,
    )
    mode = models.CharField(
        _("meetings"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON
    )
    # docs/school-scheduled-evenings.md: how appointments are made.
    run_by = models.CharField(
        _("how it is run"), max_length=10, choices=RunBy.choices, default=RunBy.FIRST_COME
    )
    # Who it is for: pupils in any of these years, or in any of these forms.
    year_groups = models.JSONField(_("year groups"), default=list, blank=True)
    registration_groups = models.ManyToManyField(
        TeachingGroup,
        verbose_name=_("registration groups"),
        blank=True,
        related_name="+",
        limit_choices_to={"kind": TeachingGroup.Kind.REGISTRATION},
    )
    # Running the evening (docs/absence-and-waiting-lists.md).
    teachers_set_breaks = models.BooleanField(
        _("teachers may set their own breaks before booking opens"), default=False
    )
    waiting_offer_hours = models.PositiveSmallIntegerField(
        _("a freed slot is held for the next family on the waiting list for (hours)"), default=24
    )
    # The type of the school's map of rooms (PNG, JPEG or PDF) when there is one; the
    # file itself is a RoomMap row, so that reading an evening never reads the map.
    room_map_type = models.CharField(max_length=50, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-booking_opens", "name"]
        permissions = [
            ("organise_evenings", "Set up and run parents' evenings"),
            ("book_for_parents", "Book, move and cancel appointments on a parent's behalf"),
            ("view_attendance", "See attendance figures for parents' evenings"),
            ("teach", "A teacher's own schedules, breaks, notes and attendance marks"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking_closes__gt=models.F("booking_opens")),
                name="evening_window_order",
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="evening_slot_minutes"),
        ]

    def __str__(self):
        return self.name

    @property
    def shared_meetings(self) -> bool:
        return self.split_families == self.SplitFamilies.SHARED


class EveningDay(models.Model):
    """One session: stored in UTC, shown in the school's time zone."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="days")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="evening_day_order"
            ),
        ]

    def __str__(self):
        start = timezone.localtime(self.starts_at)
        end = timezone.localtime(self.ends_at)
        return f"{start:%a %d %b %Y %H:%M}–{end:%H:%M}"

    @property
    def date(self):
        return timezone.localdate(self.starts_at)


class EveningTeacher(models.Model):
    """A member of staff taking part in one evening, with their room and length."""

    class Source(models.TextChoices):
        DERIVED = "derived", _("Teaches pupils the evening is for")
        ADDED = "added", _("Added by the organiser")

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="teachers")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DERIVED)
    # Removed teachers are kept so that deriving again does not bring them back.
    removed = models.BooleanField(default=False)
    room = models.CharField(_("room or location"), max_length=100, blank=True)
    video_link = models.URLField(_("video meeting link"), max_length=500, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("appointment length (minutes)"), null=True, blank=True
    )

    class Meta:
        ordering = ["staff__surname", "staff__forename"]
        constraints = [
            models.UniqueConstraint(fields=["evening", "staff"], name="one_entry_per_teacher"),
        ]

    def __str__(self):
        return str(self.staff)

    @property
    def minutes(self) -> int:
        return self.slot_minutes or self.evening.slot_minutes

    @property
    def room_key(self) -> str:
        """Rooms compare by this: 'S12' and ' s12 ' are one room."""
        return " ".join(self.room.split()).casefold()


class ClassLength(models.Model):
    """A longer appointment for one class (e.g. exam groups), a multiple of the
    teacher's own length: such an appointment takes several consecutive slots."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="class_lengths")
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evening", "group"], name="one_length_per_class"),
        ]


class Break(models.Model):
    """Time when some teachers (or all) take no appointments."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="breaks")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    label = models.CharField(max_length=100, blank=True)
    all_teachers = models.BooleanField(default=False)
    teachers = models.ManyToManyField(EveningTeacher, blank=True, related_name="breaks")
    # Who made it: a teacher may change only the breaks they made for themself
    # (evenings.teacher_tools); None for breaks made before this was recorded.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="break_order"
            ),
        ]

    def __str__(self):
        return self.label or f"Break {timezone.localtime(self.starts_at):%H:%M}"


class Slot(models.Model):
    """One bookable piece of a teacher's time, precomputed so it can be claimed once."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="slots")
    teacher = models.ForeignKey(EveningTeacher, on_delete=models.CASCADE, related_name="slots")
    day = models.ForeignKey(EveningDay, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "starts_at"], name="one_slot_per_time"),
        ]
        indexes = [models.Index(fields=["evening", "starts_at"])]

    def __str__(self):
        return f"{self.teacher} {timezone.localtime(self.starts_at):%a %H:%M}"


class Hold(models.Model):
    """Slots taken for a parent while they confirm; unconfirmed, they free themselves."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="holds")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"Hold {self.pk} for {self.parent}"


class Appointment(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")

    class Attendance(models.TextChoices):
        ATTENDED = "attended", _("Attended")
        DID_NOT_ATTEND = "did_not_attend", _("Did not attend")

    LIVE = (Status.HELD, Status.CONFIRMED)

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="appointments")
    day = models.ForeignKey(EveningDay, on_delete=models.PROTECT, related_name="appointments")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(
        EveningTeacher, on_delete=models.PROTECT, related_name="appointments"
    )
    # The parent whose appointment it is (whose time it takes), and who made it: the
    # parent, or a member of staff on their behalf.
    parent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # 0 when meetings are shared by everyone with access; the parent's id when separate.
    family_key = models.BigIntegerField(default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.IN_PERSON)
    message = models.TextField(_("message to the teacher"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    expires_at = models.DateTimeField(null=True, blank=True)  # set while held
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="moved_to"
    )
    # Limits a member of staff chose to pass, as the warnings they were shown.
    override_warnings = models.JSONField(default=list, blank=True)
    # Marked by the teacher (or the organiser) during or after the evening.
    attendance = models.CharField(
        _("attendance"), max_length=15, choices=Attendance.choices, blank=True
    )
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A video appointment's own meeting room (evenings.video.rooms): drawn at random
    # (>= 128 bits) the first time someone who may join opens the call; never shown to
    # anyone else.
    video_room = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evening", "pupil", "teacher", "family_key"],
                condition=Q(status__in=["held", "confirmed"]),
                name="one_live_meeting_per_pupil_teacher",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_order"
            ),
            models.CheckConstraint(
                condition=Q(status="held", expires_at__isnull=False)
                | (~Q(status="held") & Q(expires_at__isnull=True)),
                name="held_until_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["evening", "parent", "status"]),
            models.Index(fields=["evening", "pupil", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self):
        return f"{self.pupil} with {self.teacher} at {timezone.localtime(self.starts_at):%H:%M}"

    @property
    def in_person(self) -> bool:
        return self.method == self.Method.IN_PERSON


class SlotClaim(models.Model):
    """A taken slot: by an appointment (held or confirmed), or by a break."""

    slot = models.OneToOneField(Slot, on_delete=models.CASCADE, related_name="claim")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )
    brk = models.ForeignKey(
        Break, null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(appointment__isnull=True, brk__isnull=False)
                | Q(appointment__isnull=False, brk__isnull=True),
                name="claim_by_one_thing",
            ),
        ]


class ParentCell(models.Model):
    """One minute of a parent's time at an evening, taken by one appointment."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["evening", "parent", "minute"], name="parent_in_one_place"
            ),
        ]


class ParentRoomCell(models.Model):
    """The room a parent is in (or still walking from) in one minute: an in-person
    appointment takes its minutes and the travel gap after it. Appointments in the same
    room share a row (`refs` counts them); another room cannot take the minute."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    room = models.CharField(max_length=100)
    refs = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["evening", "parent", "minute"], name="parent_in_one_room"
            ),
            models.CheckConstraint(condition=Q(refs__gt=0), name="room_cell_refs"),
        ]


class BookingLock(models.Model):
    """A row to lock (SELECT ... FOR UPDATE) so that one parent's, or one pupil's,
    limit checks at an evening run one at a time."""

    class Kind(models.TextChoices):
        PARENT = "parent"
        PUPIL = "pupil"

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ref = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evening", "kind", "ref"], name="one_lock_row"),
        ]


class ReminderSent(models.Model):
    """The claim on one parent's day-before reminder for one evening: inserted in the
    transaction that queues the email, unique, so it goes once however many workers."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)
    message = models.ForeignKey(
        "outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evening", "parent"], name="one_reminder_per_parent"),
        ]


class CalendarFeed(models.Model):
    """A parent's secret calendar address (docs/calendars.md). The address carries an
    HMAC of `key` made with SECRET_KEY, so the database alone (a backup) does not give
    it away; a reset draws a new key and the old address stops working at once."""

    parent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of {self.parent}"


class RoomMap(models.Model):
    """The bytes of an evening's map of rooms (up to 5 MB), apart from the evening,
    which nearly every page reads (with joins that would carry the map too)."""

    evening = models.OneToOneField(
        Evening, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.BinaryField()


class AppointmentNote(models.Model):
    """A teacher's private note on one appointment: shown to its author only, never
    to another teacher, the organiser or the parents. Deleted by retention."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("private note"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "author"], name="one_note_per_author"),
        ]


class TeacherAbsence(models.Model):
    """A teacher away for the evening (no times) or part of it, and what was done with
    their appointments: cancelled (parents told and offered to rebook) or transferred
    to a substitute."""

    class Action(models.TextChoices):
        CANCEL = "cancel", _("Cancel the appointments")
        TRANSFER = "transfer", _("Transfer the appointments to another teacher")

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="absences")
    teacher = models.ForeignKey(EveningTeacher, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    substitute = models.ForeignKey(
        EveningTeacher, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What happened: counts and the clashes left for the organiser, for the page.
    outcome = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, ends_at__isnull=True)
                | Q(
                    starts_at__isnull=False,
                    ends_at__isnull=False,
                    ends_at__gt=models.F("starts_at"),
                ),
                name="absence_whole_or_part",
            ),
        ]


class WaitingListEntry(models.Model):
    """A family waiting for a full teacher. When a slot frees up the first waiting
    entry is offered it: a hold in the parent's name for `Evening.waiting_offer_hours`,
    then the next entry if it lapses."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a time")
        BOOKED = "booked", _("Booked")
        WITHDRAWN = "withdrawn", _("Left the waiting list")
        LAPSED = "lapsed", _("Offer not taken up")

    LIVE = (Status.WAITING, Status.OFFERED)

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="waiting_list")
    teacher = models.ForeignKey(
        EveningTeacher, on_delete=models.CASCADE, related_name="waiting_list"
    )
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(_("note to the school"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting_offers"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evening", "teacher", "pupil", "parent"],
                condition=Q(status__in=["waiting", "offered"]),
                name="one_live_waiting_entry",
            ),
        ]
        indexes = [models.Index(fields=["evening", "teacher", "status", "created_at"])]


class ChaseUp(models.Model):
    """A chase-up email to a parent who has not booked. Unique per parent and school
    day, so one click (or two organisers clicking) never emails a parent twice a day."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="chase_ups")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()  # in the school's time zone
    queued_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["parent", "sent_on"], name="one_chase_up_a_day"),
        ]


class RunningLate(models.Model):
    """What a teacher said about running late at an evening, and when (docs/evening-live.md).
    The latest row for a teacher is what families see; 0 minutes is "back on time".
    It never moves a booking and sends nothing."""

    teacher = models.ForeignKey(EveningTeacher, on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveSmallIntegerField()
    said_at = models.DateTimeField()
    said_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["said_at", "id"]
        indexes = [models.Index(fields=["teacher", "said_at"])]


# School-scheduled evenings keep their own models in their own module.
from schoolgate.evenings.school_scheduled.models import *  # noqa: E402, F403
