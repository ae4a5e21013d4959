from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthnConfig(AppConfig):
    name = "zorgsleutel.authn"
    label = "authn"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from zorgsleutel.authn import means, sessions
        from zorgsleutel.people import permissions

        # A session acts in an organisation only with an authenticator it still accepts.
        permissions.register_session_check(sessions.authenticator_refusal)

        # Inloggen met SMS-code (seed 000): password + a code texted to the number on record.
        means.register(
            means.Means(
                name="sms",
                acr="low",
                amr=("pwd", "sms"),
                start="authn:login",
                log_in_message=_("Log in with your password and an SMS code."),
            )
        )
