"""Request bodies: size-limited, depth-limited JSON objects, validated against a strict schema.

Every refusal is a VaultError with a stable code (400/413), never an exception from a parser:
json.loads recurses once per level of nesting (5,000 levels raised RecursionError, a 500) and
refuses integers of more than 4,300 digits with a plain ValueError. Nesting is therefore
counted in one linear pass over the bytes before anything parses them.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from django.http import HttpRequest
from pydantic import BaseModel, ValidationError

from zorgsleutel.vault import policies
from zorgsleutel.vault.errors import VaultError

Schema = TypeVar("Schema", bound=BaseModel)

# The only bytes that matter for nesting: brackets, and quotes and backslashes (strings).
_STRUCTURE = re.compile(rb'[][{}"\\]')


def read(request: HttpRequest) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise VaultError("bad_content_length", "Invalid Content-Length.") from None
    if length > policies.MAX_BODY_BYTES:
        raise VaultError("body_too_large", "Request body too large.", status=413)
    return request.read(policies.MAX_BODY_BYTES + 1)


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether [ and { outside strings nest deeper than `limit`. Linear in the body's length;
    UTF-8 (and UTF-16/32, which json.loads also reads) never hide these ASCII bytes."""
    depth, in_string, escaped = 0, False, -1
    for match in _STRUCTURE.finditer(body):
        at, char = match.start(), match.group()
        if at == escaped:  # the character after a backslash inside a string
            continue
        if in_string:
            if char == b"\\":
                escaped = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def parse(schema: type[Schema], body: bytes) -> Schema:
    """The body as `schema`, or VaultError: invalid_json, unknown_field or invalid_field."""
    if len(body) > policies.MAX_BODY_BYTES:
        raise VaultError("body_too_large", "Request body too large.", status=413)
    if nests_deeper_than(body, policies.MAX_JSON_DEPTH):
        raise VaultError("invalid_json", "The body nests too deeply.")
    try:
        data = json.loads(body or b"{}")
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, integers beyond Python's limit
        raise VaultError("invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise VaultError("invalid_json", "The body must be a JSON object.")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        code = "unknown_field" if first["type"] == "extra_forbidden" else "invalid_field"
        raise VaultError(code, f"{field}: {first['msg']}", field=field) from None
