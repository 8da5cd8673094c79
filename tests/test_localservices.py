"""Ports for the services the tests and benches start: many chosen at once are all distinct."""

from __future__ import annotations

import socket

from hedge.localservices import free_ports


def test_free_ports_many_at_once_are_distinct_and_bindable() -> None:
    ports = free_ports(300)  # single calls repeated a port in about 1 of 3 runs of 100 here

    assert len(set(ports)) == 300
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports[0]))  # released once chosen
