"""The shape of the house, held by the imports: the domain does no I/O, a trading PC's programs
(agent, client, EA side) import neither the server nor the store, and the store never imports the
API. Every module is read with `ast`, imports inside functions included."""

from __future__ import annotations

import ast
from collections.abc import Callable
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


def imports_of(path: Path, package: str | None = None, src: Path = SRC) -> set[str]:
    """Every module named by an import statement in the file (absolute names); relative imports
    are resolved against `package` (by default the file's own, below `src`). `from X import y`
    names X and X.y (y may be a module: `from hedge import api`)."""
    names: set[str] = set()
    if package is None:
        package = ".".join(path.relative_to(src.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _breaks(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def forbidden_imports(package: str, src: Path = SRC) -> set[str]:
    """'<module> imports <name>' for each import of `package` (below `src`) that FORBIDDEN names."""
    return {
        f"{path.relative_to(src).as_posix()} imports {name}"
        for path in sorted((src / package).rglob("*.py"))
        for name in imports_of(path, src=src)
        if _breaks(name, FORBIDDEN[package])
    }


def io_imports(src: Path = SRC) -> set[str]:
    """'<module> imports <name>' for each I/O library the domain (below `src`) imports."""
    return {
        f"{path.relative_to(src).as_posix()} imports {name}"
        for path in sorted((src / "domain").rglob("*.py"))
        for name in imports_of(path, src=src)
        if name.split(".")[0] in IO_MODULES
    }


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_none_of_its_forbidden_packages(package: str) -> None:
    assert forbidden_imports(package) == set()


def test_domain_imports_no_io_library() -> None:
    assert io_imports() == set()


def test_the_rules_see_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import sqlalchemy\n    from ..store import unit\n", encoding="utf-8")
    found = imports_of(probe, package="hedge.domain")
    assert found == {"sqlalchemy", "hedge.store", "hedge.store.unit"}
    assert _breaks("hedge.store", FORBIDDEN["domain"])


def _house(root: Path, files: dict[str, str]) -> Path:
    """A fake src/hedge tree holding `files` (path below hedge/ -> source); returns its hedge/."""
    src = root / "hedge"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    return src


# rule -> (the checker, a fake tree breaking it in every way it can be broken, what it must report)
BROKEN: dict[str, tuple[Callable[[Path], set[str]], dict[str, str], set[str]]] = {
    "the domain doing I/O": (
        io_imports,
        {
            "domain/pure.py": "from decimal import Decimal\nfrom hedge.domain import ids\n",
            "domain/leaky.py": "import sqlite3\n\ndef f():\n    from urllib.request import urlopen\n",
            "domain/deep/net.py": "import asyncio.subprocess\n",
        },
        {
            "domain/leaky.py imports sqlite3",
            "domain/leaky.py imports urllib.request",
            "domain/leaky.py imports urllib.request.urlopen",
            "domain/deep/net.py imports asyncio.subprocess",
        },
    ),
    "the agent importing the server's or the store's packages": (
        lambda src: forbidden_imports("agent", src),
        {
            "agent/fine.py": "from hedge.client.graphql import GraphQLClient\nfrom hedge import domain\n",
            "agent/server.py": "from hedge.api.schema import schema\n",
            "agent/store.py": "import hedge.store.unit\n",
            "agent/relative.py": "from ..store import codec\nfrom .. import api\n",
            "agent/named.py": "from hedge import store\n",
        },
        {
            "agent/server.py imports hedge.api.schema",
            "agent/server.py imports hedge.api.schema.schema",
            "agent/store.py imports hedge.store.unit",
            "agent/relative.py imports hedge.store",
            "agent/relative.py imports hedge.store.codec",
            "agent/relative.py imports hedge.api",
            "agent/named.py imports hedge.store",
        },
    ),
    "the store importing the API": (
        lambda src: forbidden_imports("store", src),
        {
            "store/fine.py": "from hedge.domain.models import Position\nimport sqlalchemy\n",
            "store/up.py": "def f():\n    from hedge.api.errors import coded\n",
            "store/sub/rel.py": "from ...api import context\n",
        },
        {
            "store/up.py imports hedge.api.errors",
            "store/up.py imports hedge.api.errors.coded",
            "store/sub/rel.py imports hedge.api",
            "store/sub/rel.py imports hedge.api.context",
        },
    ),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_rule_reports_every_import_that_breaks_it_on_a_fake_tree(tmp_path: Path, rule: str) -> None:
    check, files, expected = BROKEN[rule]
    assert check(_house(tmp_path, files)) == expected


def test_a_name_that_only_starts_like_a_forbidden_package_is_not_caught(tmp_path: Path) -> None:
    src = _house(tmp_path, {"agent/near.py": "import hedge.apis\nfrom hedge.storefront import x\n"})
    assert forbidden_imports("agent", src) == set()


# Development support (tests, benches, the fuzz run): no product module imports these.
DEVELOPMENT = ("hedge.localservices", "hedge.child_processes", "hedge.fuzzing", "hedge.fuzz_targets")


def development_imports(src: Path = SRC) -> set[str]:
    """'<module> imports <name>' for each product module (below `src`) importing DEVELOPMENT."""
    support = {name.rsplit(".", 1)[1] + ".py" for name in DEVELOPMENT}
    return {
        f"{path.relative_to(src).as_posix()} imports {name}"
        for path in sorted(src.rglob("*.py"))
        if not (path.parent == src and path.name in support)
        for name in imports_of(path, src=src)
        if _breaks(name, DEVELOPMENT)
    }


def test_no_product_module_imports_the_development_support() -> None:
    assert development_imports() == set()


def test_a_product_module_importing_the_development_support_is_caught(tmp_path: Path) -> None:
    src = _house(
        tmp_path,
        {
            "localservices.py": "from hedge.child_processes import spawn\n",
            "demo.py": "from hedge import localservices\n",
            "api/app.py": "from hedge.fuzzing import strategies\n",
        },
    )
    assert development_imports(src) == {
        "demo.py imports hedge.localservices",
        "api/app.py imports hedge.fuzzing",
        "api/app.py imports hedge.fuzzing.strategies",
    }
