"""Errors the vault answers with: a stable code, an HTTP status and a message for operators."""

from __future__ import annotations


class VaultError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def as_dict(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}
