"""Twilio gateway: Programmable Messaging, "Create a Message resource".

Request and answer follow Twilio's API reference (twilio.com/docs/messaging/api/message-resource):
POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From or
MessagingServiceSid, Body; HTTP Basic auth AccountSid:AuthToken; 201 with the Message's "sid",
errors as JSON "code" and "message" (twilio.com/docs/usage/twilios-response).
"""

from __future__ import annotations

import re
import urllib.parse

from django.core.exceptions import ImproperlyConfigured

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage
from zorgsleutel.vault.gateways.http import (
    FORM,
    JSON,
    Answer,
    basic_auth,
    call,
    check_options,
    check_url,
    code_of,
    timeout_option,
)

DEFAULT_BASE_URL = "https://api.twilio.com"
_OPTIONS = {"account_sid", "auth_token", "from", "messaging_service_sid", "base_url", "timeout"}
_SID = re.compile(r"^[A-Z]{2}[0-9a-zA-Z]{1,62}$")
_REFUSED = {"failed", "undelivered", "canceled"}


class TwilioGateway(SmsGateway):
    """Send through Twilio from a number/sender id ("from") or a Messaging Service."""

    def __init__(self, *, alias: str, **options):
        super().__init__(alias=alias, **options)
        check_options(options, _OPTIONS, alias=alias)
        self.account_sid = options.get("account_sid")
        token = options.get("auth_token")
        if not _is_sid(self.account_sid, "AC") or not isinstance(token, str) or not token:
            raise ImproperlyConfigured(
                f"SMS gateway {alias!r}: account_sid (AC...) and auth_token are required"
            )
        self.service_sid = options.get("messaging_service_sid") or ""
        self.sender = options.get("from") or ""
        if self.service_sid and self.sender:
            raise ImproperlyConfigured(
                f"SMS gateway {alias!r}: give from or messaging_service_sid, not both"
            )
        base = check_url(options.get("base_url", DEFAULT_BASE_URL), alias=alias).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        self.timeout = timeout_option(options, alias=alias)
        self.headers = {
            "Authorization": basic_auth(self.account_sid, token),
            "Content-Type": FORM,
            "Accept": JSON,
        }

    def form(self, message: SmsMessage) -> list[tuple[str, str]]:
        # Without "from" the vault's sender name is used as an alphanumeric sender id.
        origin = (
            ("MessagingServiceSid", self.service_sid)
            if self.service_sid
            else ("From", self.sender or message.sender)
        )
        return [("To", message.to), origin, ("Body", message.body)]

    def send(self, message: SmsMessage) -> str:
        data = urllib.parse.urlencode(self.form(message)).encode()
        answer = call(
            self.url, method="POST", headers=self.headers, data=data, timeout=self.timeout
        )
        return self._sid(answer)

    def _sid(self, answer: Answer) -> str:
        """201 with a Message sid and no failed status; the error's "message" is never used."""
        data = answer.json()
        if not isinstance(data, dict):
            raise GatewayError(f"HTTP {answer.status}, unreadable answer")
        if answer.status != 201:
            code = code_of(data.get("code"))
            raise GatewayError(f"HTTP {answer.status}, " + (f"code {code}" if code else "no code"))
        sid = data.get("sid")
        if not _is_sid(sid):
            raise GatewayError("HTTP 201 without a message sid")
        status = data.get("status")
        if isinstance(status, str) and status in _REFUSED:
            raise GatewayError(
                f"HTTP 201, status {status}, error_code {code_of(data.get('error_code'))}"
            )
        return sid


def _is_sid(value: object, prefix: str = "") -> bool:
    return isinstance(value, str) and bool(_SID.match(value)) and value.startswith(prefix)
