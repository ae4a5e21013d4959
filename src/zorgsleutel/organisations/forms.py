"""Forms of the organisation pages: parsing and per-field errors; the checks are the flow's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.organisations.flows import applications


def _text(label, max_length: int, help_text="", **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
        required=False,  # the flow says what an empty field needs (applications.field_errors)
    )


class ApplicationForm(forms.Form):
    """Stap 2 Aanvraagformulier invullen: every field's error at once, each empty field saying
    what to fill in (applications.field_errors), in fieldsets with a legend each."""

    organisation_name = _text(
        _("Name of the organisation"),
        200,
        _("As registered with the KvK."),
        autocomplete="organization",
    )
    kvk_number = _text(
        _("KvK number"),
        12,
        _("8 digits, for example 12345678. It is on your extract from the KvK Business Register."),
        inputmode="numeric",
    )
    ura = _text(
        _("URA (UZI-register subscriber number)"),
        12,
        _(
            "8 digits: your organisation's subscriber number with the UZI register. It is in "
            "the UZI register's confirmation of your subscription."
        ),
        inputmode="numeric",
    )
    agb_code = _text(
        _("AGB code (optional)"),
        12,
        _("8 digits, if your organisation has one. Look it up in the AGB register of Vektis."),
        inputmode="numeric",
    )
    street = _text(
        _("Street and number"),
        200,
        _("For example Dorpsstraat 12a."),
        autocomplete="street-address",
    )
    postal_code = _text(_("Postal code"), 8, _("For example 1234 AB."), autocomplete="postal-code")
    city = _text(_("City"), 100, autocomplete="address-level2")
    applicant_name = _text(_("Your name"), 200, autocomplete="name")
    applicant_email = forms.CharField(
        label=_("Your business e-mail address"),
        max_length=254,
        required=False,
        help_text=_(
            "For example name@your-practice.nl. You receive the application here, and later "
            "the validation link."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    applicant_uzi_number = _text(
        _("Your UZI number"),
        12,
        _("9 digits. It is printed on your UZI card."),
        inputmode="numeric",
    )
    declaration = forms.BooleanField(
        label=_(
            "I declare that I may represent this organisation, that I hold the UZI card with "
            "this UZI number, and that the details are correct."
        ),
        required=False,
    )
    fieldsets = (
        (_("The organisation"), ("organisation_name", "kvk_number", "ura", "agb_code")),
        (_("Address"), ("street", "postal_code", "city")),
        (_("Your details"), ("applicant_name", "applicant_email", "applicant_uzi_number")),
        (_("Declaration"), ("declaration",)),
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
        error_messages={"required": _("Fill in the reason.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < policies.REASON_MIN_LENGTH:
            raise forms.ValidationError(
                _("A reason has at least %(n)s characters.") % {"n": policies.REASON_MIN_LENGTH}
            )
        return reason


class SuspensionForm(ReasonForm):
    """Schorsen: the reason is kept with the organisation and shown in the console."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = ""
