from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "zorgsleutel.cards"
    label = "cards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zorgsleutel.cards import checks  # noqa: F401 (registers the checks)
