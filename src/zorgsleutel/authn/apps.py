from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthnConfig(AppConfig):
    name = "zorgsleutel.authn"
    label = "authn"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from zorgsleutel.authn import means

        # Inloggen met SMS-code (seed 000): password + a code texted to the number on record.
        means.register(
            means.Means(
                name="sms",
                acr="low",
                amr=("pwd", "sms"),
                start="accounts:login",
                log_in_message=_("Log in with your password and an SMS code."),
            )
        )
