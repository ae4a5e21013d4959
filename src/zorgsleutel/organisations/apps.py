from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "zorgsleutel.organisations"
    label = "organisations"
    verbose_name = "Organisations"

    def ready(self) -> None:
        from zorgsleutel.authn import challenges
        from zorgsleutel.cards import flows as cards
        from zorgsleutel.mobileapp import enrolment as app_enrolment
        from zorgsleutel.organisations import auditnames, firstapp, views
        from zorgsleutel.organisations.flows import validation
        from zorgsleutel.people import auditlog

        auditlog.register("application", auditnames.applications)

        validation.register()
        # An accepted (or refused) card on the validation page: the next step of seed 003.
        challenges.register_finisher(cards.KIND, validation.PURPOSE, views.finish_validation)
        # The new administrator's first app, enrolled in the browser that validated: step 6.
        challenges.register_finisher(
            app_enrolment.ENROL_KIND, firstapp.PURPOSE, views.finish_first_app
        )
