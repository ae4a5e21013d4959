"""The project renders form widgets with Django's Jinja2 renderer (settings.FORM_RENDERER): the
markup must be what Django's template renderer gives, for every form of the project, and values
must be escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, Jinja2, get_default_renderer

from zorgsleutel.accounts import forms as account_forms
from zorgsleutel.authn import forms as login_forms
from zorgsleutel.organisations import forms as organisation_forms


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
    choice = forms.ChoiceField(choices=[("a", "A & B"), ("<b>", "<i>")])
    note = forms.CharField(widget=forms.Textarea, initial="</textarea><script>")
    agree = forms.BooleanField(required=False)


class _Parsed(HTMLParser):
    """The markup as a browser reads it: tags, attributes (entities decoded) and text."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.items: list = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.items.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag):
        self.items.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.items.append(("text", data.strip()))


def _read(markup: str) -> list:
    return _Parsed(markup).items


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tricky(),
        lambda: Tricky(data={"text": "<script>x</script>", "email": 'e"@x', "number": "1e3"}),
        lambda: login_forms.LoginForm(),
        lambda: login_forms.LoginForm(data={"email": "<a>@b", "password": "x"}),
        lambda: login_forms.CodeForm(data={"code": '12"3'}),
        lambda: account_forms.CredentialsForm(),
        lambda: account_forms.ForgotPasswordForm(data={"email": "<x>"}),
        lambda: organisation_forms.ApplicationForm(),
        lambda: organisation_forms.ApplicationForm(data={"organisation_name": '"><img>'}),
        lambda: organisation_forms.ReasonForm(),
        lambda: account_forms.NewUserForm(
            roles=[("member", "medewerker"), ("<x>", "<y>")], application_roles=["arts", "a&b"]
        ),
    ],
)
def test_widgets_are_what_djangos_templates_give(make):
    form = make()
    if form.is_bound:
        form.is_valid()
    for bound in form:
        form.renderer = DjangoTemplates()
        expected = _read(bound.as_widget())
        form.renderer = Jinja2()
        assert _read(bound.as_widget()) == expected, bound.name


def test_values_are_escaped():
    form = Tricky(data={"text": '"><script>alert(1)</script>'})
    form.renderer = Jinja2()
    html = form["text"].as_widget()
    assert html == (
        '<input type="text" name="text" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'
        ' data-x="&lt;&#39;&#34;&gt;" required id="id_text">'
    )
    assert _read(html) == [
        (
            "start",
            "input",
            (
                ("type", "text"),
                ("name", "text"),
                ("value", '"><script>alert(1)</script>'),
                ("data-x", "<'\">"),
                ("required", None),
                ("id", "id_text"),
            ),
        )
    ]


def test_the_project_uses_it():
    assert isinstance(get_default_renderer(), Jinja2)
