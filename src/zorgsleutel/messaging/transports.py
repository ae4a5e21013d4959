"""How the worker hands a mail over: SMTP (EMAIL_URL) or the development outbox."""

from __future__ import annotations

import urllib.parse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend

from zorgsleutel.messaging.models import OutboxMail


class TransportError(Exception):
    """Delivery failed; the worker retries later."""


class MailTransport:
    def __init__(self, *, alias: str, **options):
        self.alias = alias
        self.options = options

    def send(self, mail: OutboxMail) -> None:
        raise NotImplementedError


class DevOutboxTransport(MailTransport):
    """Development: the mail is delivered to the outbox itself and shows in /dev/mailbox."""

    def send(self, mail: OutboxMail) -> None:
        return None


def smtp_backend_from_url(url: str) -> EmailBackend:
    """smtp://user:pass@host:port (STARTTLS with ?tls=1) or smtps://... (implicit TLS)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"EMAIL_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    query = urllib.parse.parse_qs(parts.query)
    return EmailBackend(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=urllib.parse.unquote(parts.username or ""),
        password=urllib.parse.unquote(parts.password or ""),
        use_tls=query.get("tls", ["0"])[0] in ("1", "true"),
        use_ssl=parts.scheme == "smtps",
        timeout=float(query.get("timeout", ["15"])[0]),
        fail_silently=False,
    )


class SmtpTransport(MailTransport):
    def send(self, mail: OutboxMail) -> None:
        message = EmailMultiAlternatives(
            subject=mail.subject,
            body=mail.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[mail.to],
            headers={
                # Stable across retries, so a receiver can drop a duplicate delivery.
                "Message-ID": f"<{mail.message_id}@zorgsleutel>",
                "Auto-Submitted": "auto-generated",
                "Content-Language": mail.locale,
            },
            connection=smtp_backend_from_url(self.options["url"]),
        )
        message.attach_alternative(mail.body_html, "text/html")
        try:
            message.send()
        except (
            OSError,
            Exception,
        ) as exc:  # smtplib errors are OSError subclasses or SMTPException
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
