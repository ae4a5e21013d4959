"""The form renderer: Django's, with the plain <input> widgets written out in Python.

Every page with a form renders its inputs through Django's widget templates
(`django/forms/widgets/input.html` and `attrs.html`): a template lookup, an include and a loop
per field, about 0.2 ms each on the benchmark host, a tenth of a login page
(docs/benchmarks.md). The inputs below produce the same markup as those two templates, byte for
byte (tests/web/test_renderers.py compares them); every other widget, and a project's own
template for a widget, still goes through the templates.
"""

from __future__ import annotations

import functools
from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "password", "hidden", "number", "tel", "url", "search")
)


_ATTRS = "django/forms/widgets/attrs.html"
_DJANGO_FORMS = str(Path(django.forms.__file__).parent / "templates")


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
    def render(self, template_name, context, request=None):
        if template_name in _INPUT_TEMPLATES and self._djangos_own(template_name):
            return render_input(context["widget"])
        return super().render(template_name, context, request=request)

    @functools.cache  # noqa: B019 (one renderer per process; a handful of names)
    def _djangos_own(self, template_name: str) -> bool:
        """The widget's template, input.html and attrs.html are Django's own files: no app
        overrides them, so the markup above is what they would give."""
        names = (template_name, "django/forms/widgets/input.html", _ATTRS)
        return all(_DJANGO_FORMS in self.get_template(n).origin.name for n in names)
