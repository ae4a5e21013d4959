from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "zorgsleutel.oidc"
    label = "oidc"
    verbose_name = "Zorgsleutel single sign-on (OpenID Connect)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.authn import sessions
        from zorgsleutel.oidc import auditnames
        from zorgsleutel.people import auditlog

        auditlog.register("sso_client", auditnames.clients)

        # An application's sign-in request is where a login lands, also after a step-up or a
        # timed-out session (authn/sessions.py).
        sessions.resume_after_login("/oidc/authorize")
