"""`hedge ea-install`: lay the MQL sources out where MetaEditor expects them in a terminal's data folder.

The repository keeps one copy of what both EAs share (`ea/mql/common/HedgeSystem/`) and, per
platform, only what differs (`ea/mql/MQL5|MQL4/Include/HedgeSystem/`, the Experts). MetaEditor
wants them together: `<data folder>/MQL5/Include/HedgeSystem/*.mqh` and `MQL5/Experts/*.mq5` (MT4:
the MQL4 folders, and the DLL in `MQL4/Libraries/` when it has been built). The data folder is
what MetaTrader opens with File > Open Data Folder; it holds an `MQL5` (or `MQL4`) folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hedge.domain.errors import ValidationError

DLL_NAME = "HedgeSystemWs.dll"


class Platform(StrEnum):
    MT5 = "mt5"
    MT4 = "mt4"

    @property
    def folder(self) -> str:
        return "MQL5" if self is Platform.MT5 else "MQL4"


@dataclass(frozen=True, slots=True)
class Placement:
    source: Path
    target: Path


def default_source() -> Path:
    """`ea/mql` of the repository this package runs from."""
    return Path(__file__).resolve().parents[3] / "ea" / "mql"


def placements(source: Path, platform: Platform, data_dir: Path) -> list[Placement]:
    """Every file to copy, common first, so a platform file of the same name wins."""
    folder = platform.folder
    common = source / "common" / "HedgeSystem"
    own = source / folder
    if not common.is_dir() or not own.is_dir():
        raise ValidationError(
            "--source", f"{source} does not hold common/HedgeSystem and {folder} (the repo's ea/mql)"
        )
    target = data_dir / folder
    found = [Placement(p, target / "Include" / "HedgeSystem" / p.name) for p in sorted(common.glob("*.mqh"))]
    found += [
        Placement(p, target / "Include" / "HedgeSystem" / p.name)
        for p in sorted((own / "Include" / "HedgeSystem").glob("*.mqh"))
    ]
    found += [Placement(p, target / "Experts" / p.name) for p in sorted((own / "Experts").glob("*.mq?"))]
    dll = source / "dll" / DLL_NAME
    if platform is Platform.MT4 and dll.is_file():
        found.append(Placement(dll, target / "Libraries" / DLL_NAME))
    return found


def install(source: Path, platform: Platform, data_dir: Path) -> list[Placement]:
    """Copy the EA's files into the terminal data folder `data_dir`; what was copied where."""
    if not (data_dir / platform.folder).is_dir():
        raise ValidationError(
            "--terminal-data-dir",
            f"{data_dir} has no {platform.folder} folder: give the folder MetaTrader opens with "
            "File > Open Data Folder",
        )
    done = placements(source, platform, data_dir)
    for placement in done:
        placement.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(placement.source, placement.target)
    return done
