"""STYLE.md's rule that tests mirror src/hedge one file to one file, held: every module has its own
tests/<package>/test_<module>.py, or tests/README.md names the test files that cover it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hedge"
README = ROOT / "tests" / "README.md"
SECTION = "## Modules tested in other files"
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
    """The table of tests/README.md's section SECTION: module -> where its behaviour is tested."""
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    return {found["module"]: found["where"] for found in ROW.finditer(section)}


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
    unnamed = [m for m, where in listed().items() if not re.search(r"tests/[\w/]+\.py", where)]
    gone = {
        module: [f for f in re.findall(r"tests/[\w/]+\.py", where) if not (ROOT / f).is_file()]
        for module, where in listed().items()
    }
    assert unnamed == [], f"rows naming no test file: {unnamed}"
    assert {m: files for m, files in gone.items() if files} == {}, "rows naming test files that do not exist"
