from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "zorgsleutel.devtools"
    label = "devtools"
    verbose_name = "Development tools (DEBUG only)"
