"""The form renderer: Django's, with the plain <input> widgets written out in Python.

Every page with a form renders its inputs through Django's widget templates
(`django/forms/widgets/input.html` and `attrs.html`): a template lookup, an include and a loop
per field, about 0.2 ms each on the benchmark host, a tenth of a login page
(docs/benchmarks.md). The inputs below produce the same markup as those two templates, byte for
byte (tests/web/test_renderers.py compares them); every other widget still goes through the
templates.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "password", "hidden", "number", "tel", "url", "search")
)


def _value(value) -> str:
    return conditional_escape("%s" % (value,))  # noqa: UP031 (stringformat:'s', as the template)


def render_input(widget: dict) -> str:
    """`input.html` with `attrs.html`, for the context Django's widgets build."""
    parts = [f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"']
    if widget["value"] is not None:
        parts.append(f' value="{_value(widget["value"])}"')
    for name, value in widget["attrs"].items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}")
        if value is not True:
            parts.append(f'="{_value(value)}"')
    parts.append(">")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


class FormRenderer(DjangoTemplates):
    """Django's DjangoTemplates renderer. Its engine finds Django's own widget templates before
    any app's, so no app can override them here (that takes `TemplatesSetting`, and then this
    renderer is not used): the markup of `render_input` is always the one they would give."""

    def render(self, template_name, context, request=None):
        if template_name in _INPUT_TEMPLATES and _plain(context["widget"]["attrs"]):
            return render_input(context["widget"])
        return super().render(template_name, context, request=request)


def _plain(attrs: dict) -> bool:
    """No callable attribute values: the template would call them; those go through it."""
    return not any(callable(value) for value in attrs.values())
