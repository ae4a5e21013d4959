"""Every form field is an NL Design System form field (web/jinja2/zorgsleutel/field.html): label,
description and every error above the control, with the ids Django 5.2's aria-describedby names."""

from __future__ import annotations

from django import forms
from django.forms.renderers import get_default_renderer


class Example(forms.Form):
    code = forms.CharField(label="SMS-code", help_text="Zes cijfers uit de SMS.")
    roles = forms.MultipleChoiceField(
        label="Applicatierollen",
        choices=[("inzage", "inzage"), ("declaraties", "declaraties")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Kies er een of meer.",
    )
    agree = forms.BooleanField(label="Ik ga akkoord")
    kind = forms.ChoiceField(label="Soort", choices=[("a", "A")])

    def clean_code(self):
        raise forms.ValidationError(["Te kort.", "Alleen cijfers."])


def _bound() -> Example:
    form = Example(data={"code": "x", "kind": "a"})
    form.is_valid()
    return form


def _in_order(html: str, *parts: str) -> bool:
    positions = [html.index(part) for part in parts]
    return positions == sorted(positions)


def test_the_project_renders_fields_with_our_template():
    assert get_default_renderer().field_template_name == "zorgsleutel/field.html"


def test_a_text_field_label_description_all_errors_then_the_control():
    html = _bound()["code"].as_field_group()
    assert (
        'class="utrecht-form-field utrecht-form-field--text zs-field utrecht-form-field--invalid"'
        in html
    )
    assert _in_order(
        html,
        '<label class="utrecht-form-label" for="id_code">SMS-code</label>',
        '<div class="utrecht-form-field__description utrecht-form-field-description"'
        ' id="id_code_helptext">Zes cijfers uit de SMS.</div>',
        '<div class="utrecht-form-field__error-message utrecht-form-field-error-message"'
        ' id="id_code_error"><p class="zs-error-line">Te kort.</p>'
        '<p class="zs-error-line">Alleen cijfers.</p></div>',
        '<input type="text" name="code" value="x"'
        ' class="utrecht-textbox utrecht-textbox--html-input utrecht-textbox--invalid"'
        ' required aria-invalid="true"'
        ' aria-describedby="id_code_helptext id_code_error" id="id_code">',
    )


def test_a_field_without_errors_has_no_error_block():
    html = Example()["code"].as_field_group()
    assert "_error" not in html and "utrecht-form-field--invalid" not in html
    assert 'aria-describedby="id_code_helptext"' in html


def test_a_checkbox_group_is_a_fieldset_that_names_its_description_and_error():
    html = _bound()["roles"].as_field_group()
    assert _in_order(
        html,
        '<fieldset class="utrecht-form-fieldset__fieldset utrecht-form-fieldset--html-fieldset"'
        ' aria-describedby="id_roles_helptext id_roles_error" aria-invalid="true">',
        '<legend class="utrecht-form-fieldset__legend utrecht-form-fieldset__legend--html-legend">'
        "Applicatierollen</legend>",
        'id="id_roles_helptext"',
        'id="id_roles_error"',
        '<input type="checkbox" name="roles" value="inzage" class="utrecht-checkbox',
    )


def test_a_checkbox_and_a_select_get_their_components():
    form = _bound()
    agree = form["agree"].as_field_group()
    assert "utrecht-form-field--checkbox" in agree
    assert 'class="utrecht-checkbox utrecht-checkbox--html-input utrecht-custom-checkbox' in agree
    assert 'aria-describedby="id_agree_error"' in agree and 'id="id_agree_error"' in agree
    kind = form["kind"].as_field_group()
    assert '<select name="kind" class="utrecht-select utrecht-select--html-select"' in kind
