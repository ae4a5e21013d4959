"""Operators act on the platform (applications, organisations), never inside an organisation's
people; what they may do is policies.OPERATOR_PERMISSIONS. The check lives in people.permissions
(smartcards' order queue asks it too, from below organisations)."""

from __future__ import annotations

from zorgsleutel.people.permissions import require_operator

__all__ = ["require_operator"]
