"""How the worker hands a mail over: SMTP (EMAIL_URL) or the development outbox."""

from __future__ import annotations

import contextlib
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
    """Delivers over one SMTP connection per worker process, kept open between mails.

    Opening a connection (TCP, EHLO, STARTTLS, AUTH) per mail was most of the cost of a
    campaign (bench/campaign.py). A failed send closes the connection; the next mail opens a
    fresh one, and the failed mail is retried by the worker with backoff.
    """

    def __init__(self, *, alias: str, **options):
        super().__init__(alias=alias, **options)
        self._backend: EmailBackend | None = None

    def _connection(self) -> EmailBackend:
        if self._backend is None:
            self._backend = smtp_backend_from_url(self.options["url"])
        if self._backend.connection is None:
            self._backend.open()
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            with contextlib.suppress(Exception):
                self._backend.close()
            self._backend = None

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
        )
        message.attach_alternative(mail.body_html, "text/html")
        for attempt in (1, 2):
            reused = self._backend is not None and self._backend.connection is not None
            try:
                sent = self._connection().send_messages([message])
                break
            except Exception as exc:  # smtplib raises OSError subclasses and SMTPException
                self.close()
                # A kept-open connection the server dropped while idle: once more, fresh.
                if attempt == 2 or not reused:
                    raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if sent != 1:
            self.close()
            raise TransportError("the SMTP server did not accept the message")
