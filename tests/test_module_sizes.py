"""STYLE.md's small modules, held: no source file written by hand is over LIMIT lines: Python
(src, tests, bench, scripts), MQL (every .mq4, .mq5 and .mqh under ea/mql, the DLL's C), and
the console's own JavaScript (vendored libraries aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 500

# (folder, file name patterns) holding the files checked
CHECKED = (
    ("src", ("*.py",)),
    ("tests", ("*.py",)),
    ("bench", ("*.py",)),
    ("scripts", ("*.py",)),
    ("ea/mql", ("*.mq4", "*.mq5", "*.mqh", "*.c")),
    ("src/hedge/web/static/app", ("*.js",)),
)

# Files over the limit for now, each with the reason and who splits it. A row here goes when the
# file is back under the limit (test_each_allowance_is_still_needed says so).
ALLOWED: dict[str, str] = {}


def sources(root: Path = ROOT) -> list[Path]:
    found = {path for folder, names in CHECKED for name in names for path in (root / folder).rglob(name)}
    return sorted(found)


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8", errors="replace").splitlines())


def oversized(root: Path = ROOT) -> dict[str, int]:
    """Each checked file over LIMIT lines (its path below root -> its line count)."""
    return {
        path.relative_to(root).as_posix(): count
        for path in sources(root)
        if "vendor" not in path.relative_to(root).parts and (count := lines(path)) > LIMIT
    }


def test_no_source_file_is_over_the_limit() -> None:
    found = {name: count for name, count in oversized().items() if name not in ALLOWED}
    assert found == {}, f"split these by concern (STYLE.md: modules under {LIMIT} lines)"


def test_each_allowance_is_still_needed() -> None:
    assert sorted(set(ALLOWED) - set(oversized())) == [], "remove these rows of ALLOWED: now small enough"


def test_the_check_sees_python_and_mql_files_of_every_checked_folder(tmp_path: Path) -> None:
    big = "x = 1\n" * (LIMIT + 1)
    for name in (
        "src/hedge/agent/big.py",
        "tests/agent/test_big.py",
        "bench/big.py",
        "ea/mql/common/HedgeSystem/Big.mqh",
        "ea/mql/MQL5/Experts/Big.mq5",
        "ea/mql/MQL4/Experts/Big.mq4",
        "src/hedge/web/static/app/big.js",
        "src/hedge/web/static/vendor/lib.js",  # vendored: not ours to split
        "src/hedge/agent/small.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(big if "small" not in name else "x = 1\n" * LIMIT, encoding="utf-8")
    assert sorted(oversized(tmp_path)) == [
        "bench/big.py",
        "ea/mql/MQL4/Experts/Big.mq4",
        "ea/mql/MQL5/Experts/Big.mq5",
        "ea/mql/common/HedgeSystem/Big.mqh",
        "src/hedge/agent/big.py",
        "src/hedge/web/static/app/big.js",
        "tests/agent/test_big.py",
    ]


@pytest.mark.parametrize("suffix", [".mq4", ".mq5", ".mqh"])
def test_the_tree_has_mql_files_of_each_kind_to_check(suffix: str) -> None:
    assert any(path.suffix == suffix for path in sources()), f"no {suffix} file found under ea/mql"
