from django import forms
from django.utils.translation import gettext_lazy as _

from schoolgate.portal.models import CorrectionRequest


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(
        label=_("What needs correcting?"),
        choices=CorrectionRequest.Field.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what needs correcting")},
    )
    details = forms.CharField(
        label=_("What should it say?"),
        help_text=_(
            "For example, your new mobile number. The school office reads this and updates "
            "its records; your details here change after the next update from the school's "
            "system."
        ),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Enter the correction"),
            "max_length": _("The correction must be 2,000 characters or fewer"),
        },
    )

    def clean_details(self):
        details = self.cleaned_data["details"].strip()
        if not details:
            raise forms.ValidationError(_("Enter the correction"), code="required")
        return details
