"""Forms of the organisation pages: parsing and per-field errors; the checks are the flow's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel.organisations.flows import applications


def _text(label, max_length: int, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, widget=forms.TextInput(attrs=attrs), required=False
    )


class ApplicationForm(forms.Form):
    """Stap 2 Aanvraagformulier invullen."""

    organisation_name = _text(_("Name of the organisation"), 200, autocomplete="organization")
    kvk_number = _text(_("KvK number"), 12, inputmode="numeric")
    ura = _text(_("URA (UZI-register subscriber number)"), 12, inputmode="numeric")
    agb_code = _text(_("AGB code (optional)"), 12, inputmode="numeric")
    street = _text(_("Street and number"), 200, autocomplete="street-address")
    postal_code = _text(_("Postal code"), 8, autocomplete="postal-code")
    city = _text(_("City"), 100, autocomplete="address-level2")
    applicant_name = _text(_("Your name"), 200, autocomplete="name")
    applicant_email = forms.CharField(
        label=_("Your business e-mail address"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    applicant_uzi_number = _text(_("Your UZI number (9 digits, on your UZI card)"), 12)
    declaration = forms.BooleanField(
        label=_(
            "I declare that I may represent this organisation, that I hold the UZI card with "
            "this UZI number, and that the details are correct."
        ),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        application = applications.ApplicationData(**data)
        for error in applications.field_errors(applications.tidy(application)):
            self.add_error(error.field, str(error.message))
        return data

    def application(self) -> applications.ApplicationData:
        return applications.ApplicationData(**self.cleaned_data)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The applicant receives this reason by e-mail."),
    )
