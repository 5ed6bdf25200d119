"""The parent's waiting-list pages: join a full teacher's list (with a note), see
their places and leave. Thin views over `schoolgate.evenings.running.waiting`; every id goes
through `parent_selectors` (the evening, the child and teacher) or
`waiting.entry_or_404` (the parent's own entry): anything else is not found."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.running import waiting
from schoolgate.evenings.web.parent import selectors

REFUSED = 409


class JoinForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("A note for the school (optional)"),
        help_text=gettext_lazy(
            "For example, the times you cannot come, or what you would like to discuss."
        ),
        required=False,
        max_length=waiting.NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _evening_url(evening) -> str:
    return reverse("evenings:evening", args=[evening.pk])


@parent_required
@require_http_methods(["GET", "POST"])
def waiting_list(request, evening_id):
    """The parent's places on waiting lists; with `teacher=<pupil>-<teacher>`, the form
    to join that teacher's list."""
    evening, children = selectors.evening_or_404(request.user, evening_id)
    value = request.POST.get("teacher") or request.GET.get("teacher")
    chosen = selectors.chosen_or_404(evening, children, [value])[0] if value else None
    if request.method == "POST" and chosen is None:
        raise Http404
    form = JoinForm(request.POST or None)
    errors, status = [], 200
    if request.method == "POST" and form.is_valid():
        try:
            waiting.join(
                parent=request.user,
                evening=evening,
                pupil=chosen.pupil,
                teacher=chosen.teacher,
                note=form.cleaned_data["note"],
            )
        except BookingError as error:
            errors, status = [(error.message, "#join")], REFUSED
        else:
            messages.success(
                request,
                _(
                    "You are on %(teacher)s's waiting list for %(pupil)s. We will email you "
                    "if a time comes free."
                )
                % {"teacher": chosen.teacher.staff, "pupil": chosen.pupil.display_name},
            )
            return redirect(_evening_url(evening))
    elif form.is_bound:
        errors = [(f"{form['note'].label}: {e}", "#id_note") for e in form["note"].errors]
    return render(
        request,
        "evenings/parent/waiting_list.html",
        {
            "evening": evening,
            "chosen": chosen,
            "form": form,
            "errors": errors,
            "entries": waiting.entries_for_parent(parent=request.user, evening=evening),
            "now": timezone.now(),
        },
        status=status,
    )


@parent_required
@require_POST
def leave(request, evening_id, entry_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    entry = waiting.entry_or_404(parent=request.user, evening=evening, entry_id=entry_id)
    waiting.leave(parent=request.user, entry=entry)
    messages.success(
        request,
        _("You have left %(teacher)s's waiting list for %(pupil)s.")
        % {"teacher": entry.teacher.staff, "pupil": entry.pupil.display_name},
    )
    return redirect(_evening_url(evening))
