"""The add-on settings form: what each setting means, and checks that say what and where."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from schoolgate.addons.models import AddonSettings
from schoolgate.addons.services import parent_role_problem

HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:.]+\]?$")


class AddonSettingsForm(forms.ModelForm):
    """Every add-on setting; the SMTP password is write-only (blank keeps the saved one)."""

    # Any role is looked up, so that a staff role posted gets a reason, not "invalid";
    # only the fit ones are offered (see __init__).
    parent_group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label=_("Role for contact accounts"),
        empty_label=_("Choose a role"),
        help_text=_(
            "New parent accounts are added to this role. Only roles with no permissions are "
            "listed: parents can read their own children's information and book, nothing more. "
            "Create one (for example “MIS Parent”) in the User Manager."
        ),
        error_messages={
            "invalid_choice": _("Choose a role with no permissions for contact accounts.")
        },
    )
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    forget_password = forms.BooleanField(label=_("Remove the saved SMTP password"), required=False)
    smtp_port = forms.IntegerField(
        label=_("SMTP port"),
        min_value=1,
        max_value=65535,
        help_text=_("Usually 587 with STARTTLS, or 25."),
    )
    from_email = forms.EmailField(
        label=_("From address"),
        required=False,
        max_length=254,
        help_text=_("The address parents see emails come from, such as office@yourschool.sch.uk."),
    )

    class Meta:
        model = AddonSettings
        fields = [
            "school_name",
            "parent_group",
            "generation_mode",
            "auto_generate",
            "one_day_only",
            "day_before_reminders",
            "smtp_host",
            "smtp_port",
            "smtp_use_tls",
            "smtp_username",
            "smtp_password",
            "forget_password",
            "from_email",
        ]
        labels = {
            "school_name": _("School name"),
            "generation_mode": _("Which contacts get accounts"),
            "auto_generate": _("Generate accounts automatically when new contacts arrive by sync"),
            "one_day_only": _("Parents may book on only one day of a multi-day evening"),
            "day_before_reminders": _("Send reminders the day before an evening begins"),
            "smtp_host": _("SMTP server"),
            "smtp_use_tls": _("Use STARTTLS"),
            "smtp_username": _("SMTP user name"),
        }
        help_texts = {
            "smtp_host": _(
                "Your school's mail server, such as smtp.office365.com. Leave blank to use the "
                "Schoolgate default sender."
            ),
            "smtp_username": _("Leave blank if your mail server does not ask for a login."),
        }
        widgets = {"generation_mode": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        saved = bool(self.instance.smtp_password)
        self.fields["smtp_password"].help_text = (
            _("A password is saved. Leave blank to keep it.")
            if saved
            else _("Needed only if your mail server asks for a login.")
        )
        if not saved:
            del self.fields["forget_password"]
        field = self.fields["parent_group"]
        field.widget.choices = [("", field.empty_label)] + [
            (group.pk, group.name)
            for group in Group.objects.filter(permissions__isnull=True)
            .exclude(profile__is_staff_role=True)
            .exclude(profile__built_in=True)
            .order_by("name")
        ]
        self.fields["school_name"].help_text = _(
            "Shown on every page and in every email. Leave blank to use “%(default)s”."
        ) % {"default": settings.SCHOOLGATE["SCHOOL_NAME"]}

    def clean_parent_group(self):
        group = self.cleaned_data["parent_group"]
        problem = parent_role_problem(group)
        if problem:
            raise forms.ValidationError(problem, code="unfit_parent_role")
        return group

    def clean_smtp_host(self):
        host = self.cleaned_data["smtp_host"].strip()
        if host and not HOST.match(host):
            raise forms.ValidationError(
                _("Enter the server's name only, such as smtp.example.org (no “smtp://”, no port).")
            )
        return host

    def clean_smtp_password(self):
        # Blank keeps the saved password: it is never sent back to the browser.
        return self.cleaned_data["smtp_password"] or self.instance.smtp_password

    def clean(self):
        cleaned = super().clean()
        host, from_email = cleaned.get("smtp_host"), cleaned.get("from_email")
        if cleaned.get("forget_password"):
            cleaned["smtp_password"] = ""
        if host and not from_email and "from_email" not in self.errors:
            self.add_error(
                "from_email", _("Enter the from address to send through your school's server.")
            )
        if from_email and not host and "smtp_host" not in self.errors:
            self.add_error(
                "smtp_host", _("Enter your school's SMTP server to send from this address.")
            )
        if cleaned.get("smtp_username") and not cleaned.get("smtp_password"):
            self.add_error(
                "smtp_password", _("Enter the password for SMTP user name, or clear the user name.")
            )
        return cleaned
