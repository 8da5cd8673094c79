"""Drift test: every message type, field and code of the EA protocol contract appears in both EAs.

The MQL sources cannot be compiled here, so this also checks what can be checked from the text:
what both EAs share has one source (ea/mql/common), every include resolves in the layout
`hedge ea-install` makes, no MQL file is over 500 lines, brackets balance, the MQL4 DLL imports
match the DLL's exports, and the DLL builds with mingw-w64 where that compiler is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hedge.ea.install import Platform, install

REPO = Path(__file__).parents[2]
CONTRACT = Path(__file__).parents[2].parent / "shared" / "contract" / "ea-protocol.md"
CONTRACT_NEXT = CONTRACT.parent / "next" / "ea-protocol.md"  # this round's additions
# Names the additions give in prose rather than in their table.
PROSE_NAMES = frozenset({
    "marginMode", "HEDGING", "NETTING", "EXCHANGE", "HEDGING_PROHIBITED", "STOP_OUT", "STOP_LOSS",
    "TAKE_PROFIT", "TERMINAL_CLOSE",
})  # fmt: skip
MQL = REPO / "ea" / "mql"
COMMON = MQL / "common"
PLATFORMS = {"MQL5": MQL / "MQL5", "MQL4": MQL / "MQL4"}
INSTALL_AS = {"MQL5": Platform.MT5, "MQL4": Platform.MT4}
MQL_SUFFIXES = (".mq5", ".mq4", ".mqh")
MAX_LINES = 500

_BACKTICKED = re.compile(r"`([^`]*)`")
_JSON_KEY = re.compile(r'"(\w+)"\s*:')
_JSON_TYPE = re.compile(r'"type"\s*:\s*"([A-Z_]+)"')
_JSON_CODE = re.compile(r'"code"\s*:\s*"([A-Z_]+)"')
_QUOTED = re.compile(r'"([^"]*)"')
_FIELD = re.compile(r"\b[a-z][A-Za-z]*\b")
_TYPE_CELL = re.compile(r"[A-Z][A-Z_]+")


@dataclass(frozen=True)
class ContractNames:
    message_types: frozenset[str]
    fields: frozenset[str]
    values: frozenset[str]  # errorCode values, ERROR codes, enumerated field values

    def all(self) -> frozenset[str]:
        return self.message_types | self.fields | self.values


def _read_json_example(example: str, types: set[str], fields: set[str], values: set[str]) -> None:
    fields.update(_JSON_KEY.findall(example))
    types.update(_JSON_TYPE.findall(example))
    values.update(_JSON_CODE.findall(example))


def _read_fields_span(span: str, fields: set[str], values: set[str]) -> None:
    """`commandId, side ("BUY"/"SELL")`: names are lower-camel words, quoted words are values."""
    values.update(v for v in _QUOTED.findall(span) if re.fullmatch(r"[A-Z_]+", v))
    fields.update(_FIELD.findall(_QUOTED.sub(" ", span)))


def extract_contract_names(markdown: str) -> ContractNames:
    """Message types, field names and codes named by the contract's tables and JSON examples."""
    types: set[str] = set()
    fields: set[str] = set()
    values: set[str] = set()
    for line in markdown.splitlines():
        if not line.lstrip().startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].strip("- :"):
            continue  # separator row
        if _TYPE_CELL.fullmatch(cells[0]):
            types.add(cells[0])
        for span in _BACKTICKED.findall(" | ".join(cells[1:])):
            if span.lstrip().startswith("{"):
                _read_json_example(span, types, fields, values)
            else:
                _read_fields_span(span, fields, values)
    # JSON examples in the prose (PING, the BAD_MESSAGE error); bodies without "type" (healthz) are
    # not EA messages.
    for span in _BACKTICKED.findall(markdown):
        if span.lstrip().startswith("{") and _JSON_TYPE.search(span):
            _read_json_example(span, types, fields, values)
    for paragraph in markdown.split("\n\n"):
        if "`errorCode` values" in paragraph:
            values.update(v for v in _BACKTICKED.findall(paragraph) if re.fullmatch(r"[A-Z_]+", v))
    return ContractNames(frozenset(types), frozenset(fields), frozenset(values))


def missing_names(names: frozenset[str], source: str) -> list[str]:
    """The names that do not occur in `source` as a quoted string ("commandId")."""
    return sorted(name for name in names if f'"{name}"' not in source)


def mql_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in MQL_SUFFIXES)


def platform_source(root: Path) -> str:
    """Everything one EA is built from: its own files and the common ones."""
    return "\n".join(p.read_text(encoding="utf-8") for p in [*mql_files(root), *mql_files(COMMON)])


@pytest.fixture(scope="module")
def contract() -> ContractNames:
    base = extract_contract_names(CONTRACT.read_text(encoding="utf-8"))
    added = extract_contract_names(CONTRACT_NEXT.read_text(encoding="utf-8"))
    return ContractNames(
        base.message_types | added.message_types,
        base.fields | added.fields,
        base.values | added.values | PROSE_NAMES,
    )


def test_contract_additions_are_read_from_the_next_file(contract: ContractNames) -> None:
    assert {"HISTORY", "HISTORY_RESULT", "SYMBOLS"} <= contract.message_types
    assert {"positionIds", "results", "state", "marginPerLot", "tickValue", "contractSize"} <= contract.fields
    assert {"OPEN", "CLOSED", "UNKNOWN", "HEDGING_PROHIBITED"} <= contract.values


def test_extractor_on_the_contract_finds_the_known_minimum(contract: ContractNames) -> None:
    assert contract.message_types >= {
        "AUTH", "AUTH_OK", "AUTH_FAILED", "PING", "PONG", "OPEN", "CLOSE", "SYNC", "SUBSCRIBE",
        "OPENED", "CLOSED", "STOPPED", "PRICE", "ACCOUNT", "POSITIONS", "ERROR",
    }  # fmt: skip
    assert contract.fields >= {
        "token", "accountNumber", "serverName", "platform", "eaVersion", "accountId", "reason", "id",
        "commandId", "positionId", "symbol", "side", "volume", "comment", "mtTicket", "symbols",
        "status", "price", "timeMs", "profit", "errorCode", "message", "bid", "ask", "balance",
        "credit", "equity", "margin", "marginLevel", "currency", "positions", "openPrice",
        "openTimeMs", "code",
    }  # fmt: skip
    assert contract.values >= {
        "INVALID_VOLUME", "INVALID_SYMBOL", "NOT_ENOUGH_MONEY", "MARKET_CLOSED", "TRADE_DISABLED",
        "REQUOTE", "TIMEOUT", "UNKNOWN", "BAD_MESSAGE", "BUY", "SELL", "SUCCESS", "FAILED",
    }  # fmt: skip


def test_extractor_ignores_non_message_json_and_prose(contract: ContractNames) -> None:
    # The /healthz body is not an EA message; "direction"/"message" header cells are not types.
    assert "serverConnected" not in contract.fields
    assert "accounts" not in contract.fields
    assert not any(t.islower() for t in contract.message_types)


def test_extractor_reads_tables_json_examples_and_error_codes() -> None:
    markdown = (
        "| type | fields |\n| --- | --- |\n"
        '| FOO | `commandId, side ("LEFT"/"RIGHT")`; on SUCCESS `fooMs` |\n'
        '| EA → agent | `{"type":"BAR","barKey":"x"}` |\n\n'
        'Send `{"type":"BAZ","n":1}` and never `{"unrelated": true}`.\n\n'
        "`errorCode` values the EA may send: `NOPE`,\n`MAYBE`.\n"
    )
    names = extract_contract_names(markdown)
    assert names.message_types == {"FOO", "BAR", "BAZ"}
    assert names.fields == {"commandId", "side", "fooMs", "type", "barKey", "n"}
    assert names.values == {"LEFT", "RIGHT", "NOPE", "MAYBE"}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_mql_sources_of_platform_name_every_contract_name(platform: str, contract: ContractNames) -> None:
    root = PLATFORMS[platform]
    files = mql_files(root)
    assert files, f"no MQL sources under {root}"
    missing = missing_names(contract.all(), platform_source(root))
    listed = ", ".join(str(p.relative_to(REPO)) for p in files)
    assert not missing, f"{platform} sources ({listed}) never mention: {missing}"


def test_missing_names_with_one_name_removed_reports_exactly_that_name(contract: ContractNames) -> None:
    source = platform_source(PLATFORMS["MQL5"])
    assert missing_names(contract.all(), source) == []
    assert missing_names(contract.all(), source.replace('"marginLevel"', '"margin_level"')) == ["marginLevel"]


def test_missing_names_requires_the_quoted_form() -> None:
    assert missing_names(frozenset({"commandId"}), "string commandId;") == ["commandId"]
    assert missing_names(frozenset({"commandId"}), 'msg.Get("commandId")') == []


def test_common_files_have_one_source_no_platform_copies() -> None:
    common = {p.name for p in mql_files(COMMON)}
    for root in PLATFORMS.values():
        copies = common & {p.name for p in mql_files(root)}
        assert not copies, f"{sorted(copies)} exist in ea/mql/common and in {root.name}: keep one source"
    assert {"Json.mqh", "Protocol.mqh", "Messages.mqh", "Journal.mqh", "Session.mqh", "Trader.mqh"} <= common


def test_no_mql_file_is_over_500_lines() -> None:
    long_files = {
        str(p.relative_to(REPO)): n
        for root in (COMMON, *PLATFORMS.values())
        for p in mql_files(root)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long_files, long_files


_INCLUDE = re.compile(r'^\s*#include\s+([<"])([^>"]+)[>"]', re.MULTILINE)


def unresolved_includes(data_dir: Path, folder: str) -> list[str]:
    """Includes of the installed EA that name no installed file (MetaEditor's rules: <> from Include)."""
    root = data_dir / folder
    unresolved = []
    for path in mql_files(root):
        for kind, target in _INCLUDE.findall(path.read_text(encoding="utf-8")):
            relative = target.replace("\\", "/")
            candidate = (root / "Include" / relative) if kind == "<" else (path.parent / relative)
            if not candidate.is_file():
                unresolved.append(f"{path.relative_to(data_dir)}: {target}")
    return unresolved


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_include_resolves_in_the_installed_layout(platform: str, tmp_path: Path) -> None:
    (tmp_path / platform).mkdir()
    install(MQL, INSTALL_AS[platform], tmp_path)
    assert unresolved_includes(tmp_path, platform) == []


def test_include_check_reports_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "MQL5").mkdir()
    install(MQL, Platform.MT5, tmp_path)
    (tmp_path / "MQL5" / "Include" / "HedgeSystem" / "Outbox.mqh").unlink()
    assert any(line.endswith(": Outbox.mqh") for line in unresolved_includes(tmp_path, "MQL5"))


def _code_only(source: str) -> str:
    """The source with comments, string literals and character literals blanked out."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL)
    return pattern.sub(" ", source)


def _unbalanced(code: str) -> str | None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    for offset, char in enumerate(code):
        if char in "([{":
            stack.append((char, offset))
        elif char in pairs:
            if not stack or stack[-1][0] != pairs[char]:
                return f"unexpected {char!r} at line {code.count(chr(10), 0, offset) + 1}"
            stack.pop()
    if stack:
        char, offset = stack[-1]
        return f"unclosed {char!r} from line {code.count(chr(10), 0, offset) + 1}"
    return None


def test_brackets_balance_in_every_mql_file() -> None:
    problems = {}
    for root in (COMMON, *PLATFORMS.values()):
        for path in mql_files(root):
            problem = _unbalanced(_code_only(path.read_text(encoding="utf-8")))
            if problem:
                problems[str(path.relative_to(REPO))] = problem
    assert not problems, problems


def test_bracket_check_catches_a_missing_brace() -> None:
    assert _unbalanced(_code_only('void f() { if(x) { Print("}"); }')) == "unclosed '{' from line 1"
    assert _unbalanced(_code_only("void f() { // }\n}")) is None


def test_mql4_dll_imports_match_the_dll_exports() -> None:
    wrapper = (PLATFORMS["MQL4"] / "Include" / "HedgeSystem" / "WebSocket.mqh").read_text(encoding="utf-8")
    block = wrapper.split('#import "HedgeSystemWs.dll"', 1)[1].split("#import", 1)[0]
    imported = set(re.findall(r"\b(HsWs\w+)\s*\(", block))
    c_source = (MQL / "dll" / "HedgeSystemWs.c").read_text(encoding="utf-8")
    exported_c = set(re.findall(r"HS_EXPORT\s+\w+\s+__stdcall\s+(HsWs\w+)\s*\(", c_source))
    definition = (MQL / "dll" / "HedgeSystemWs.def").read_text(encoding="utf-8")
    exported_def = set(re.findall(r"^\s+(HsWs\w+)\s*$", definition, re.MULTILINE))
    assert imported
    assert imported == exported_c == exported_def


MINGW = "i686-w64-mingw32-gcc"


@pytest.mark.skipif(shutil.which(MINGW) is None, reason=f"{MINGW} is not installed (gcc-mingw-w64-i686)")
def test_mql4_dll_builds_with_mingw_and_exports_the_undecorated_names(tmp_path: Path) -> None:
    dll = tmp_path / "HedgeSystemWs.dll"
    build = subprocess.run(
        [MINGW, "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-o", str(dll),
         str(MQL / "dll" / "HedgeSystemWs.c"), "-lwinhttp", "-static-libgcc", "-Wl,--kill-at"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    dump = subprocess.run(
        ["i686-w64-mingw32-objdump", "-p", str(dll)], capture_output=True, text=True, check=True
    )
    exported = set(re.findall(r"\]\s+(HsWs\w+)\s*$", dump.stdout, re.MULTILINE))
    definition = (MQL / "dll" / "HedgeSystemWs.def").read_text(encoding="utf-8")
    assert exported == set(re.findall(r"^\s+(HsWs\w+)\s*$", definition, re.MULTILINE))
