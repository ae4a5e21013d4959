"""Forms of the account pages: parsing and field errors (an empty field says what to fill in, a
filled-in wrong one what is wrong); the rules live in the flows, which the forms ask so that every
error shows at once."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.accounts.flows import credentials
from zorgsleutel.authn import vaulterrors
from zorgsleutel.people import emails

# Only the shape of a phone number: the vault decides whether it is a mobile number it accepts
# (docs/vault.md); this lets the form report a mistyped number beside the password's errors.
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
_PHONE_DIGITS = (8, 15)  # E.164 holds at most 15


class CredentialsForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        max_length=200,
        strip=False,
        error_messages={"required": credentials.PASSWORD_REQUIRED},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password (again)"),
        max_length=200,
        strip=False,
        error_messages={"required": credentials.PASSWORD_AGAIN_REQUIRED},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        help_text=_("For example 06 12345678."),
        error_messages={"required": _("Fill in your mobile phone number.")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # whose password: it may not look like their name or address
        self.fields["password"].help_text = _(  # here: in the language of the request
            "At least %(n)s characters. A few words in a row are strong and easy to remember; "
            "common and leaked passwords are refused."
        ) % {"n": policies.PASSWORD_MIN_LENGTH}

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = re.sub(r"[^0-9]", "", phone)
        if not _PHONE_CHARACTERS.match(phone) or not (
            _PHONE_DIGITS[0] <= len(digits) <= _PHONE_DIGITS[1]
        ):
            raise forms.ValidationError(vaulterrors.INVALID_PHONE)  # as the vault words it
        return phone

    def clean(self):
        data = super().clean()
        said = set(self.errors)  # an empty or too long field has said so already
        for error in credentials.password_errors(
            password=data.get("password", ""),
            password_again=data.get("password_again", ""),
            user=self.user,
        ):
            if error.field not in said:
                self.add_error(error.field, str(error.message))
        return data


class ForgotPasswordForm(forms.Form):
    email = emails.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={"required": _("Fill in your e-mail address.")},
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )


class NewUserForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        error_messages={"required": _("Fill in the person's name.")},
    )
    email = emails.EmailField(
        label=_("Business e-mail address"),
        max_length=254,
        help_text=_("For example name@your-organisation.nl. The activation mail goes here."),
        error_messages={"required": _("Fill in the person's business e-mail address.")},
    )
    role = forms.ChoiceField(
        label=_("Role"),
        error_messages={
            "required": _("Choose a role."),
            "invalid_choice": _("Choose one of the roles in the list."),
        },
    )
    application_roles = forms.MultipleChoiceField(
        label=_("Application roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose application roles from the list.")},
    )

    def __init__(self, *args, roles: list[tuple[str, str]], application_roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        self.fields["application_roles"].choices = [(r, r) for r in application_roles]
        if not application_roles:
            del self.fields["application_roles"]


DATE_INVALID = _("Enter a date, such as 31-12-2026.")


class _DateField(forms.DateField):
    """A date shown as <input type="date"> needs it (2026-12-31), however it was typed."""

    def bound_data(self, data, initial):
        try:
            day = self.to_python(data)
        except forms.ValidationError:
            return data
        return day.isoformat() if day else data


class AuditFilterForm(forms.Form):
    """Beheer → Auditlog's dates (a GET form; the action and the outcome are read as they are):
    a date that is no date, or an end before the start, says so on its field; what is right
    still filters."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="f-%s", **kwargs)  # the ids of beheer/audit.html
        self.fields["from"] = _DateField(
            label=_("From"), required=False, error_messages={"invalid": DATE_INVALID}
        )
        self.fields["to"] = _DateField(
            label=_("Until"), required=False, error_messages={"invalid": DATE_INVALID}
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The ‘Until’ date is before the ‘From’ date."))
        return data
