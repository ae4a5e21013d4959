from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "zorgsleutel.messaging"
    label = "messaging"
    verbose_name = "Messaging"
