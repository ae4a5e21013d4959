from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "zorgsleutel.organisations"
    label = "organisations"
    verbose_name = "Organisations"
