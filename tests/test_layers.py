"""The shape of the house, held by the imports: the domain does no I/O, a trading PC's programs
(agent, client, EA side) import neither the server nor the store, and the store never imports the
API. Every module is read with `ast`, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hedge"

# Libraries that touch the world: the domain imports none of them.
IO_MODULES = frozenset(
    "asyncio socket ssl select selectors subprocess threading multiprocessing sqlite3 http urllib "
    "sqlalchemy alembic psycopg redis websockets httpx starlette uvicorn strawberry graphql "
    "prometheus_client boto3 apprise".split()
)

# package -> hedge packages it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (
        "hedge.api",
        "hedge.store",
        "hedge.agent",
        "hedge.client",
        "hedge.ea",
        "hedge.jobs",
        "hedge.web",
    ),
    "agent": ("hedge.api", "hedge.store", "hedge.jobs", "hedge.web"),
    "client": ("hedge.api", "hedge.store", "hedge.agent", "hedge.jobs", "hedge.web"),
    "ea": ("hedge.api", "hedge.store", "hedge.agent", "hedge.jobs", "hedge.web"),
    "store": ("hedge.api", "hedge.agent", "hedge.web", "hedge.client"),
}


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Every module named by an import statement in the file (absolute names); relative imports
    are resolved against `package` (by default the file's own)."""
    names: set[str] = set()
    if package is None:
        package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _breaks(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_its_forbidden_packages(package: str) -> None:
    found = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules(package)
        for name in imports_of(path)
        if _breaks(name, FORBIDDEN[package])
    }
    assert not found, sorted(found)


def test_domain_imports_no_io_library() -> None:
    found = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules("domain")
        for name in imports_of(path)
        if name.split(".")[0] in IO_MODULES
    }
    assert not found, sorted(found)


def test_the_rules_see_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import sqlalchemy\n    from ..store import unit\n", encoding="utf-8")
    found = imports_of(probe, package="hedge.domain")
    assert found == {"sqlalchemy", "hedge.store"}
    assert _breaks("hedge.store", FORBIDDEN["domain"])
