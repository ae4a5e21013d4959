"""The password + SMS login's forms (Inloggen, Verifieer); activation and reset ask the code with
the same CodeForm."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel.people import emails


class LoginForm(forms.Form):
    email = emails.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("SMS code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )
