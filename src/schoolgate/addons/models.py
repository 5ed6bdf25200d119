from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from schoolgate.core import secrets


class AddonSettings(models.Model):
    """The school's settings for the parent add-ons: one row per installation."""

    class GenerationMode(models.TextChoices):
        ALL = "all", _("All contacts (parental responsibility and an email)")
        PRIMARY = (
            "primary",
            _("Primary contacts only (parental responsibility, priority 1 and an email)"),
        )

    school_name = models.CharField(_("school name"), max_length=200, blank=True)
    parent_group = models.ForeignKey(
        Group,
        verbose_name=_("role for contact accounts"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    one_day_only = models.BooleanField(
        _("parents may book on only one day of a multi-day evening"), default=False
    )
    day_before_reminders = models.BooleanField(
        _("send reminders the day before an evening begins"), default=True
    )
    auto_generate = models.BooleanField(
        _("generate accounts automatically when new contacts arrive by sync"), default=False
    )
    generation_mode = models.CharField(
        _("which contacts get accounts"),
        max_length=10,
        choices=GenerationMode.choices,
        default=GenerationMode.ALL,
    )
    # The "email add-on": the school's own mail server. Blank host = platform sender.
    smtp_host = models.CharField(_("SMTP server"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_username = models.CharField(_("SMTP user name"), max_length=200, blank=True)
    # Stored encrypted (schoolgate.core.secrets); read it with `decrypt`, never show it.
    smtp_password = models.CharField(_("SMTP password"), max_length=1000, blank=True)
    smtp_use_tls = models.BooleanField(_("use STARTTLS"), default=True)
    from_email = models.CharField(_("from address"), max_length=254, blank=True)
    # The video add-on: a Jitsi Meet server for video appointments (docs/video.md).
    video_server = models.URLField(_("Jitsi Meet server"), max_length=200, blank=True)
    video_app_id = models.CharField(_("JWT app ID"), max_length=200, blank=True)
    # Encrypted with core.secrets; never sent back to the browser.
    video_app_secret = models.TextField(_("JWT app secret"), blank=True)

    class Meta:
        verbose_name = _("add-on settings")
        verbose_name_plural = _("add-on settings")

    def __str__(self):
        return "Add-on settings"

    def save(self, *args, **kwargs):
        # A password typed in is encrypted before it is written; one already stored is kept.
        if self.smtp_password and not self.smtp_password.startswith(secrets.PREFIX):
            self.smtp_password = secrets.encrypt(self.smtp_password)
        super().save(*args, **kwargs)

    @property
    def uses_school_mail(self) -> bool:
        return bool(self.smtp_host and self.from_email)
