"""The agent runs on Windows, beside MetaTrader: the locked dependencies resolve there, as wheels
(no compiler on a trading PC), at exactly the locked versions, and uvloop is left out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv") or (
    str(ROOT / ".tools" / "bin" / "uv") if (ROOT / ".tools" / "bin" / "uv").exists() else None
)
NOT_WINDOWS = "sys_platform != 'win32'"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)\s*(?:;\s*(.*))?$")


def _uv(*args: str) -> str:
    if UV is None:
        if IN_CI:
            pytest.fail("uv is not installed (make bootstrap installs it into .tools/)")
        pytest.skip("uv is not installed")
    done = subprocess.run([UV, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _pins(text: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[match.group(1).lower()] = (match.group(2), match.group(3) or "")
    return found


def test_lock_is_current_with_pyproject() -> None:
    _uv("lock", "--check")


def test_locked_runtime_dependencies_resolve_on_windows_as_wheels_at_locked_versions(tmp_path: Path) -> None:
    exported = _uv("export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project", "-q")
    (tmp_path / "locked.txt").write_text(exported)
    locked = _pins(exported)

    windows = _pins(_uv(
        "pip", "compile", str(tmp_path / "locked.txt"), "--python-platform", "x86_64-pc-windows-msvc",
        "--python-version", "3.11", "--only-binary", ":all:", "--no-header", "--no-annotate", "-q",
    ))  # fmt: skip

    assert "uvloop" not in windows and "uvloop" in locked  # optional there, the asyncio loop instead
    assert {name: pin[0] for name, pin in windows.items()} == {
        name: version for name, (version, marker) in locked.items() if marker != NOT_WINDOWS
    }
    assert {"psycopg-binary", "httptools", "websockets", "filelock"} <= set(windows)
