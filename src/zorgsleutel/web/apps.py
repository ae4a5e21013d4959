from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "zorgsleutel.web"
    label = "web"
    verbose_name = "Web"
