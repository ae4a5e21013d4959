from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zorgsleutel.core"
    label = "core"
    verbose_name = "Zorgsleutel core"
