"""Accessibility for forms: errors tied to their fields for screen readers."""

from __future__ import annotations

from django import forms


def mark_errors(form: forms.BaseForm) -> forms.BaseForm:
    """Set aria-invalid and point aria-describedby at the error (and help) of each bad field."""
    for name, field in form.fields.items():
        bound = form[name]
        described = []
        if field.help_text:
            described.append(f"{bound.auto_id}_help")
        if name in form.errors:
            field.widget.attrs["aria-invalid"] = "true"
            described.insert(0, f"{bound.auto_id}_error")
        if described:
            field.widget.attrs["aria-describedby"] = " ".join(described)
    if form.non_field_errors():
        for field in form.fields.values():
            field.widget.attrs.setdefault("aria-describedby", "form-errors")
    return form
