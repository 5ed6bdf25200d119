"""Forms for the organiser's grid and for booking on a parent's behalf: validation at
the edge, in the organiser's terms. Ids (days, teachers, pupils, parents, slots,
appointments) are checked by the views through `schoolgate.evenings.reports.grid` (404)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from schoolgate.evenings.web.parent.forms import VisitForm

MESSAGE_LENGTH = 1000
REASON_LENGTH = 500


class GridFilterForm(forms.Form):
    """The grid's filters, read from the address (GET)."""

    day = forms.ChoiceField(label=_("Day"), required=False)
    year = forms.ChoiceField(label=_("Year group"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    teacher = forms.ChoiceField(label=_("Teacher"), required=False)

    def __init__(self, *args, days, years, departments, teachers, day_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].choices = [(str(d.pk), day_label(d)) for d in days]
        self.fields["year"].choices = [("", _("Every year group"))] + [
            (str(y), _("Year %(year)s") % {"year": y}) for y in years
        ]
        self.fields["year"].error_messages["invalid_choice"] = _(
            "No teacher here teaches that year group: choose one from the list"
        )
        self.fields["department"].choices = [("", _("Every department"))] + [
            (d, d) for d in departments
        ]
        self.fields["department"].error_messages["invalid_choice"] = _(
            "No teacher here teaches that department: choose one from the list"
        )
        self.fields["teacher"].choices = [("", _("Every teacher"))] + [
            (str(t.pk), str(t.staff)) for t in teachers
        ]
        if len(days) < 2:
            del self.fields["day"]
        for field in self.fields.values():
            field.widget.attrs["class"] = "govuk-select"


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Pupil's name or registration group"),
        help_text=_("For example, Amy Ash, Ash or 7A"),
        max_length=100,
        error_messages={
            "required": _("Enter part of a pupil's name, or their registration group"),
            "max_length": _("Enter 100 characters or fewer"),
        },
        widget=forms.TextInput(
            attrs={"class": "govuk-input govuk-!-width-two-thirds", "autocomplete": "off"}
        ),
    )


class BookForm(forms.Form):
    """A booking's message to the teachers, and whether to pass a limit."""

    message = forms.CharField(
        label=_("Message to the teacher (optional)"),
        help_text=_("What the parent would like to discuss, if they said"),
        required=False,
        max_length=MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "govuk-textarea"}),
        error_messages={"max_length": _("Keep the message to 1000 characters or fewer")},
    )
    override = forms.BooleanField(
        label=_("Book anyway, passing the evening's limits"),
        help_text=_("The limits are shown above. The booking records that you passed them."),
        required=False,
    )


class MoveForm(forms.Form):
    override = forms.BooleanField(
        label=_("Move anyway, passing the evening's limits"),
        help_text=_("The limits are shown above. The booking records that you passed them."),
        required=False,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, sent to the parents)"),
        help_text=_("For example, the parent phoned to say they cannot come"),
        required=False,
        max_length=REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "class": "govuk-textarea"}),
        error_messages={"max_length": _("Keep the reason to 500 characters or fewer")},
    )


class BehalfVisitForm(VisitForm):
    """The planner's window, as the parents' form, in the organiser's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].label = _("Which day can the parent come?")
        self.fields["earliest"].label = _("The earliest the parent can be there")
        self.fields["latest"].label = _("The latest the parent can stay until")
