from django.apps import AppConfig


class UziConfig(AppConfig):
    name = "zorgsleutel.uzi"
    label = "uzi"
    verbose_name = "UZI certificates"
