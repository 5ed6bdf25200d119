"""{% family_live evening %}: the family's expected times and Join buttons on the
parent's evening page (evenings.live), kept up to date by its script."""

from django import template

from schoolgate.evenings.live.views import family_context

register = template.Library()


@register.inclusion_tag("evenings/live/_family.html", takes_context=True)
def family_live(context, evening):
    request = context["request"]
    return {**family_context(evening, request.user), "request": request}


@register.simple_tag
def call_link(appointment, for_teacher=False):
    """The full address of a video appointment's call page (for print and email)."""
    from schoolgate.evenings.video.rooms import call_link as link

    return link(appointment, for_teacher=for_teacher)


@register.simple_tag
def expected_for(appointment):
    """The appointment's expected time now (evenings.live.delays.Expected): for the
    printed itinerary, a handful of rows."""
    from schoolgate.evenings.live.delays import expected_times

    return expected_times([appointment])[appointment.pk]
