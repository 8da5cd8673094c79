"""Settings: one frozen object per process, read once from the environment and the command line.

Units are in the names (`_s`, `_ms`, `_bytes`). Secrets (tokens, passwords in URLs) are never
printed: `describe()` masks them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedge.domain.pretrade import TradeLimits
    from hedge.domain.symbols import SymbolCatalog


def default_data_dir() -> str:
    """The server's data folder unless HEDGE_DATA_DIR names one: the user's data folder of the
    platform (`%LOCALAPPDATA%\\hedge` on Windows, `$XDG_DATA_HOME/hedge` or `~/.local/share/hedge`
    elsewhere), absolute, so the store does not depend on where the server was started."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return str(Path(os.environ["LOCALAPPDATA"]) / "hedge")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "hedge")


def flag_values(args: object, settings: Any) -> dict[str, Any]:
    """The command-line values named as an init field of the dataclass `settings`: argparse's
    dest of `--database-url` is `database_url`, so a flag overrides the setting of its name."""
    return {f.name: getattr(args, f.name) for f in fields(settings) if f.init and hasattr(args, f.name)}


def default_database_url(data_dir: str | None = None) -> str:
    return f"sqlite:///{Path(data_dir or default_data_dir()) / 'hedge.db'}"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""
    data_dir: str = ""  # the default SQLite store is <data_dir>/hedge.db
    redis_url: str | None = None
    admin_token: str | None = None
    feed_retention_s: float = 24 * 3600
    cache_l1_ttl_s: float = 10.0
    cache_l2_ttl_s: float = 60.0
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 10
    max_query_tokens: int = 2_000
    max_aliases: int = 30
    fast_mutations: int = 1  # 0: every HTTP mutation through Strawberry (no prepared plans, api/fastpath.py)
    inline_writes: int = 1  # 0: every store call in a worker thread (1: short writes inline, store/inline.py)
    mutation_rate_per_s: float = 200.0
    mutation_burst: int = 400
    request_timeout_s: float = 15.0
    # glibc malloc arenas of the server (hedge.heap.limit_malloc_arenas); 0: glibc's default of 8
    # per core; MALLOC_ARENA_MAX in the environment, when set, wins
    malloc_arena_max: int = 2
    presence_grace_s: float = 3.0
    alert_escalate_s: float = 900.0  # an open, unacknowledged alert rises one severity step after this
    symbol_specs: str = ""  # JSON, or a path to a JSON file: {"XAUUSD": {"pipSize": "0.01"}}
    action_ttl_s: float = 30.0  # an EXECUTING action must be taken up by its agent within this
    limits: str = ""  # HEDGE_LIMITS: JSON, or a path to a JSON file (per-account order limits)
    deadline_sweep_s: float = 1.0  # how often the server fails actions past their deadline
    tls_cert: str = ""  # PEM certificate (chain) file: serve https:// and wss:// (with tls_key)
    tls_key: str = ""  # PEM private key file
    # the periodic jobs (hedge.jobs); see docs/operations.md
    feed_prune_interval_s: float = 0.0  # 0: a 24th of the feed retention, between 1 s and 1 h
    snapshot_interval_s: float = 10.0  # account figures into the 30 s / 5 min history
    stats_interval_s: float = 300.0
    archive_at: str = "03:00"  # UTC, daily: archive, clean-up, then a backup
    archive_after_days: float = 90.0
    reports_url: str = ""  # file:///path or s3://bucket/prefix; default reports/ beside the database
    s3_endpoint_url: str = ""  # any S3-compatible store; default AWS
    backup_url: str = ""  # DIR or s3://bucket/prefix for the daily backup; default backups/ beside it
    backup_keep: int = 7  # backups kept (older ones are deleted after a new one is written)
    notify: str = ""  # alert delivery channels and filters (docs/operations.md)
    notify_secret: str = ""  # HMAC key of webhook signatures
    summary_at: str = ""  # UTC HH:MM of the daily summary; empty: no summary
    session_secret: str = ""  # peppers the console's session signatures (hedge.web.sessions)
    session_max_age_s: float = 12 * 3600

    def __post_init__(self) -> None:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError(
                "TLS needs both HEDGE_TLS_CERT and HEDGE_TLS_KEY (--tls-cert, --tls-key), or neither"
            )

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Defaults, then HEDGE_* variables, then explicit overrides (command-line flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"HEDGE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(raw, f.type, f"HEDGE_{f.name.upper()}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("data_dir", default_data_dir())
        values.setdefault("database_url", default_database_url(values["data_dir"]))
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """The settings for logs, with secrets masked."""
        shown: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("admin_token", "notify", "notify_secret", "session_secret") and value:
                value = "***"
            elif f.name in ("database_url", "redis_url") and value:
                from sqlalchemy.engine import make_url  # only here: keeps `hedge --help` quick

                value = make_url(value).render_as_string(hide_password=True) if "://" in value else value
            shown[f.name] = value
        return shown


def _parse(raw: str, type_name: Any, variable: str) -> Any:
    text = str(type_name)
    try:
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError:
        kind = "an integer" if text.startswith("int") else "a number"
        raise ValueError(f"{variable} must be {kind}, was {raw[:40]!r}") from None
    return raw


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """The Hedge System agent on one PC: its server link and its EA port."""

    server_url: str = "http://127.0.0.1:8000"
    token: str = ""
    ea_token: str = ""
    ea_host: str = "127.0.0.1"
    ea_port: int = 8080
    state_dir: str = ""
    ea_wait_s: float = 30.0  # how long work waits for its account's EA before EA_UNREACHABLE
    command_timeout_s: float = 60.0  # an OPEN/CLOSE with no answer this long is settled by SYNC
    auth_wait_s: float = 10.0  # an AUTH before the accounts are known waits this long
    ping_interval_s: float = 10.0
    dead_after_s: float = 30.0
    account_push_interval_s: float = 30.0
    trail_timer_ms: int = 100
    max_retries: int = 3  # REQUOTE (and OPENs found never placed after an unknown outcome)
    retry_backoff_s: float = 0.2
    reconnect_max_s: float = 5.0
    reconcile_s: float = 60.0  # SYNC every EA and compare with the server this often
    symbol_specs: str = ""  # as the server's HEDGE_SYMBOL_SPECS: give both the same
    ca_file: str = ""  # PEM CAs that verify the server's certificate (https/wss); empty = the system's
    lease_ttl_s: float = 15.0  # the agent lease (one acting agent per user), renewed every ttl/3
    offline_reducing_s: float = 60.0  # this long without the server: act as if trading is REDUCING

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        token_file: str | None = None,
        ea_token_file: str | None = None,
        **overrides: Any,
    ) -> AgentSettings:
        """Defaults, then HEDGE_* variables, then flags. A token comes from the first of: its flag,
        its file flag, HEDGE_TOKEN, HEDGE_TOKEN_FILE (likewise the EA token)."""
        env = os.environ if env is None else env
        names = {
            "server_url": "HEDGE_SERVER_URL",
            "token": "HEDGE_TOKEN",
            "ea_token": "HEDGE_EA_TOKEN",
            "ea_host": "HEDGE_EA_HOST",
            "ea_port": "HEDGE_EA_PORT",
            "state_dir": "HEDGE_STATE_DIR",
            "symbol_specs": "HEDGE_SYMBOL_SPECS",
            "ca_file": "HEDGE_CA_FILE",
        }
        values: dict[str, Any] = {"state_dir": str(Path.cwd() / "hedge-agent-state")}
        for f in fields(cls):
            variable = names.get(f.name, f"HEDGE_AGENT_{f.name.upper()}")
            raw = env.get(variable)
            if raw is not None and raw != "":
                values[f.name] = _parse(raw, f.type, variable)
        for name, flag, path in (
            ("token", "--token-file", token_file),
            ("ea_token", "--ea-token-file", ea_token_file),
        ):
            variable = f"{names[name]}_FILE"
            if overrides.get(name):
                continue
            if path:
                values[name] = read_secret_file(path, flag)
            elif not values.get(name) and env.get(variable):
                values[name] = read_secret_file(env[variable], variable)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for secret in ("token", "ea_token"):
            shown[secret] = "***" if shown[secret] else ""
        return shown


def read_secret_file(path: str, source: str) -> str:
    """A token kept in a file (first line, whitespace stripped): no `ps` shows it, and a token
    starting with "-" is no flag."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source}: cannot read {path}: {exc}") from None
    secret = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not secret:
        raise ValueError(f"{source}: {path} is empty (expected the token on its first line)")
    return secret


def load_symbol_specs(value: str) -> SymbolCatalog:
    """HEDGE_SYMBOL_SPECS as a catalog: inline JSON, or the path of a JSON file; empty = defaults."""
    from hedge.domain.symbols import SymbolCatalog, catalog_from_config

    loaded = _json_object(value, "HEDGE_SYMBOL_SPECS")
    return SymbolCatalog() if loaded is None else catalog_from_config(loaded)


def load_limits(value: str) -> TradeLimits:
    """HEDGE_LIMITS as limits: inline JSON, or the path of a JSON file; empty = no limits."""
    from hedge.domain.pretrade import TradeLimits, limits_from_config

    loaded = _json_object(value, "HEDGE_LIMITS")
    return TradeLimits() if loaded is None else limits_from_config(loaded)


def _json_object(value: str, name: str) -> dict[str, Any] | None:
    """The JSON object a setting holds inline or in the file it names; None when it is empty."""
    text = value.strip()
    if not text:
        return None
    if not text.startswith("{"):
        text = Path(text).read_text()
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{name} must be a JSON object, was {type(loaded).__name__}")
    return loaded
