"""web/renderers.py writes plain <input> widgets in Python: the markup must be what Django's
widget templates give, for every form of the project and for values that need escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer

from zorgsleutel.accounts import forms as account_forms
from zorgsleutel.web.renderers import FormRenderer


class Tricky(forms.Form):
    text = forms.CharField(
        initial='a "quoted" <b>value</b> & more',
        widget=forms.TextInput(attrs={"data-x": "<'\">", "required": True, "hidden": False}),
    )
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="p&ss")
    number = forms.IntegerField(initial=0, min_value=-5)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="")
    url = forms.URLField(required=False, assume_scheme="https")
    choice = forms.ChoiceField(choices=[("a", "A & B")])  # a <select>: through the template


def _every_field(form: forms.BaseForm):
    for bound in form:
        yield bound.name, bound


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tricky(),
        lambda: Tricky(data={"text": "<script>x</script>", "email": 'e"@x', "number": "1e3"}),
        lambda: account_forms.LoginForm(),
        lambda: account_forms.LoginForm(data={"email": "<a>@b", "password": "x"}),
        lambda: account_forms.CodeForm(data={"code": '12"3'}),
        lambda: account_forms.CredentialsForm(),
    ],
)
def test_inputs_are_what_djangos_templates_give(make):
    djangos = DjangoTemplates()
    ours = FormRenderer()
    form = make()
    if form.is_bound:
        form.is_valid()
    for name, bound in _every_field(form):
        form.renderer = djangos
        expected = bound.as_widget()
        form.renderer = ours
        assert bound.as_widget() == expected, name


def test_the_project_uses_it():
    assert isinstance(get_default_renderer(), FormRenderer)


def test_a_callable_attribute_goes_through_the_template():
    field = forms.CharField(widget=forms.TextInput(attrs={"data-x": lambda: "called"}))
    form = forms.Form()
    form.fields["x"] = field
    form.renderer = FormRenderer()
    assert 'data-x="called"' in form["x"].as_widget()


def test_apps_cannot_override_djangos_widget_templates_with_this_renderer():
    """What makes render_input's markup the templates' markup in every project."""
    djangos = Path(forms.__file__).parent / "templates"
    for name in ("input", "email", "password", "attrs"):
        origin = FormRenderer().get_template(f"django/forms/widgets/{name}.html").origin.name
        assert origin.startswith(str(djangos))
