"""Replaces Django's `createsuperuser`: only the person sets a password (see disabledcommand)."""

from zorgsleutel.accounts.disabledcommand import DisabledPasswordCommand as Command

__all__ = ["Command"]
