"""The vault client's keep-alive retry, against the live vault behind a relay that hangs up.

The client keeps one connection per thread. A server closes such a connection when it has been
idle for a while (gunicorn's keep-alive timeout); the client's next request on it then fails
before any answer. The rule (vaultclient/client.py, `_call`): only a failure on a reused
connection is retried, only once, on a new connection and with the same signature, so the
vault, which accepts each nonce once, never applies one request twice.

`HangingUpRelay` passes bytes between the client and the real vault and, when told, behaves as
a server that closes connections: all idle ones now, or the next request's connection before
the vault sees the request or after the vault has answered it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse

import pytest

from zorgsleutel import vaultclient

CLOSED = r"^the vault closed the connection$"
CLOSED_AFTER_RECEIVING = r"^the vault closed the connection after receiving the request$"


class HangingUpRelay:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0  # accepted from the client
        self._plan: list[str] = []  # for the next requests: "before" or "after"
        self._open: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def hang_up(self, *when: str) -> None:
        """Hang up on the next requests, one entry each: "before" the vault sees the request,
        or "after" the vault has answered it (the answer is not passed on)."""
        with self._lock:
            self._plan.extend(when)

    def close_idle(self) -> None:
        """What a server's keep-alive timeout does: close every connection now."""
        with self._lock:
            pairs, self._open = self._open, []
        for pair in pairs:
            _close(*pair)

    def stop(self) -> None:
        self.listener.close()
        self.close_idle()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:  # stopped
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self.connections += 1
                self._open.append((downstream, upstream))
            answered = threading.Event()  # set: hang up when the vault's answer arrives
            threading.Thread(
                target=self._requests, args=(downstream, upstream, answered), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(downstream, upstream, answered), daemon=True
            ).start()

    def _requests(self, downstream, upstream, answered: threading.Event) -> None:
        while chunk := _recv(downstream):
            with self._lock:
                when = self._plan.pop(0) if self._plan else None
            if when == "before":
                break
            if when == "after":
                answered.set()
            upstream.sendall(chunk)
        _close(downstream, upstream)

    def _answers(self, downstream, upstream, answered: threading.Event) -> None:
        while (chunk := _recv(upstream)) and not answered.is_set():
            downstream.sendall(chunk)
        _close(downstream, upstream)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)  # also wakes the thread reading it
        sock.close()


@pytest.fixture
def relay(live_vault):
    parts = urllib.parse.urlsplit(live_vault)
    relay = HangingUpRelay((parts.hostname, parts.port))
    yield relay
    relay.stop()


@pytest.fixture
def client(relay, settings):
    """A client of the vault through the relay (its own keep-alive connection)."""
    return vaultclient.VaultClient(
        url=relay.url, client_id=settings.VAULT_CLIENT_ID, key=settings.VAULT_CLIENT_KEY.encode()
    )


def _texts_to(observer, hint: str) -> int:
    """How many SMS the vault has sent to `hint`, asked on the observer's own connection."""
    return sum(1 for sms in observer.dev_sms() if sms["to"] == hint)


def test_a_connection_the_vault_closed_while_idle_is_retried_once(client, relay, vault_service):
    assert client.health()
    relay.close_idle()
    texts = _texts_to(vault_service, "06 •• •• •• 41")
    sent = client.enrol(phone="06 1111 3341")
    assert sent.hint == "06 •• •• •• 41"
    assert relay.connections == 2
    assert _texts_to(vault_service, "06 •• •• •• 41") == texts + 1
    assert client.hint(enrolment=sent.enrolment) == "06 •• •• •• 41"  # the new one is kept
    assert relay.connections == 2


def test_a_fresh_connection_that_fails_is_not_retried(client, relay):
    relay.hang_up("before")
    with pytest.raises(vaultclient.VaultUnavailable, match=CLOSED):
        client.health()
    assert relay.connections == 1


def test_a_request_is_retried_at_most_once(client, relay):
    assert client.health()
    relay.hang_up("before", "before")  # a third try would get through
    with pytest.raises(vaultclient.VaultUnavailable, match=CLOSED):
        client.health()
    assert relay.connections == 2


def test_a_request_the_vault_answered_is_not_applied_again(client, relay, vault_service):
    """The vault sent the SMS, then the connection broke before its answer arrived: the retry
    repeats the nonce, the vault refuses it as a replay, and no second SMS goes out."""
    assert client.health()
    texts = _texts_to(vault_service, "06 •• •• •• 42")
    relay.hang_up("after")
    with pytest.raises(vaultclient.VaultUnavailable, match=CLOSED_AFTER_RECEIVING):
        client.enrol(phone="06 1111 3342")
    assert relay.connections == 2  # it did try again
    assert _texts_to(vault_service, "06 •• •• •• 42") == texts + 1
