from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "zorgsleutel.vault"
    label = "vault"
    verbose_name = "Phone vault"
    default_auto_field = "django.db.models.BigAutoField"
