"""Staff pages for the outbox: what was sent, what is waiting and what failed, and why."""

import re

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from schoolgate.core.access import READ_OUTBOX, RETRY_OUTBOX, capability_required
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.selectors import outbox_messages, status_counts
from schoolgate.outbox.services import retry_now

LINK = re.compile(r"(?P<site>https?://[^/\s]+)/\S*")
PER_PAGE = 50


@capability_required(READ_OUTBOX)
def message_list(request):
    status = request.GET.get("status", "")
    if status not in OutboxMessage.Status.values:
        status = ""
    page = Paginator(outbox_messages(status=status), PER_PAGE).get_page(request.GET.get("page"))
    counts = status_counts()
    filters = [{"value": "", "label": _("All"), "count": sum(counts.values())}] + [
        {"value": value, "label": label, "count": counts[value]}
        for value, label in OutboxMessage.Status.choices
    ]
    return render(
        request,
        "outbox/list.html",
        {
            "page": page,
            "status": status,
            "status_label": OutboxMessage.Status(status).label if status else "",
            "filters": filters,
        },
    )


@capability_required(READ_OUTBOX)
def message_detail(request, message_id):
    message = get_object_or_404(OutboxMessage, pk=message_id)
    can_retry = message.status == OutboxMessage.Status.FAILED and request.user.has_perm(
        RETRY_OUTBOX
    )
    # In the demo (DEBUG) the outbox is the mail catcher: made-up people, so links are
    # shown whole for the person trying it to follow. On a real site they stay hidden.
    demo = settings.DEBUG
    return render(
        request,
        "outbox/detail.html",
        {
            "message": message,
            "body_text": message.body_text if demo else hide_links(message.body_text),
            "demo": demo,
            "can_retry": can_retry,
        },
    )


def hide_links(text: str) -> str:
    """Links cut to their site: an invitation's set-password link is the parent's key."""
    return LINK.sub(lambda match: f"{match['site']}/… " + _("(link hidden)"), text)


@require_POST
@capability_required(RETRY_OUTBOX)
def message_retry(request, message_id):
    message = get_object_or_404(OutboxMessage, pk=message_id)
    if message.status != OutboxMessage.Status.FAILED:
        messages.error(request, _("Only a failed message can be retried."))
    else:
        retry_now(message=message, actor=request.user)
        messages.success(
            request, _("The message to %(to)s will be sent again now.") % {"to": message.to}
        )
    return redirect("outbox:detail", message_id=message.pk)
