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
