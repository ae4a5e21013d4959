"""Django's minimum-length rule for new passwords, in words our catalogue translates.

settings.AUTH_PASSWORD_VALIDATORS passes policies.PASSWORD_MIN_LENGTH. Django 5.2 words the
refusal "... at least %d characters.", which its own nl catalogue (still keyed by the older
"%(min_length)d" wording) leaves in English on a Dutch page; this one says it in Dutch.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short. It must contain at least %(n)d character.",
            "This password is too short. It must contain at least %(n)d characters.",
            self.min_length,
        ) % {"n": self.min_length}
