from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmartcardsConfig(AppConfig):
    name = "zorgsleutel.smartcards"
    label = "smartcards"
    verbose_name = "Zorgsleutel smartcards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.authn import challenges, means
        from zorgsleutel.cards import flows as card_flows
        from zorgsleutel.cards import purposes
        from zorgsleutel.people import auditlog
        from zorgsleutel.smartcards import auditnames, creation, lifecycle, login, views

        auditlog.register("smartcard", auditnames.smartcards)
        auditlog.register("cardorder", auditnames.orders)

        # A card presented to log in: a Zorgsleutel smartcard (our CA), or a bound UZI card.
        purposes.register(login.LOGIN, login.present, login.describe, verify=login.verify)
        challenges.register_finisher(card_flows.KIND, login.LOGIN, login.finish_login)
        # Making one: the member's UZI card as the proof of who they are, then the blank card.
        purposes.register(creation.UZI_PROOF, creation.present_uzi, creation.describe)
        challenges.register_finisher(card_flows.KIND, creation.UZI_PROOF, views.finish_uzi_proof)
        purposes.register(creation.CREATE, None, creation.describe, csr=creation.issue_from_csr)
        challenges.register_finisher(card_flows.KIND, creation.CREATE, views.finish_create)
        # Renewing one from a login with it: a new key on the same card.
        purposes.register(creation.RENEW, None, creation.describe, csr=creation.renew_from_csr)
        challenges.register_finisher(card_flows.KIND, creation.RENEW, views.finish_renew)

        # The Zorgsleutel smartcard: the card's key and PIN (docs/smartcards.md).
        means.register(
            means.Means(
                name="smartcard",
                acr="high",
                amr=("sc", "hwk", "pin"),
                start="smartcards:login",
                paths=("/inloggen/smartcard",),
                standing=login.standing,
                accepted_by=login.accepted_by,
                linked_since=lifecycle.linked_since,
                revoke_since=lifecycle.revoke_since,
                log_in_message=_("Log in with your smartcard."),
            )
        )
