"""Staff pages for the add-ons: the school's add-on settings."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from schoolgate.addons.forms import AddonSettingsForm
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.sender import current_sender
from schoolgate.addons.services import send_test_email, update_addon_settings
from schoolgate.core.access import MANAGE_ADDONS, capability_required
from schoolgate.outbox.models import OutboxMessage


@capability_required(MANAGE_ADDONS)
def settings_page(request):
    addon_settings = get_addon_settings()
    form = AddonSettingsForm(request.POST or None, instance=addon_settings)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: form.cleaned_data[name] for name in form.Meta.fields if name in form.fields
        }
        changes.pop("forget_password", None)
        changed = update_addon_settings(changes=changes, actor=request.user)
        if changed:
            messages.success(request, _("Your add-on settings have been saved."))
        elif request.POST.get("action") != "test":
            messages.info(request, _("Nothing was changed."))
        if request.POST.get("action") == "test":
            _report_test(request)
        return redirect("addons:settings")
    return render(
        request,
        "addons/settings.html",
        {"form": form, "sender": current_sender(), "user_email": request.user.email},
    )


def _report_test(request) -> None:
    message = send_test_email(to=request.user.email, actor=request.user)
    if message.status == OutboxMessage.Status.SENT:
        messages.success(
            request,
            _("A test email was sent to %(to)s from %(sender)s.")
            % {"to": message.to, "sender": message.from_email},
        )
    elif message.status == OutboxMessage.Status.FAILED:
        messages.error(
            request,
            _("The test email to %(to)s could not be sent: %(reason)s")
            % {"to": message.to, "reason": message.last_error},
        )
    else:
        messages.info(request, _("The test email is being sent; see the email outbox."))
