from django import template

from schoolgate.addons.sender import current_sender

register = template.Library()


@register.inclusion_tag("addons/_sender.html")
def sender_notice():
    """Which sender parents will see: `{% load addons %}{% sender_notice %}`."""
    return {"sender": current_sender()}
