from django.forms.renderers import TemplatesSetting


class GovukFormRenderer(TemplatesSetting):
    """Render every Django form field with GOV.UK Frontend markup."""

    form_template_name = "govuk/form.html"
    field_template_name = "govuk/field.html"
