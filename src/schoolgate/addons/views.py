"""Staff pages for the add-ons: the school's add-on settings."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from schoolgate.addons.forms import AddonSettingsForm
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.sender import current_sender
from schoolgate.addons.services import (
    MAIL_FIELDS,
    check_mail_server,
    send_test_email,
    update_addon_settings,
)
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
        testing = request.POST.get("action") == "test"
        # The form has already written its values onto addon_settings: compare with the row.
        saved = AddonSettings.objects.get(pk=addon_settings.pk)
        failure = _test_new_mail_settings(saved, changes) if testing else ""
        if failure:
            # Keep the mail server that works (or none) until a test of the new one passes.
            changes = {name: value for name, value in changes.items() if name not in MAIL_FIELDS}
            update_addon_settings(changes=changes, actor=request.user)
            form.add_error(
                "smtp_host",
                _("The test failed: %(reason)s Your previous email settings are kept.")
                % {"reason": failure},
            )
            return render(
                request,
                "addons/settings.html",
                {
                    "form": form,
                    "sender": current_sender(),
                    "user_email": request.user.email,
                },
            )
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


def _test_new_mail_settings(addon_settings, changes: dict) -> str:
    """Try the mail server the form names, when it differs from the saved one."""
    if not changes.get("smtp_host"):
        return ""
    if all(changes.get(name) == getattr(addon_settings, name) for name in MAIL_FIELDS):
        return ""
    return check_mail_server(
        host=changes["smtp_host"],
        port=changes.get("smtp_port") or 587,
        username=changes.get("smtp_username") or "",
        password=changes.get("smtp_password") or "",
        use_tls=bool(changes.get("smtp_use_tls")),
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
        sender = current_sender()
        # The outbox keeps the technical error; the office is told what failed in words.
        words = ""
        if sender.uses_school_mail:
            smtp = sender.smtp
            words = check_mail_server(
                host=smtp["host"],
                port=smtp["port"],
                username=smtp["username"],
                password=smtp["password"],
                use_tls=smtp["use_tls"],
            )
        messages.error(
            request,
            _("The test email to %(to)s could not be sent: %(reason)s")
            % {"to": message.to, "reason": words or message.last_error},
        )
    else:
        messages.info(request, _("The test email is being sent; see the email outbox."))
