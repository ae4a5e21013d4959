"""The project's form renderer: Django's Jinja2 renderer (widgets unchanged, tests/web/
test_form_renderer.py) with our field template, an NL Design System form field."""

from __future__ import annotations

from django.forms.renderers import Jinja2


class FormRenderer(Jinja2):
    """Each field as a Utrecht form field (web/jinja2/zorgsleutel/field.html): label, description
    and errors above the control, with the ids Django's aria-describedby names (<id>_helptext,
    <id>_error)."""

    field_template_name = "zorgsleutel/field.html"
