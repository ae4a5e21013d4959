"""The dev mailbox: mails from the outbox and SMS from the vault's dev gateway, newest first.

Entry format of `/dev/mailbox.json` (the README):
{"kind": "mail"|"sms", "to", "subject", "body", "links", "sent_at"}.
SMS entries carry only the masked number the vault gives; the portal never sees a number.
"""

from __future__ import annotations

import re

from zorgsleutel import vaultclient
from zorgsleutel.messaging.models import OutboxMail

LINK = re.compile(r"https?://[^\s<>\"')]+")
LIMIT = 200


def entries() -> tuple[list[dict], str | None]:
    """All entries, newest first, and a warning when the vault's SMS could not be fetched."""
    items = [
        {
            "kind": "mail",
            "to": mail.to,
            "subject": mail.subject,
            "body": mail.body_text,
            "links": LINK.findall(mail.body_text),
            "sent_at": (mail.sent_at or mail.created_at).isoformat(),
            "status": mail.status,
        }
        for mail in OutboxMail.objects.order_by("-created_at", "-pk")[:LIMIT]
    ]
    warning = None
    try:
        sms = vaultclient.get().dev_sms()
    except vaultclient.VaultError as exc:
        sms, warning = [], f"SMS from the vault are missing: {exc}"
    items += [
        {
            "kind": "sms",
            "to": message["to"],
            "subject": "",
            "body": message["body"],
            "links": [],
            "sent_at": message["sent_at"],
        }
        for message in sms
    ]
    items.sort(key=lambda item: item["sent_at"], reverse=True)
    return items, warning
