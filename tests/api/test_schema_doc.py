"""docs/schema.graphql is the schema the server serves (users have no copy of the contract):
regenerate it with `make docs-schema` when this fails."""

from __future__ import annotations

from pathlib import Path

from hedge.api.schema import print_sdl

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_docs_schema_graphql_is_the_served_schema() -> None:
    assert DOC.read_text() == print_sdl() + "\n", "run: make docs-schema"


def test_docs_and_readme_never_point_at_files_users_do_not_have() -> None:
    root = DOC.parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    assert [p.name for p in pages if "../shared" in p.read_text()] == []
