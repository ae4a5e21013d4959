from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileAppConfig(AppConfig):
    name = "zorgsleutel.mobileapp"
    label = "mobileapp"
    verbose_name = "Zorgsleutel app"

    def ready(self) -> None:
        from zorgsleutel.authn import challenges, means
        from zorgsleutel.mobileapp import auditnames, devices, enrolment, flows, standing, views
        from zorgsleutel.people import auditlog, signals

        auditlog.register("appdevice", auditnames.apps)

        # A QR login answered by the app logs the waiting browser in.
        challenges.register_finisher(flows.KIND, flows.PURPOSE, flows.finish_login)
        # An app enrolled from /mijn/app-koppelen: the page goes on to the person's apps.
        challenges.register_finisher(
            enrolment.ENROL_KIND, enrolment.LINK_APP, views.finish_link_app
        )
        # An organisation the person left keeps no decision about their app IDs.
        signals.memberships_changed.connect(_forget, dispatch_uid="mobileapp.forget")

        # The Zorgsleutel app: PIN + the app's key, answering a QR code (docs/app-protocol.md).
        # RFC 8176: "swk", a software-secured key (the app's, in the phone's keystore), "pin".
        means.register(
            means.Means(
                name="app",
                acr="substantial",
                amr=("swk", "pin"),
                start="mobileapp:login",
                paths=("/inloggen/app", "/mijn/app-koppelen", "/api/app/"),
                enrol="mobileapp:enrol",
                standing=standing.app_standing,
                accepted_by=standing.accepted_by,
                linked_since=devices.linked_since,
                revoke_since=devices.revoke_since,
                log_in_message=_("Log in with the Zorgsleutel app."),
                enrol_message=_("Link the Zorgsleutel app first: your role requires it."),
            )
        )


def _forget(sender, person, **kwargs) -> None:
    from zorgsleutel.mobileapp import standing

    standing.forget_left_organisations(person)
