"""The operator's command line: list positions, actions and alerts, close a position, cancel an
action, through the public GraphQL API with the user's own token (an ADMIN's sees everything).

    hedge positions [--status OPEN] [--symbol USDJPY] [--user ID] [--account ID] [--json]
    hedge actions [--status FAILED] [--position ID] [--user ID] [--json]
    hedge alerts [--all] [--severity CRITICAL] [--kind GHOST_POSITION] [--user ID] [--json]
    hedge close POSITION_ID
    hedge cancel ACTION_ID

The server is HEDGE_SERVER_URL (or --server), an https:// one verified with the system's CAs or
those of HEDGE_CA_FILE (--ca-file); the token HEDGE_TOKEN, or the first line of the file
HEDGE_TOKEN_FILE (--token-file; a flag beats a variable), never an argument (a token on the
command line is visible to every local user in `ps`).

Exit codes, for scripts: 0 done; 1 the server refused it (the error's code and message on stderr:
NOT_FOUND, FORBIDDEN, INVALID_TRANSITION, VALIDATION for a bad filter, UNAUTHENTICATED); 2 a usage
error (no token, an unreadable token file, a missing CA file or argument); 3 the server could not
be reached, or its answer was not a GraphQL response (a proxy's error page): trying again later may
help.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx

from hedge.client.graphql import GraphQLClient, GraphQLClientError, ServerAnswerError
from hedge.domain.enums import AlertKind, AlertSeverity

REFUSED, USAGE, UNREACHABLE = 1, 2, 3

POSITION_FIELDS = (
    "id userId accountId symbol side volume status entryPrice exitPrice realizedPL mtTicket "
    "trailWidth trailMode version updatedAt"
)
ACTION_FIELDS = "id userId accountId positionId triggerPositionId type status errorMessage retryCount version"
ALERT_FIELDS = "id userId kind severity message count requiresAction createdAt acknowledgedAt resolvedAt"

POSITIONS = f"""query($u: ID, $a: ID, $s: PositionStatus) {{
  listPositions(userId: $u, accountId: $a, status: $s) {{ {POSITION_FIELDS} }} }}"""
ACTIONS = f"""query($u: ID, $p: ID, $s: ActionStatus) {{
  listActions(userId: $u, positionId: $p, status: $s) {{ {ACTION_FIELDS} }} }}"""
ALERTS = f"""query($u: ID, $o: Boolean) {{ listAlerts(userId: $u, open: $o) {{ {ALERT_FIELDS} }} }}"""
CLOSE = f"""mutation($id: ID!) {{
  updatePosition(input: {{id: $id, status: CLOSING}}) {{ {POSITION_FIELDS} }} }}"""
CANCEL = f"""mutation($id: ID!) {{
  updateAction(input: {{id: $id, status: CANCELED}}) {{ {ACTION_FIELDS} }} }}"""

COLUMNS = {
    "positions": ("id", "accountId", "symbol", "side", "volume", "status", "entryPrice", "realizedPL"),
    "actions": ("id", "type", "status", "positionId", "triggerPositionId", "retryCount", "errorMessage"),
    "alerts": ("id", "severity", "kind", "count", "requiresAction", "createdAt", "message"),
}


class UsageError(Exception):
    """The command cannot run as given (no token, unreadable token file)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    positions = _command(subparsers, "positions", "list positions", _positions)
    positions.add_argument("--status", type=str.upper, help="PENDING, OPENING, OPEN, CLOSING, ...")
    positions.add_argument("--symbol", type=str.upper)
    positions.add_argument("--user", help="a user's id (ADMIN)")
    positions.add_argument("--account", help="an account's id")
    actions = _command(subparsers, "actions", "list actions", _actions)
    actions.add_argument("--status", type=str.upper, help="PENDING, EXECUTING, EXECUTED, FAILED, CANCELED")
    actions.add_argument("--position", help="a position's id")
    actions.add_argument("--user", help="a user's id (ADMIN)")
    alerts = _command(subparsers, "alerts", "list alerts (open ones unless --all)", _alerts)
    alerts.add_argument("--all", action="store_true", help="resolved alerts too")
    alerts.add_argument("--user", help="a user's id (ADMIN)")
    alerts.add_argument("--severity", type=str.upper, choices=[s.value for s in AlertSeverity])
    alerts.add_argument("--kind", type=str.upper, choices=[k.value for k in AlertKind], metavar="KIND")
    close = _command(subparsers, "close", "close an OPEN position (its agent sends CLOSE)", _close)
    close.add_argument("position_id")
    cancel = _command(subparsers, "cancel", "cancel a PENDING action", _cancel)
    cancel.add_argument("action_id")


def _command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_: str,
    run: Callable[[GraphQLClient, argparse.Namespace], Any],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_, description=help_)
    parser.add_argument("--server", default=None, help="the server's URL (HEDGE_SERVER_URL)")
    parser.add_argument(
        "--token-file", type=Path, default=None, help="a file holding the token (HEDGE_TOKEN_FILE)"
    )
    parser.add_argument("--ca-file", default=None, help="CAs verifying an https:// server (HEDGE_CA_FILE)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    parser.set_defaults(func=main, run=run)
    return parser


def main(
    args: argparse.Namespace,
    env: dict[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; 0 on success, else REFUSED, USAGE or UNREACHABLE (the module's docstring)."""
    env = dict(os.environ) if env is None else env
    out, err = out or sys.stdout, err or sys.stderr
    try:
        named = args.token_file or env.get("HEDGE_TOKEN_FILE") or None
        token = read_token(None if named is None else Path(named), env)
        ca_file = args.ca_file or env.get("HEDGE_CA_FILE") or None
        if ca_file is not None and not Path(ca_file).is_file():
            raise UsageError(f"the CA file {ca_file} does not exist")
    except UsageError as exc:
        print(f"hedge {args.command}: {exc}", file=err)
        return USAGE
    server = args.server or env.get("HEDGE_SERVER_URL", "http://127.0.0.1:8000")
    try:
        rows = asyncio.run(_call(server, token, args.run, args, ca_file))
    except GraphQLClientError as exc:
        print(f"hedge {args.command}: refused: {exc.code}: {exc.message}", file=err)
        return REFUSED
    except (httpx.TransportError, OSError) as exc:
        print(f"hedge {args.command}: cannot reach {server}: {exc or type(exc).__name__}", file=err)
        return UNREACHABLE
    except ServerAnswerError as exc:
        print(f"hedge {args.command}: {server}: {exc}", file=err)
        return UNREACHABLE
    kind = {"close": "positions", "cancel": "actions"}.get(args.command, args.command)
    out.write(render(rows, COLUMNS[kind], as_json=args.json))
    return 0


def read_token(token_file: Path | None, env: dict[str, str]) -> str:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read the token file {token_file}: {exc.strerror}") from None
        if not token:
            raise UsageError(f"the token file {token_file} is empty")
        return token
    token = env.get("HEDGE_TOKEN", "").strip()
    if not token:
        raise UsageError("no token: set HEDGE_TOKEN or HEDGE_TOKEN_FILE, or pass --token-file")
    return token


async def _call(
    server: str,
    token: str,
    run: Callable[[GraphQLClient, argparse.Namespace], Any],
    args: argparse.Namespace,
    ca_file: str | None,
) -> list[dict[str, Any]]:
    async with GraphQLClient(server, token, ca_file=ca_file) as client:
        rows: list[dict[str, Any]] = await run(client, args)
        return rows


async def _positions(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    data = await client.execute(POSITIONS, {"u": args.user, "a": args.account, "s": args.status})
    rows: list[dict[str, Any]] = data["listPositions"]
    return [r for r in rows if args.symbol is None or r["symbol"] == args.symbol]


async def _actions(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    data = await client.execute(ACTIONS, {"u": args.user, "p": args.position, "s": args.status})
    rows: list[dict[str, Any]] = data["listActions"]
    return rows


async def _alerts(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    data = await client.execute(ALERTS, {"u": args.user, "o": None if args.all else True})
    rows: list[dict[str, Any]] = data["listAlerts"]
    return [r for r in rows if args.severity in (None, r["severity"]) and args.kind in (None, r["kind"])]


async def _close(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    data = await client.execute(CLOSE, {"id": args.position_id})
    return [data["updatePosition"]]


async def _cancel(client: GraphQLClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    data = await client.execute(CANCEL, {"id": args.action_id})
    return [data["updateAction"]]


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool) -> str:
    """A plain-text table (one row per line, columns padded) or the rows as JSON."""
    if as_json:
        return json.dumps(list(rows), indent=2) + "\n"
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
