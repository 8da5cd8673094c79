"""STYLE.md's rule that tests mirror src/hedge one file to one file, held: every module has its own
tests/<package>/test_<module>.py, or tests/README.md names the test files that cover it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hedge"
README = ROOT / "tests" / "README.md"
ROW = re.compile(r"^\| `(?P<module>[\w/]+\.py)` \| (?P<where>.+) \|$", re.M)


def modules() -> list[str]:
    """Every module of src/hedge (its path below src/hedge), packages' __init__ and migrations aside."""
    return sorted(
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    )


def mirror(module: str) -> Path:
    """The test file of its own a module would have: agent/core.py -> tests/agent/test_core.py."""
    path = Path(module)
    return ROOT / "tests" / path.parent / f"test_{path.name}"


def listed() -> dict[str, str]:
    """tests/README.md's table: module -> where its behaviour is tested."""
    return {found["module"]: found["where"] for found in ROW.finditer(README.read_text(encoding="utf-8"))}


def test_every_module_has_a_mirrored_test_file_or_a_row_saying_where_it_is_tested() -> None:
    missing = [m for m in modules() if not mirror(m).exists() and m not in listed()]
    assert missing == [], (
        "give each a test file of its own (tests/<package>/test_<module>.py) or a row "
        f"| `<module>` | tests/... (what they test) | in tests/README.md: {missing}"
    )


def test_each_row_names_a_module_that_exists_and_has_no_test_file_of_its_own() -> None:
    stale = [m for m in listed() if not (SRC / m).exists() or mirror(m).exists()]
    assert stale == [], f"rows of tests/README.md to remove: {stale}"


def test_each_row_names_test_files_that_exist() -> None:
    for module, where in listed().items():
        named = re.findall(r"tests/[\w/]+\.py", where)
        assert named, f"{module}: no test file named in {where!r}"
        assert [f for f in named if not (ROOT / f).is_file()] == [], module
