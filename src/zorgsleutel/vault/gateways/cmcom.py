"""CM.com gateway: the Business Messaging API's JSON endpoint, one SMS per request.

Request and answer follow CM.com's developer docs (developers.cm.com/messaging/docs):
"Business Messaging Basics" (endpoints, X-CM-PRODUCTTOKEN header), "Shared Features" (msg
fields, 00-prefixed numbers) and "Responses & Errors - JSON" (errorCode, messageErrorCode);
the code descriptions are those of CM's own SDKs (TextClientStatusCodes).
"""

from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage
from zorgsleutel.vault.gateways.http import (
    JSON,
    Answer,
    call,
    check_options,
    check_url,
    code_of,
    timeout_option,
)

# CM's non-Cloudflare endpoint: the Cloudflare one (gw.messaging.cm.com) adds a US sub-processor.
DEFAULT_URL = "https://gw.cmtelecom.com/v1.0/message"
_OPTIONS = {"product_token", "url", "timeout"}

ERROR_CODES = {
    101: "authentication failed",
    102: "insufficient balance",
    103: "product token incorrect",
    201: "not all messages sent",
    202: "request malformed",
    203: "msg array incorrect",
    301: "invalid from",
    302: "invalid to",
    303: "invalid number",
    304: "invalid body",
    305: "invalid field",
    401: "spam filtered",
    402: "blacklisted",
    403: "rejected",
    500: "internal error",
    999: "unknown error",
}


def cm_number(e164: str) -> str:
    """CM wants 00, country code, number: "+31612345678" becomes "0031612345678"."""
    if not e164.startswith("+") or not e164[1:].isdigit():
        raise GatewayError("number is not in E.164 form")
    return "00" + e164[1:]


def _describe(name: str, code: int | None) -> str:
    if code is None:
        return f"no {name}"
    return f"{name} {code} ({ERROR_CODES.get(code, 'undocumented')})"


class CmComGateway(SmsGateway):
    """Send through CM.com; the answer's errorCode and messageErrorCode decide, not just HTTP."""

    def __init__(self, *, alias: str, **options):
        super().__init__(alias=alias, **options)
        check_options(options, _OPTIONS, alias=alias)
        self.token = options.get("product_token")
        if not isinstance(self.token, str) or not self.token:
            raise ImproperlyConfigured(f"SMS gateway {alias!r}: product_token is required")
        self.url = check_url(options.get("url", DEFAULT_URL), alias=alias)
        self.timeout = timeout_option(options, alias=alias)

    def payload(self, message: SmsMessage) -> dict:
        return {
            "messages": {
                "authentication": {"producttoken": self.token},
                "msg": [
                    {
                        # SMS only: by default CM may pick any channel configured for the account.
                        "allowedChannels": ["SMS"],
                        "from": message.sender,
                        "to": [{"number": cm_number(message.to)}],
                        "body": {"type": "auto", "content": message.body},
                        "reference": message.reference,
                    }
                ],
            }
        }

    def send(self, message: SmsMessage) -> str:
        headers = {
            "Content-Type": JSON,
            "Accept": JSON,
            "X-CM-PRODUCTTOKEN": self.token,
        }
        data = json.dumps(self.payload(message)).encode()
        answer = call(self.url, method="POST", headers=headers, data=data, timeout=self.timeout)
        return self._accepted(answer, message)

    def _accepted(self, answer: Answer, message: SmsMessage) -> str:
        """200 with errorCode 0 and our msg "Accepted"; anything else is a refusal."""
        data = answer.json()
        if not isinstance(data, dict):
            raise GatewayError(f"HTTP {answer.status}, unreadable answer")
        error = code_of(data.get("errorCode"))
        messages = data.get("messages")
        entries = [e for e in messages if isinstance(e, dict)] if isinstance(messages, list) else []
        refused = [entry for entry in entries if not _is_accepted(entry)]
        if answer.status != 200 or error != 0 or refused or not entries:
            detail = [f"HTTP {answer.status}", _describe("errorCode", error)]
            detail += [
                _describe("messageErrorCode", code_of(e.get("messageErrorCode"))) for e in refused
            ]
            raise GatewayError(", ".join(detail))
        # CM's answer has no id of its own; it echoes our reference, which status reports carry.
        return message.reference


def _is_accepted(entry: dict) -> bool:
    status = entry.get("status")
    return (
        isinstance(status, str)
        and status.lower() == "accepted"
        and code_of(entry.get("messageErrorCode")) in (0, None)
    )
