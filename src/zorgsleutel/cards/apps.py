from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "zorgsleutel.cards"
    label = "cards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.authn import means
        from zorgsleutel.cards import checks  # noqa: F401 (registers the checks)

        # The UZI card (docs/uzi.md): the card's key and PIN, through the card client or a TLS
        # client certificate. It proves the applicant of an organisation's validation (seed 003,
        # stap 5) and a care worker making a smartcard; once bound to an account, it logs that
        # account in on the smartcard login page (smartcards/login.py).
        means.register(
            means.Means(
                name="uzi",
                acr="high",
                amr=("sc", "hwk", "pin"),
                start="smartcards:login",
            )
        )
