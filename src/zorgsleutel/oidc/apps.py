from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "zorgsleutel.oidc"
    label = "oidc"
    verbose_name = "Zorgsleutel single sign-on (OpenID Connect)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.authn import sessions
        from zorgsleutel.oidc import auditnames, logout
        from zorgsleutel.people import auditlog, signals

        auditlog.register("sso_client", auditnames.clients)

        # An application's sign-in request is where a login lands, also after a step-up or a
        # timed-out session (authn/sessions.py).
        sessions.resume_after_login("/oidc/authorize")

        # A session that ends ends its sign-ins, and the applications are told (logout.py);
        # its sid survives a step-up or a timed-out session's new login of the same person.
        signals.sessions_ended.connect(logout.on_sessions_ended, dispatch_uid="oidc.logout")
        sessions.carry_across_login(logout.SID)
