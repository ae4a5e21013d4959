"""What web/form.html asks of a form: its error summary and its fieldsets."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.filter
def error_summary(form: forms.BaseForm) -> list[tuple[str, str]]:
    """(link, message) for every error of a sent form, as the error summary lists them: the
    form's own errors first (no field: no link), then each field's in the form's order, each
    linking to its control (a choice group's first option; NL Design System and GOV.UK link
    there too)."""
    if not form.is_bound:
        return []
    summary = [("", str(error)) for error in form.non_field_errors()]
    for field in form:
        if field.is_hidden:
            summary += [("", str(error)) for error in field.errors]
            continue
        target = f"#{field.auto_id}_0" if field.use_fieldset else f"#{field.id_for_label}"
        summary += [(target, str(error)) for error in field.errors]
    return summary


@register.filter
def fieldsets(form: forms.BaseForm) -> list[tuple[str, list[forms.BoundField]]]:
    """The form's `fieldsets` ((legend, field names) pairs) as legends with their bound fields;
    none when the form has none (its fields follow one another)."""
    return [
        (legend, [form[name] for name in names]) for legend, names in getattr(form, "fieldsets", ())
    ]
