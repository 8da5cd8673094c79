"""Stop signals for the agent on every platform it runs on.

POSIX: SIGINT and SIGTERM (systemd, Docker) through `loop.add_signal_handler`. Windows has no
`add_signal_handler` on its event loops: SIGINT (Ctrl-C) and SIGBREAK (Ctrl-Break, which a service
wrapper sends) go through `signal.signal`, whose handler runs in the main thread between bytecodes
and hands the stop to the loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGBREAK")  # SIGBREAK exists on Windows only


def install_stop_handlers(
    loop: asyncio.AbstractEventLoop, on_stop: Callable[[str], None], *, force_portable: bool = False
) -> Callable[[], None]:
    """Call `on_stop(signal name)` on the loop when a stop signal comes; returns the undo.

    `force_portable` takes the Windows path (signal.signal) on any platform, for its tests."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread (an agent embedded in a test)
    on_loop: list[int] = []
    previous: dict[int, object] = {}
    for name in STOP_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            if force_portable:
                raise NotImplementedError
            loop.add_signal_handler(signum, on_stop, name)
            on_loop.append(signum)
        except (NotImplementedError, AttributeError, RuntimeError, ValueError):  # Windows' loops
            previous[signum] = signal.signal(signum, _threadsafe(loop, on_stop, name))

    def restore() -> None:
        with contextlib.suppress(RuntimeError, ValueError):  # the loop may be closed by now
            for signum in on_loop:
                loop.remove_signal_handler(signum)
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    return restore


def _threadsafe(
    loop: asyncio.AbstractEventLoop, on_stop: Callable[[str], None], name: str
) -> Callable[[int, object], None]:
    def handler(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(on_stop, name)

    return handler
