"""The fault proxy itself: it forwards, a cut drops live connections and refuses new ones, a
restore forwards again, a silent cut forwards nothing."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from tests.e2e.proxy import CutProxy


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


@pytest.fixture
def proxy(echo_port: int) -> Iterator[CutProxy]:
    made = CutProxy(echo_port).start()
    yield made
    made.close()


def _client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.settimeout(2)
    return sock


def _round_trip(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    return sock.recv(4096)


def _ended(sock: socket.socket) -> bool:
    """The peer closed (FIN) or reset (RST) the connection, as a dropped link does."""
    try:
        with contextlib.suppress(OSError):
            sock.sendall(b"x")
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_proxy_open_forwards_both_ways(proxy: CutProxy) -> None:
    with _client(proxy.port) as sock:
        assert _round_trip(sock, b"hello") == b"hello"
    assert proxy.connections_made == 1


def test_proxy_cut_closes_live_connections_and_refuses_new_ones_until_restored(proxy: CutProxy) -> None:
    live = _client(proxy.port)
    assert _round_trip(live, b"a") == b"a"
    proxy.cut()
    assert _ended(live)  # the live connection ends
    live.close()
    with pytest.raises(ConnectionRefusedError):
        _client(proxy.port)
    proxy.restore()  # listening again on the same port
    with _client(proxy.port) as again:
        assert _round_trip(again, b"back") == b"back"
    assert proxy.connections_made == 2


def test_proxy_reset_cut_accepts_new_connections_and_closes_them_at_once(proxy: CutProxy) -> None:
    proxy.cut(mode="reset")
    with _client(proxy.port) as reset:
        assert _ended(reset)  # accepted, then closed: nothing reaches the target
    proxy.restore()
    with _client(proxy.port) as again:
        assert _round_trip(again, b"back") == b"back"
    assert proxy.connections_made == 1


def test_proxy_cut_with_an_unknown_mode_is_refused(proxy: CutProxy) -> None:
    with pytest.raises(ValueError, match="must be refuse, reset or silent"):
        proxy.cut(mode="slow")


def test_proxy_silent_cut_forwards_nothing_but_keeps_the_connection(proxy: CutProxy) -> None:
    with _client(proxy.port) as sock:
        assert _round_trip(sock, b"1") == b"1"
        proxy.cut(mode="silent")
        sock.sendall(b"lost")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(4096)
        assert proxy.live_connections() == 1
