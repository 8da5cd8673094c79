"""Refresh the console's vendored JavaScript from the npm registry (a developer's tool, never run
by the server): `uv run python -m hedge.web.vendor` packs each pinned package with `npm pack`,
copies the files the console uses into static/vendor/<package>/ with the package's licence, and
writes static/vendor/manifest.json (version, licence, sha256 of every file).

`--check` only verifies that every file listed in the manifest is present with its sha256 (the
tests run it); it needs neither Node nor the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE")


@dataclass(frozen=True)
class Pin:
    """One npm package at an exact version, and the files taken from it (paths inside the tarball)."""

    name: str
    version: str
    files: tuple[str, ...]
    why: str

    @property
    def directory(self) -> str:
        return self.name.replace("@", "").replace("/", "-")


PINS = (
    Pin("preact", "10.29.8", ("dist/preact.module.js", "hooks/dist/hooks.module.js"), "the console's view"),
    Pin("htm", "3.1.1", ("dist/htm.module.js",), "tagged-template markup for Preact, no build step"),
    Pin(
        "graphql-ws",
        "6.4.2",
        ("dist/client.js", "dist/common-CGW11Fyb.js"),
        "graphql-transport-ws client (reconnects)",
    ),
    Pin("uplot", "1.6.32", ("dist/uPlot.esm.js", "dist/uPlot.min.css"), "the equity chart"),
    Pin("react", "18.3.1", ("umd/react.production.min.js",), "GraphiQL's view library"),
    Pin("react-dom", "18.3.1", ("umd/react-dom.production.min.js",), "GraphiQL's view library"),
    Pin("graphiql", "3.8.3", ("graphiql.min.js", "graphiql.min.css"), "GraphiQL at /graphql"),
    Pin(
        "@graphiql/plugin-explorer",
        "1.0.2",
        ("dist/index.umd.js", "dist/style.css"),
        "GraphiQL's query explorer",
    ),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(pin: Pin, workdir: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", f"{pin.name}@{pin.version}", "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return workdir / out.stdout.strip().splitlines()[-1]


def refresh() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    if VENDOR_DIR.exists():
        for child in VENDOR_DIR.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for pin in PINS:
            tarball = _pack(pin, work)
            with tarfile.open(tarball) as tar:
                tar.extractall(work / pin.directory, filter="data")
            root = work / pin.directory / "package"
            meta = json.loads((root / "package.json").read_text())
            assert meta["version"] == pin.version, (
                f"{pin.name}: packed {meta['version']}, pinned {pin.version}"
            )
            target = VENDOR_DIR / pin.directory
            target.mkdir(parents=True, exist_ok=True)
            taken = [*pin.files, *[n for n in LICENCE_NAMES if (root / n).exists()][:1]]
            files = {}
            for name in taken:
                dest = target / Path(name).name
                shutil.copyfile(root / name, dest)
                files[dest.name] = sha256(dest)
            entries.append(
                {
                    "name": pin.name,
                    "version": pin.version,
                    "license": meta.get("license", "UNKNOWN"),
                    "why": pin.why,
                    "directory": pin.directory,
                    "files": files,
                }
            )
    MANIFEST.write_text(json.dumps(entries, indent=2) + "\n")
    return entries


def check() -> list[str]:
    """What is wrong with the vendored files (missing, changed); empty when all is well."""
    problems = []
    for entry in json.loads(MANIFEST.read_text()):
        for name, digest in entry["files"].items():
            path = VENDOR_DIR / entry["directory"] / name
            if not path.exists():
                problems.append(f"{entry['name']}: {name} is missing")
            elif sha256(path) != digest:
                problems.append(f"{entry['name']}: {name} does not match its sha256 in the manifest")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="verify the vendored files only")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for entry in refresh():
        print(f"{entry['name']}@{entry['version']} ({entry['license']}): {', '.join(entry['files'])}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
