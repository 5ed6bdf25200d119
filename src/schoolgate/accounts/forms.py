from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from schoolgate.accounts import lockout
from schoolgate.accounts.selectors import INVITED, NEVER, SIGNED_IN
from schoolgate.accounts.users import staff_role_choices
from schoolgate.core.ratelimit import client_ip


class SignInForm(auth_forms.AuthenticationForm):
    username = auth_forms.UsernameField(
        label=_("Email address"),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "spellcheck": "false", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        # One message for a wrong password, an unknown email and a deactivated account.
        "invalid_login": _("Enter a correct email address and password."),
        "inactive": _("Enter a correct email address and password."),
    }
    # Set when this address must wait before trying again (accounts.lockout).
    wait = None

    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not email or not password:
            return super().clean()
        attempt = lockout.begin(email, client_ip(self.request))
        if attempt.wait:
            self.wait = attempt.wait
            raise forms.ValidationError(self.error_messages["invalid_login"], code="wait")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            self.wait = lockout.failed(attempt) or None
            raise
        lockout.succeeded(attempt)
        return cleaned


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class SetPasswordForm(auth_forms.SetPasswordForm):
    """Django's, with the first field labelled for someone choosing their first password."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Password")
        self.fields["new_password2"].label = _("Confirm password")


class ChangePasswordForm(auth_forms.PasswordChangeForm):
    pass


class UserSearchForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("Any")),
        (INVITED, _("Invited, not signed in yet")),
        (SIGNED_IN, _("Has signed in")),
        (NEVER, _("Never signed in")),
    ]
    ACTIVE_CHOICES = [("", _("Any")), ("yes", _("Active")), ("no", _("Deactivated"))]

    q = forms.CharField(label=_("Name, email or role"), required=False, max_length=200)
    role = forms.ModelChoiceField(
        label=_("Role"),
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label=_("Any"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    active = forms.ChoiceField(label=_("Active"), choices=ACTIVE_CHOICES, required=False)

    def filters(self) -> dict:
        """Keyword arguments for selectors.search_users (none when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        active = {"yes": True, "no": False}.get(data["active"])
        return {
            "query": data["q"],
            "role_id": data["role"].pk if data["role"] else None,
            "status": data["status"],
            "active": active,
        }


class RolesForm(forms.Form):
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Staff roles (Administrators, Evening organisers, Teachers) give access "
            "to the staff area; other roles give none."
        ),
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        help_text=_("Kept in the audit log."),
    )


class RoleForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=150, help_text=_("For example, MIS Parent.")
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: accounts generated for parents by the MIS Accounts add-on."),
    )


class StaffAccountsForm(forms.Form):
    role = forms.ModelChoiceField(
        label=_("Role for the new staff accounts"),
        queryset=Group.objects.none(),
        empty_label=None,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = staff_role_choices()
        teachers = self.fields["role"].queryset.filter(name="Teachers").first()
        if teachers is not None:
            self.fields["role"].initial = teachers.pk


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("The 6-digit code, for example 123456."),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "class": "govuk-input govuk-input--width-10",
            }
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return code


class AuditFilterForm(forms.Form):
    subject = forms.CharField(label=_("Email (or part of it)"), required=False, max_length=254)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[])

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any"))] + [(a, a) for a in actions]
