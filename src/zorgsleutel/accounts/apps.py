from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zorgsleutel.accounts"
    label = "accounts"
    verbose_name = "Accounts"
