"""The password + SMS login's forms (Inloggen, Verifieer); activation and reset ask the code with
the same CodeForm. An empty field says what to fill in ("Vul … in"); a wrong one what is wrong."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel.people import emails


class LoginForm(forms.Form):
    email = emails.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={"required": _("Fill in your e-mail address.")},
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        strip=False,
        error_messages={"required": _("Fill in your password.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("SMS code"),
        max_length=12,
        error_messages={"required": _("Fill in the code from the SMS.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )
