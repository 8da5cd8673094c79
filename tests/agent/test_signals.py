"""Stop signals: SIGTERM and SIGINT reach the agent's loop through add_signal_handler, and through
signal.signal + call_soon_threadsafe where the loop has no add_signal_handler (Windows)."""

from __future__ import annotations

import asyncio
import signal

import pytest

from hedge.agent.signals import install_stop_handlers


@pytest.mark.parametrize("portable", [False, True], ids=["loop-handler", "windows-path"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_stop_signal_calls_the_stop_callback_on_the_loop_with_its_name(
    portable: bool, signum: signal.Signals
) -> None:
    loop = asyncio.get_running_loop()
    heard: asyncio.Future[str] = loop.create_future()

    def on_stop(name: str) -> None:
        if not heard.done():
            heard.set_result(name)

    restore = install_stop_handlers(loop, on_stop, force_portable=portable)
    try:
        signal.raise_signal(signum)
        assert await asyncio.wait_for(heard, 2) == signum.name
    finally:
        restore()


async def test_restore_puts_the_previous_handlers_back() -> None:
    loop = asyncio.get_running_loop()
    before = signal.getsignal(signal.SIGINT)
    restore = install_stop_handlers(loop, lambda name: None, force_portable=True)
    assert signal.getsignal(signal.SIGINT) is not before
    restore()
    assert signal.getsignal(signal.SIGINT) is before


def test_the_windows_path_uses_no_posix_only_call() -> None:
    # The agent's path must run where signal.SIGBREAK exists and add_signal_handler does not.
    import inspect

    from hedge.agent import cli, signals

    source = inspect.getsource(signals) + inspect.getsource(cli)
    for posix_only in ("os.kill", "os.getpgid", "os.setsid", "signal.SIGHUP", "signal.SIGUSR", "fcntl"):
        assert posix_only not in source
