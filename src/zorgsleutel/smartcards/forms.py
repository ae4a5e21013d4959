"""The form of Beheer → a member's smartcards: the identity check in person (seed 003, 2c)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NOT_CONFIRMED = gettext_lazy("Tick the box to confirm that you saw the identity document.")


class IdentitySeenForm(forms.Form):
    seen = forms.BooleanField(error_messages={"required": NOT_CONFIRMED})

    def __init__(self, *args, person: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen"].label = _(
            "I saw the identity document of %(name)s in person, and it is theirs."
        ) % {"name": person}
