"""The MIS Accounts page (Add-ons): see what generating would do, generate parent
accounts, and resend invitations. The work is done by accounts.generation."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from schoolgate.accounts.access import ALL, PRIMARY
from schoolgate.accounts.generation import (
    NoParentGroup,
    accounts_to_create,
    generate_accounts,
    preview_generation,
)
from schoolgate.accounts.invitations import never_signed_in_parents, resend_invitations
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core.access import MANAGE_ADDONS, capability_required


class GenerateForm(forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("Who should get an account?"),
        choices=AddonSettings.GenerationMode.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Your choice is also saved in the add-on settings: it decides who keeps "
            "access after each sync."
        ),
    )


@capability_required(MANAGE_ADDONS)
def mis_accounts_page(request):
    addon_settings = get_addon_settings()
    form = GenerateForm(request.POST or None, initial={"mode": addon_settings.generation_mode})
    no_group = False
    confirmed = request.POST.get("confirm") == "yes"
    if request.method == "POST" and request.POST.get("action") == "resend" and not confirmed:
        # No mass email on one click: first say how many and to whom.
        rows = never_signed_in_parents().order_by("email")
        people = [
            (email, f"{first} {last}".strip())
            for email, first, last in rows.values_list("email", "first_name", "last_name")
        ]
        return _confirm(request, action="resend", people=people)
    if request.method == "POST" and request.POST.get("action") == "resend":
        invited = resend_invitations(actor=request.user)
        messages.success(
            request,
            ngettext(
                "An invitation has been sent again to %(count)s parent who has never signed in.",
                "Invitations have been sent again to %(count)s parents who have never signed in.",
                invited,
            )
            % {"count": intcomma(invited)},
        )
        return redirect("addons:mis-accounts")
    if request.method == "POST" and form.is_valid() and not confirmed:
        if not addon_settings.parent_group:
            no_group = True
        else:
            mode = form.cleaned_data["mode"]
            return _confirm(
                request, action="generate", mode=mode, people=accounts_to_create(mode=mode)
            )
    if request.method == "POST" and form.is_valid() and confirmed:
        try:
            result = generate_accounts(mode=form.cleaned_data["mode"], actor=request.user)
        except NoParentGroup:
            no_group = True
        else:
            messages.success(request, _generated_message(result))
            return redirect("addons:mis-accounts")
    previews = preview_generation()
    current = previews[addon_settings.generation_mode]
    return render(
        request,
        "addons/mis_accounts.html",
        {
            "form": form,
            "no_group": no_group or (request.method == "GET" and not addon_settings.parent_group),
            "no_group_error": no_group,
            "group": addon_settings.parent_group,
            "first_time": current.existing == 0,
            "rows": _rows(previews),
            "never_signed_in": never_signed_in_parents().count(),
            "invitation_days": settings.SCHOOLGATE["INVITATION_DAYS"],
        },
    )


SHOWN = 200  # people listed on the confirmation page; the rest are counted


def _confirm(request, *, action: str, people: list, mode: str = ""):
    return render(
        request,
        "addons/mis_accounts_confirm.html",
        {
            "action": action,
            "mode": mode,
            "mode_label": dict(AddonSettings.GenerationMode.choices).get(mode, ""),
            "count": len(people),
            "people": people[:SHOWN],
            "more": max(0, len(people) - SHOWN),
        },
    )


def _generated_message(result) -> str:
    if not result.created:
        return _("Every contact who qualifies already has an account: none was created.")
    return ngettext(
        "%(count)s account was created and its invitation is being sent.",
        "%(count)s accounts were created and their invitations are being sent.",
        result.created,
    ) % {"count": intcomma(result.created)}


def _dashboard(slug: str) -> str:
    return reverse("mis:dashboard-list", kwargs={"slug": slug})


def _rows(previews: dict) -> list[dict]:
    """The preview table: one row per figure, a value per choice, a link to the list."""
    all_, primary = previews[ALL], previews[PRIMARY]
    return [
        {
            "label": _("New accounts that would be created and invited"),
            "values": (all_.created, primary.created),
            "links": (
                (_("Contacts who would get an account: all contacts"), _dashboard("accounts-all")),
                (
                    _("Contacts who would get an account: primary contacts only"),
                    _dashboard("accounts-primary"),
                ),
            ),
            "strong": True,
        },
        {
            "label": _("Contacts who already have an account"),
            "values": (all_.existing, primary.existing),
            "links": (),
        },
        {
            "label": _("Contacts who share one account with their household"),
            "hint": _(
                "They share an email address and have parental responsibility for the "
                "same pupils: the address gets one account, counted once above."
            ),
            "values": (all_.same_account, primary.same_account),
            "links": (),
        },
        {
            "label": _("Left out: no parental responsibility in the MIS"),
            "hint": _("Includes contacts whose only links carry a court order or no-contact flag."),
            "values": (all_.skipped["no_pr"], primary.skipped["no_pr"]),
            "links": ((_("Data Dashboard"), reverse("mis:dashboard")),),
        },
        {
            "label": _("Left out: parental responsibility but no valid email address"),
            "values": (all_.skipped["no_email"], primary.skipped["no_email"]),
            "links": (
                (_("Contacts with no email address"), _dashboard("pr-no-email")),
                (
                    _("Contacts with an email address that is not valid"),
                    _dashboard("invalid-email"),
                ),
            ),
        },
        {
            "label": _("Left out: email address shared with another family"),
            "values": (all_.skipped["conflict"], primary.skipped["conflict"]),
            "links": ((_("Shared email addresses"), _dashboard("shared-email")),),
        },
        {
            "label": _("Left out: not a priority 1 contact"),
            "values": (all_.skipped["not_primary"], primary.skipped["not_primary"]),
            "links": ((_("Contacts who are not a priority 1 contact"), _dashboard("not-primary")),),
        },
    ]
