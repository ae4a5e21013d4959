from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zorgsleutel.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from zorgsleutel.accounts import auditnames
        from zorgsleutel.people import auditlog, signals

        auditlog.register("apitoken", auditnames.api_tokens)

        # Linking an authenticator is loud: the person and their organisations are told.
        signals.authenticator_linked.connect(_notify, dispatch_uid="accounts.link_notice")


def _notify(sender, person, means, name, linked_at, **kwargs) -> None:
    from zorgsleutel.accounts.flows import linknotice

    linknotice.notify_authenticator_linked(
        person=person, means=means, name=name, linked_at=linked_at
    )
