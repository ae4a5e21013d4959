"""Forms of the blank-card order pages: parsing and per-field errors; the checks are the flows'
(smartcards/orderinput.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.smartcards import orderinput


class OrderForm(forms.Form):
    """Smartcards bestellen: how many blank cards, delivered where."""

    quantity = forms.CharField(
        label=_("Number of blank smartcards"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )
    delivery_address = forms.CharField(
        label=_("Delivery address"),
        help_text=_(
            "As on the parcel: the organisation, for the attention of, street and number, "
            "postal code and city."
        ),
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "cols": 40, "autocomplete": "shipping street-address"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].help_text = _("1 to %(max)s cards.") % {
            "max": policies.SMARTCARD_ORDER_MAX
        }

    def clean(self):
        data = super().clean()
        said = set(self.errors)
        for error in orderinput.order_errors(
            quantity_given=data.get("quantity", ""), address_given=data.get("delivery_address", "")
        ):
            if error.field not in said:
                self.add_error(error.field, str(error.message))
        return data


class ShipForm(forms.Form):
    serials = forms.CharField(
        label=_("Serial numbers of the cards"),
        help_text=_("One per line, or separated by commas: exactly as many as were ordered."),
        max_length=40000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40, "spellcheck": "false"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the organisation reads it)"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"size": 40}),
    )
