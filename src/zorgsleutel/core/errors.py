"""Domain errors: a stable code for the API and a message a person can act on (nl and en)."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """An error a user caused or can fix: `code` is stable API vocabulary, `message` lazy i18n."""

    status = 400

    def __init__(self, code: str, message: str | Promise, *, field: str | None = None, **extra):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra

    def as_dict(self) -> dict:
        data = {"error": self.code, "message": str(self.message)}
        if self.field:
            data["field"] = self.field
        data.update(self.extra)
        return data

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries: `Retry-After` when the error says when to retry."""
        wait = self.extra.get("retry_after")
        return {"Retry-After": str(int(wait))} if wait else {}


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    status = 429


class ServiceUnavailable(DomainError):
    status = 503
