from django import template

register = template.Library()

WIDGET_CLASSES = {
    "select": "govuk-select",
    "selectmultiple": "govuk-select",
    "textarea": "govuk-textarea",
    "clearablefile": "govuk-file-upload",
    "file": "govuk-file-upload",
}


@register.simple_tag
def govuk_widget(field):
    """The field's own widget, with GOV.UK classes and the hint/error described."""
    css = WIDGET_CLASSES.get(field.widget_type, "govuk-input")
    if field.errors:
        css += f" {css.split()[0]}--error"
    attrs = {"class": css}
    described = [f"{field.auto_id}-hint"] if field.help_text else []
    if field.errors:
        described.append(f"{field.auto_id}-error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
