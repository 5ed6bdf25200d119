from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schoolgate.core.emails import normalise_email


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalise_email(email))

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One account per person; the normalised email is the sign-in name."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May sign in to the school's staff area.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("created"), default=timezone.now)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Set when the account was deactivated because the MIS no longer links its contact
    # to any pupil (accounts.orphans); the retention policy deletes it later.
    orphaned_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = normalise_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class AuditEntry(models.Model):
    """Who did what, when and why: every change of access and every admin action."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)  # "sync 12", "scheduler"
    action = models.CharField(max_length=60, db_index=True)
    subject = models.CharField(max_length=254, blank=True, db_index=True)  # usually an email
    detail = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject}"


class SharedEmailApproval(models.Model):
    """The office's decision that one email shared across families gets one account.

    It holds while the MIS data of that address is what it was when approved
    (`fingerprint`, see accounts.access.email_fingerprint); a change asks again."""

    email_key = models.CharField(max_length=254, unique=True)
    fingerprint = models.CharField(max_length=64)
    approved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return self.email_key


class RoleProfile(models.Model):
    """A role is a Django group; this holds what a group alone cannot say about it."""

    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="profile", verbose_name=_("group")
    )
    description = models.TextField(_("description"), blank=True)
    built_in = models.BooleanField(_("built in"), default=False)
    is_staff_role = models.BooleanField(
        _("staff role"), default=False, help_text=_("Members may use the school's staff area.")
    )

    class Meta:
        verbose_name = _("role")
        default_permissions = ()
        # The staff area's own permissions: not about one model, so they live here.
        permissions = [
            ("manage_users", _("Manage users and roles")),
            ("view_audit", _("Read the audit log")),
        ]

    def __str__(self):
        return self.group.name


class SignedInSession(models.Model):
    """A session a person signed in with, so that all of them can be ended at once."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.user} {self.signed_in_at:%Y-%m-%d %H:%M}"


class TOTPDevice(models.Model):
    """A staff member's authenticator app: the shared secret and what guards its use."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted, so that one code cannot be used twice.
    last_step = models.BigIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"TOTP for {self.user}"


class SignInFailure(models.Model):
    """One failed sign-in (docs/accounts.md, Lockout): the typed email, cut to the
    longest address there can be, the client address and the time; nothing else of
    the request is kept, so no row can grow with what a client sends."""

    EMAIL_LENGTH = 254

    email = models.CharField(max_length=EMAIL_LENGTH, db_index=True)
    address = models.CharField(max_length=45, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.email} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
