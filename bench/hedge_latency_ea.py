"""The two EAs of bench/hedge_latency.py: scripted WebSocket clients in the bench's process, so
that one clock stamps the PRICE sent at EA 1 and the OPEN arriving at EA 2."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import ClientConnection, connect

SERVER_NAME = "Bench-Server"
NEUTRAL = {"bid": 150.000, "ask": 150.010}  # A fills at the ask, 150.010
MEETS = {"bid": 150.020, "ask": 150.030}  # bid - entry = 1 pip: meets a 1-pip FROM_ENTRY trail
EQUITY = 1_000_000  # the ACCOUNT snapshot: ample free margin for every hedge of a run
# USDJPY as a USD account at 1:100 reports it: 100,000 USD a lot / 100; a point (0.001 JPY) of a lot
# is 100 JPY, 100 / 150.01 USD
USDJPY = {
    "symbol": "USDJPY",
    "digits": 3,
    "point": 0.001,
    "contractSize": 100000,
    "volumeMin": 0.01,
    "volumeStep": 0.01,
    "volumeMax": 100,
    "marginPerLot": 1000,
    "tickValue": 0.66662,
}


class ScriptedEA:
    """AUTH, then SYMBOLS and ACCOUNT as a terminal sends them (after AUTH_OK and on SUBSCRIBE);
    POSITIONS [] for SYNC, OPENED SUCCESS for OPEN, PONG for PING; stamps each OPEN."""

    def __init__(self, url: str, token: str, number: str) -> None:
        self.url, self.token, self.number = url, token, number
        self.ws: ClientConnection | None = None
        self.open_seen: dict[str, int] = {}  # positionId -> monotonic_ns at arrival
        self.waiters: dict[str, asyncio.Future[int]] = {}
        self._tickets = iter(range(70_000_000_001, 80_000_000_000))
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.ws = await connect(self.url, compression=None, max_size=2**16)
        await self.ws.send(
            json.dumps(
                {
                    "type": "AUTH",
                    "token": self.token,
                    "accountNumber": self.number,
                    "serverName": SERVER_NAME,
                    "platform": "MT5",
                    "eaVersion": "bench",
                }
            )
        )
        answer = json.loads(await self.ws.recv())
        if answer["type"] != "AUTH_OK":
            raise RuntimeError(f"EA {self.number} not accepted: {answer}")
        await self._snapshots()
        self._reader = asyncio.create_task(self._read())

    async def _snapshots(self) -> None:
        """SYMBOLS and ACCOUNT, as hedge.ea.paper sends them on going online and on SUBSCRIBE."""
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "SYMBOLS", "symbols": [USDJPY]}))
        account = {"balance": EQUITY, "credit": 0, "equity": EQUITY, "margin": 0, "marginLevel": 0}
        await self.ws.send(
            json.dumps({"type": "ACCOUNT", **account, "currency": "USD", "timeMs": int(time.time() * 1000)})
        )

    def expect_open(self, position_id: str) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiters[position_id] = future
        return future

    async def price(self, quote: dict[str, float]) -> int:
        """Send a PRICE; the monotonic_ns just before it went to the socket."""
        assert self.ws is not None
        frame = json.dumps({"type": "PRICE", "symbol": "USDJPY", **quote, "timeMs": int(time.time() * 1000)})
        sent = time.monotonic_ns()
        await self.ws.send(frame)
        return sent

    async def _read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            arrived = time.monotonic_ns()
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "OPEN":
                waiter = self.waiters.pop(frame["positionId"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(arrived)
                await self.ws.send(
                    json.dumps(
                        {
                            "type": "OPENED",
                            "commandId": frame["commandId"],
                            "positionId": frame["positionId"],
                            "status": "SUCCESS",
                            "mtTicket": str(next(self._tickets)),
                            "price": NEUTRAL["ask"] if frame["side"] == "BUY" else NEUTRAL["bid"],
                            "timeMs": int(time.time() * 1000),
                        }
                    )
                )
            elif kind == "SYNC":
                await self.ws.send(
                    json.dumps({"type": "POSITIONS", "commandId": frame["commandId"], "positions": []})
                )
            elif kind == "SUBSCRIBE":
                await self._snapshots()
            elif kind == "PING":
                await self.ws.send(json.dumps({"type": "PONG", "id": frame["id"]}))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
