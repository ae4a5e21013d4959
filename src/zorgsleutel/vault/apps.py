from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "zorgsleutel.vault"
    label = "vault"
    verbose_name = "Phone vault"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Load the SMS gateways at start-up: a bad VAULT_SMS_GATEWAYS stops the vault from
        # starting instead of failing the first person who asks for a code.
        from zorgsleutel.vault import gateways

        gateways.configured_gateways()
