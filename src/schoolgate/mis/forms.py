from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

MAX_FILES = 10


class FileInput(forms.FileInput):
    """A file input that takes several files (named so GOV.UK styles it as a file upload)."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = FileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Choose at most %(max)d files at a time") % {"max": MAX_FILES}, code="too_many"
            )
        # Refused here, before it is copied anywhere: the importers cap what they read
        # too (docs/sync.md, "Limits"), but a file this big need not reach them.
        limit = settings.SCHOOLGATE.get("MIS_FILE_MAX_MB", 50)
        for upload in files:
            if upload.size > limit * 1024 * 1024:
                raise forms.ValidationError(
                    _("%(file)s is larger than %(limit)s MB, the most one file may be")
                    % {"file": upload.name, "limit": limit},
                    code="too_big",
                )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class SyncForm(forms.Form):
    FORMAT_CHOICES = [
        ("", _("Work it out from the files (recommended)")),
        ("ctf", _("Common Transfer File (CTF) XML")),
        ("oneroster", _("OneRoster CSV bundle (.zip)")),
        ("csv", _("Schoolgate pupils and contacts CSV template")),
        ("timetable", _("Schoolgate timetable CSV (groups, teachers and members)")),
    ]

    files = MultipleFileField(
        label=_("Files from your MIS"),
        help_text=_(
            "A CTF, a OneRoster .zip, the pupils and contacts CSV template and/or a "
            "timetable CSV. Choose several files to load them together, for example a "
            "CTF and a timetable CSV."
        ),
        error_messages={"required": _("Choose at least one file to sync")},
    )
    source_format = forms.ChoiceField(
        label=_("Format"),
        choices=FORMAT_CHOICES,
        required=False,
        initial="",
        widget=forms.RadioSelect,
    )


class DataSourceForm(forms.Form):
    """Where the mirror's data comes from; secrets are never shown back, and a secret
    field left blank keeps the one saved."""

    KIND_CHOICES = [
        ("files", _("Files: upload them, use the drop folder or the command line")),
        ("oneroster", _("OneRoster API (version 1.1 or 1.2)")),
        ("wonde", _("Wonde")),
    ]

    kind = forms.ChoiceField(
        label=_("Where does your MIS data come from?"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
    )
    oneroster_url = forms.URLField(
        label=_("OneRoster service address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("The address your MIS supplier gives, for example https://mis.example.org"),
    )
    oneroster_version = forms.ChoiceField(
        label=_("OneRoster version"),
        choices=[("1.2", "1.2"), ("1.1", "1.1")],
        widget=forms.RadioSelect,
        initial="1.2",
        required=False,
    )
    oneroster_token_url = forms.URLField(
        label=_("Token address (version 1.2 only)"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Leave blank to use /token on the service's server."),
    )
    oneroster_client_id = forms.CharField(
        label=_("Client id (consumer key)"), required=False, max_length=200
    )
    oneroster_client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        strip=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    wonde_school_id = forms.CharField(label=_("Wonde school id"), required=False, max_length=100)
    wonde_token = forms.CharField(
        label=_("Wonde access token"),
        required=False,
        strip=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    wonde_api_url = forms.URLField(
        label=_("Wonde API address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Leave blank for https://api.wonde.com/v1.0"),
    )
    sync_times = forms.CharField(
        label=_("Times to sync each day"),
        max_length=200,
        help_text=_("School time, 24-hour, separated by commas, for example 07:00, 13:00"),
    )

    def __init__(self, *args, saved=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved = saved
        for name, stored in (
            ("oneroster_client_secret", saved.oneroster_client_secret if saved else ""),
            ("wonde_token", saved.wonde_token if saved else ""),
        ):
            if stored:
                self.fields[name].help_text = _("A secret is saved. Leave blank to keep it.")

    def clean_sync_times(self):
        from schoolgate.mis.connectors.pull import parse_times

        try:
            times = parse_times(self.cleaned_data["sync_times"])
        except ValueError as error:
            raise forms.ValidationError(
                _("'%(value)s' is not a time like 07:00") % {"value": error.args[0]}
            ) from None
        if not times:
            raise forms.ValidationError(_("Enter at least one time, for example 07:00"))
        return ", ".join(t.strftime("%H:%M") for t in times)

    def clean(self):
        from schoolgate.mis.connectors.http import FetchError, check_url

        cleaned = super().clean()
        kind = cleaned.get("kind")
        saved = self.saved
        if kind == "oneroster":
            required = {
                "oneroster_url": _("Enter the OneRoster service address"),
                "oneroster_client_id": _("Enter the client id"),
            }
            if not (saved and saved.oneroster_client_secret):
                required["oneroster_client_secret"] = _("Enter the client secret")
            if not cleaned.get("oneroster_version"):
                cleaned["oneroster_version"] = "1.2"
            urls = ("oneroster_url", "oneroster_token_url")
        elif kind == "wonde":
            required = {"wonde_school_id": _("Enter the Wonde school id")}
            if not (saved and saved.wonde_token):
                required["wonde_token"] = _("Enter the Wonde access token")
            urls = ("wonde_api_url",)
        else:
            return cleaned
        for name, message in required.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
        for name in urls:
            if cleaned.get(name):
                try:
                    check_url(cleaned[name])
                except FetchError:
                    self.add_error(
                        name, _("Enter an https:// address (plain http only to this server)")
                    )
        return cleaned
