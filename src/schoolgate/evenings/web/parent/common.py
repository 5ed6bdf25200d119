"""What the parents' booking pages share: status codes, how times read, the way back
to the evening, form errors, and the page of times to choose from."""

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.evenings.models import Evening
from schoolgate.evenings.planning.planner import CLASHES, CROWDED_OUT, NO_FREE_SLOT, OUTSIDE_WINDOW

# A refused booking: the page is shown again with the reason, and nothing changed.
REFUSED = 409


# The hold ran out before it was confirmed.
GONE = 410


def plan_reasons() -> dict[str, str]:
    return {
        NO_FREE_SLOT: _("This teacher has no free appointments left."),
        OUTSIDE_WINDOW: _(
            "This teacher has no free appointment between the times you can be there."
        ),
        CLASHES: _(
            "Every free appointment in your times clashes with your other appointments "
            "(travel time between rooms included)."
        ),
        CROWDED_OUT: _(
            "There is not enough time for this teacher as well as the others you chose."
        ),
    }


def time_text(value) -> str:
    return date_format(timezone.localtime(value), "H:i")


def when_text(value) -> str:
    return date_format(timezone.localtime(value), "l j F, H:i")


def evening_url(evening) -> str:
    return reverse("evenings:evening", args=[evening.pk])


def chosen_methods(request, evening, keys) -> dict[str, str | None]:
    """In person or video for each wanted pair (`key` "<pupil>-<teacher>"), when the
    evening offers both: the pair's `method-<key>` field, else the one `method` field for
    all, else None (the engine's default). The engine checks the values."""
    if evening.mode != Evening.Mode.BOTH:
        return dict.fromkeys(keys)
    default = request.POST.get("method") or None
    return {key: request.POST.get(f"method-{key}") or default for key in keys}


def form_errors(form) -> list[tuple[str, str]]:
    errors = []
    for name, field_errors in form.errors.items():
        if name == "__all__":
            errors += [(e, "#main-content") for e in field_errors]
            continue
        anchor = f"id_{name}_0" if name == "day" else form[name].auto_id
        errors += [(e, f"#{anchor}") for e in field_errors]
    return errors
