from django.apps import AppConfig


class MobileAppConfig(AppConfig):
    name = "zorgsleutel.mobileapp"
    label = "mobileapp"
    verbose_name = "Zorgsleutel app"
