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


class FieldErrors(DomainError):
    """Several fields wrong at once (a form shows every one; NL Design System's form guidance):
    `errors`, each a DomainError naming its field. The first gives the code, message and field,
    so a caller that handles one error still reads a sensible one."""

    def __init__(self, errors: list[DomainError]):
        if not errors:
            raise ValueError("FieldErrors needs at least one error")
        first = errors[0]
        super().__init__(first.code, first.message, field=first.field, **first.extra)
        self.errors = list(errors)

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["errors"] = [error.as_dict() for error in self.errors]
        return data


def raise_all(errors: list[DomainError]) -> None:
    """Raise nothing, the one error, or all of them together (FieldErrors)."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FieldErrors(errors)
