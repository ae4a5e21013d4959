from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "zorgsleutel.organisations"
    label = "organisations"
    verbose_name = "Organisations"

    def ready(self) -> None:
        from zorgsleutel.organisations.flows import validation

        validation.register()
