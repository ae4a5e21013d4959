"""The portal's smartcard CA at run time: the token named by the settings, opened once per
process and shared by its threads (settings.SMARTCARD_CA_*; docs/smartcards.md).

    certificate = runtime.with_ca(lambda opened: profile.issue(opened, csr, holder))

One PKCS#11 session serves the process; a lock keeps two threads from signing through it at once.
A session the library dropped (SoftHSM2 re-reads its tokens when one is added: the tests, the
demo) is opened again once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core.errors import ServiceUnavailable
from zorgsleutel.smartcards import ca as smartcard_ca

logger = logging.getLogger(__name__)

T = TypeVar("T")
_lock = threading.RLock()
_opened: smartcard_ca.SmartcardCa | None = None


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "smartcards_unavailable",
        _("Smartcards cannot be made or checked right now. Please try again later."),
    )


def _library():
    import pkcs11

    from zorgsleutel.uzi.testcard import DEFAULT_MODULE, SoftHsm

    if settings.SMARTCARD_CA_MODULE == DEFAULT_MODULE and "SOFTHSM2_CONF" not in os.environ:
        return SoftHsm(settings.VAR_DIR / "softhsm").library()  # `zorgsleutel smartcard-ca init`
    return pkcs11.lib(settings.SMARTCARD_CA_MODULE)


def _open() -> smartcard_ca.SmartcardCa:
    import pkcs11

    if not settings.SMARTCARD_CA_PIN:
        raise smartcard_ca.CaError("SMARTCARD_CA_PIN is not set")
    try:
        lib = _library()
        token = next(
            (
                slot.get_token()
                for slot in lib.get_slots(token_present=True)
                if slot.get_token().label == settings.SMARTCARD_CA_TOKEN
            ),
            None,
        )
    except (OSError, RuntimeError, pkcs11.exceptions.PKCS11Error) as error:
        raise smartcard_ca.CaError(f"cannot load {settings.SMARTCARD_CA_MODULE}: {error}") from None
    if token is None:
        raise smartcard_ca.CaError(f"no token {settings.SMARTCARD_CA_TOKEN!r}")
    return smartcard_ca.open_ca(
        token,
        pin=settings.SMARTCARD_CA_PIN,
        directory=settings.SMARTCARD_CA_DIR,
        base_url=settings.SMARTCARD_STATUS_URL,
    )


def available() -> bool:
    """Whether the CA can be opened (the pages offer smartcards only then)."""
    try:
        with_ca(lambda opened: None)
    except ServiceUnavailable:
        return False
    return True


def with_ca(work: Callable[[smartcard_ca.SmartcardCa], T]) -> T:
    """`work(the open CA)`, for this thread alone while it runs; ServiceUnavailable when the CA
    cannot be opened (logged for the operator). `work` is called again, once, on a fresh
    session when the library dropped the old one: it must change nothing before it signs."""
    global _opened
    import pkcs11

    dropped = (
        pkcs11.exceptions.SessionHandleInvalid,
        pkcs11.exceptions.SessionClosed,
        pkcs11.exceptions.UserNotLoggedIn,
    )
    with _lock:
        for attempt in (1, 2):
            if _opened is None:
                try:
                    _opened = _open()
                except smartcard_ca.CaError as error:
                    logger.error("the smartcard CA cannot be opened: %s", error)
                    raise unavailable() from None
            try:
                return work(_opened)
            except dropped:
                _opened = None
                if attempt == 2:
                    logger.error("the smartcard CA's token dropped the session twice")
                    raise unavailable() from None
    raise AssertionError("unreachable")  # pragma: no cover


def reset() -> None:
    """Forget the open CA (the settings changed: tests)."""
    global _opened
    with _lock:
        if _opened is not None:
            try:
                _opened.close()
            except Exception:  # a session the library dropped already
                logger.debug("closing a dropped smartcard CA session", exc_info=True)
        _opened = None
