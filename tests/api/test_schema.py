"""`hedge schema` prints a schema that satisfies the API contract in ../shared/contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "check_schema.py"


def test_schema_command_satisfies_the_contract(tmp_path: Path) -> None:
    sdl = subprocess.run(
        [sys.executable, "-m", "hedge.cli", "schema"], check=True, capture_output=True, text=True
    ).stdout
    (tmp_path / "schema.graphql").write_text(sdl)

    checked = subprocess.run(
        [sys.executable, str(CHECK_SCHEMA), str(tmp_path / "schema.graphql")], capture_output=True, text=True
    )

    assert "contract: holds" in checked.stdout, checked.stdout + checked.stderr
    assert checked.returncode == 0
