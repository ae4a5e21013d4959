"""Forms of the account pages: only parsing and field errors; the rules live in the flows."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.people import emails


class CredentialsForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        max_length=200,
        strip=False,
        help_text=_("At least %(n)s characters.") % {"n": policies.PASSWORD_MIN_LENGTH},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password (again)"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        help_text=_("For example 06 12345678."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class ForgotPasswordForm(forms.Form):
    email = emails.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )


class NewUserForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = emails.EmailField(label=_("Business e-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"))
    application_roles = forms.MultipleChoiceField(
        label=_("Application roles"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, roles: list[tuple[str, str]], application_roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        self.fields["application_roles"].choices = [(r, r) for r in application_roles]
        if not application_roles:
            del self.fields["application_roles"]
