from django.apps import AppConfig


class SmartcardsConfig(AppConfig):
    name = "zorgsleutel.smartcards"
    label = "smartcards"
    verbose_name = "Zorgsleutel smartcards"
    default_auto_field = "django.db.models.BigAutoField"
