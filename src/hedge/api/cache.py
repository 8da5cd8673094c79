"""The read-through cache of the seed's §9: memory (10 s TTL), then Redis (60 s TTL), then the store.

Hot reads only: one position, one action, one account, a user's accounts. Every committed change
(seen through the change feed, on every process) invalidates both levels, and a version guard
keeps an older row from ever being put back: memory remembers the newest version it was told
of, and Redis is written only with a newer version (a Lua compare-and-set). Without Redis, or
while Redis is down, reads go on through memory and the store, with a logged warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from cachetools import TTLCache

from hedge.api.metrics import Metrics
from hedge.domain.models import Account, Action, Alert, Position, User
from hedge.domain.rows import ENTITY_NAMES, from_mapping, to_image
from hedge.store.feed import ChangeEvent, head_seq
from hedge.store.repository import Store

log = logging.getLogger(__name__)

T = TypeVar("T", User, Account, Position, Action, Alert)

_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and tonumber(decoded['version']) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""
_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""
PREFIX = "hedge:v1:"
REDIS_RETRY_S = 5.0
# token -> user, so that a request does not cost a store read to authenticate; a change of the
# user (deactivated, role) drops its entries on every process through the change feed
TOKEN_TTL_S = 30.0


class EntityCache:
    """Thread-safe; called from the worker threads that run store reads."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        redis_url: str | None = None,
        l1_ttl_s: float = 10.0,
        l2_ttl_s: float = 60.0,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._l1: TTLCache[tuple[str, str], Any] = TTLCache(maxsize=50_000, ttl=l1_ttl_s)
        self._newest: TTLCache[tuple[str, str], int] = TTLCache(
            maxsize=200_000, ttl=max(l2_ttl_s, l1_ttl_s) * 2
        )
        self._tokens: TTLCache[str, User] = TTLCache(maxsize=10_000, ttl=TOKEN_TTL_S)
        self._lock = threading.Lock()
        self._l2_ttl = int(l2_ttl_s)
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25)
            if redis_url
            else None
        )
        self._redis_down_until = 0.0
        self._set_if_newer = self._redis.register_script(_SET_IF_NEWER) if self._redis else None
        self._set_if_generation = self._redis.register_script(_SET_IF_GENERATION) if self._redis else None
        # the feed position up to which invalidations were applied; reads bypass memory while
        # the store knows of newer commits than this (an invalidation may be on its way)
        self.applied_seq = store.signal.head

    # ------------------------------------------------------------------ reads

    def get(self, cls: type[T], entity_id: str) -> T | None:
        name = ENTITY_NAMES[cls]
        key = (name, entity_id)
        if self._fresh():
            with self._lock:
                hit = self._l1.get(key)
            if hit is not None:
                self._metrics.cache_hits.labels("memory").inc()
                return hit  # type: ignore[no-any-return]
        found = self._l2_get(cls, key)
        if found is not None:
            self._metrics.cache_hits.labels("redis").inc()
        else:
            self._metrics.cache_misses.inc()
            found = self._load(cls, entity_id)
            if found is None:
                return None
            self._l2_put(key, found)
        self._l1_put(key, found, found.version)
        return found

    def accounts_of(self, user_id: str) -> list[Account]:
        key = ("AccountsOf", user_id)
        if self._fresh():
            with self._lock:
                hit = self._l1.get(key)
            if hit is not None:
                self._metrics.cache_hits.labels("memory").inc()
                return list(hit)
        # one round trip: the generation (for a safe fill below) and the cached list
        pair = self._redis_call(lambda r: r.mget([self._gen_key(user_id), PREFIX + f"AccountsOf:{user_id}"]))
        generation, cached = pair if isinstance(pair, list) else (None, None)
        if isinstance(cached, bytes):
            self._metrics.cache_hits.labels("redis").inc()
            accounts = [from_mapping(Account, image) for image in json.loads(cached)]
        else:
            self._metrics.cache_misses.inc()
            accounts = self._store.list_accounts(user_id)
            if self._set_if_generation is not None:
                payload = json.dumps([to_image(a) for a in accounts])
                gen = generation.decode() if isinstance(generation, bytes) else "0"
                script = self._set_if_generation
                self._redis_call(
                    lambda r: script(
                        keys=[PREFIX + f"AccountsOf:{user_id}", self._gen_key(user_id)],
                        args=[payload, gen, self._l2_ttl],
                        client=r,
                    )
                )
        with self._lock:
            self._l1[key] = tuple(accounts)
        return accounts

    def user_for_token(self, token: str) -> User | None:
        """The user of a token seen recently, or None (then ask the store and `remember_token`)."""
        with self._lock:
            return self._tokens.get(_token_key(token))

    def remember_token(self, token: str, user: User) -> None:
        with self._lock:
            if self._newest.get(("User", user.id), 0) <= user.version:
                self._tokens[_token_key(token)] = user

    def _fresh(self) -> bool:
        """Whether memory may answer: every change committed so far has been applied to it."""
        if self._store.signal.head > self.applied_seq:
            return False
        if not self._store.postgres:
            return True  # one process per SQLite file: its own commits advance the signal
        # another process's commit may be ahead of its NOTIFY: ask the database (one indexed max)
        return head_seq(self._store.engine) <= self.applied_seq

    # ------------------------------------------------------------------ invalidation

    def invalidate(
        self, entity: str, entity_id: str, user_id: str, version: int, image: dict[str, Any]
    ) -> None:
        """A committed change: drop memory copies, remember the version, refresh Redis."""
        self._forget(entity, entity_id, user_id, version)
        if self._redis is None:
            return
        payload = json.dumps({"version": version, "image": image})
        script = self._set_if_newer
        assert script is not None
        self._redis_call(
            lambda r: script(
                keys=[PREFIX + f"{entity}:{entity_id}"], args=[payload, version, self._l2_ttl], client=r
            )
        )
        if entity == "Account":
            self._redis_call(lambda r: r.incr(self._gen_key(user_id)))
            self._redis_call(lambda r: r.delete(PREFIX + f"AccountsOf:{user_id}"))

    def invalidate_many(self, events: Sequence[ChangeEvent]) -> None:
        """`invalidate` for each of one commit's (or one feed read's) events, in order, with
        their Redis writes in one round trip: a pipeline of the same commands. The set-if-newer
        script goes by its hash (EVALSHA) without redis-py's pipeline script check, which would
        cost a SCRIPT EXISTS round trip per pipeline; should Redis not know the script (it was
        restarted or flushed), the events are refreshed one by one, which loads it."""
        for event in events:
            self._forget(event.entity, event.entity_id, event.user_id, event.version)
        if self._redis is None or not events:
            return
        script = self._set_if_newer
        assert script is not None

        def refresh(client: redis.Redis) -> bool:
            pipe = client.pipeline(transaction=False)
            for event in events:
                payload = json.dumps({"version": event.version, "image": event.image})
                key = PREFIX + f"{event.entity}:{event.entity_id}"
                pipe.evalsha(script.sha, 1, key, payload, event.version, self._l2_ttl)
                if event.entity == "Account":
                    pipe.incr(self._gen_key(event.user_id))
                    pipe.delete(PREFIX + f"AccountsOf:{event.user_id}")
            try:
                pipe.execute()
            except redis.exceptions.NoScriptError:
                return False
            return True

        if self._redis_call(refresh) is False:
            for event in events:
                self.invalidate(event.entity, event.entity_id, event.user_id, event.version, event.image)

    def _forget(self, entity: str, entity_id: str, user_id: str, version: int) -> None:
        """Drop this process's memory copies of a changed row and remember its version."""
        key = (entity, entity_id)
        with self._lock:
            self._l1.pop(key, None)
            if self._newest.get(key, 0) < version:
                self._newest[key] = version
            if entity == "Account":
                self._l1.pop(("AccountsOf", user_id), None)
            if entity == "User":
                for token_key in [k for k, u in self._tokens.items() if u.id == entity_id]:
                    self._tokens.pop(token_key, None)

    def written(self, entity: User | Account | Position | Action | Alert) -> None:
        """This process just committed `entity`: forget the memory copies at once, before the
        feed says so. Redis was refreshed already, by the change broker's commit hook in the
        committing worker thread (api/broker.py), before the store call returned: called from a
        resolver this runs on the event loop, where a Redis round trip held every connection up
        (33 ms once under `bench/hedge_latency.py --hops`)."""
        self._forget(
            ENTITY_NAMES[type(entity)],
            entity.id,
            entity.id if isinstance(entity, User) else entity.user_id,
            entity.version,
        )

    # ------------------------------------------------------------------ internals

    def _load(self, cls: type[T], entity_id: str) -> T | None:
        loaded: Any = {
            Position: self._store.get_position,
            Action: self._store.get_action,
            Account: self._store.get_account,
            User: self._store.get_user,
            Alert: self._store.get_alert,
        }[cls](entity_id)
        return loaded  # type: ignore[no-any-return]

    def _l1_put(self, key: tuple[str, str], entity: Any, version: int) -> None:
        with self._lock:
            if self._newest.get(key, 0) <= version:
                self._l1[key] = entity

    def _l2_get(self, cls: type[T], key: tuple[str, str]) -> T | None:
        raw = self._redis_call(lambda r: r.get(PREFIX + f"{key[0]}:{key[1]}"))
        if not isinstance(raw, bytes):
            return None
        decoded = json.loads(raw)
        with self._lock:
            if self._newest.get(key, 0) > int(decoded["version"]):
                return None
        return from_mapping(cls, decoded["image"])

    def _l2_put(self, key: tuple[str, str], entity: Any) -> None:
        if self._set_if_newer is None:
            return
        payload = json.dumps({"version": entity.version, "image": to_image(entity)})
        script = self._set_if_newer
        self._redis_call(
            lambda r: script(
                keys=[PREFIX + f"{key[0]}:{key[1]}"], args=[payload, entity.version, self._l2_ttl], client=r
            )
        )

    @staticmethod
    def _gen_key(user_id: str) -> str:
        return PREFIX + f"gen:AccountsOf:{user_id}"

    def _redis_call(self, call: Callable[[redis.Redis], Any]) -> Any:
        if self._redis is None or time.monotonic() < self._redis_down_until:
            return None
        try:
            return call(self._redis)
        except redis.RedisError as exc:
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            log.warning(
                "Redis unavailable (%s); serving from memory and the store for %.0f s", exc, REDIS_RETRY_S
            )
            return None

    @property
    def shared(self) -> bool:
        """True when a Redis shared cache is configured (other processes' copies to refresh)."""
        return self._redis is not None

    @property
    def redis_up(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


def _token_key(token: str) -> str:
    # the token itself is a secret: keep only its hash in memory
    return hashlib.sha256(token.encode()).hexdigest()
