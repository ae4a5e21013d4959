from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "zorgsleutel.cards"
    label = "cards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.authn import means
        from zorgsleutel.cards import checks  # noqa: F401 (registers the checks)

        # The UZI card (docs/uzi.md): the card's key and PIN, through the card client or a TLS
        # client certificate. Today it proves the applicant of an organisation's validation
        # (seed 003, stap 5); a smartcard login adds `paths` and completes the login with
        # authn.sessions.complete_login(request, person, "uzi").
        means.register(
            means.Means(
                name="uzi",
                acr="high",
                amr=("sc", "pin"),
                start="organisations:validate_start",
            )
        )
