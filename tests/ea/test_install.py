"""`hedge ea-install`: the common and platform sources land where MetaEditor expects them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main
from hedge.domain.errors import ValidationError
from hedge.ea.install import DLL_NAME, Platform, default_source, install
from hedge.ea.install_cli import EXIT_BAD_SETTINGS

MQL = Path(__file__).parents[2] / "ea" / "mql"


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("platform", "folder", "expert"),
    [(Platform.MT5, "MQL5", "HedgeSystemEA.mq5"), (Platform.MT4, "MQL4", "HedgeSystemEA.mq4")],
)
def test_install_lays_common_and_platform_includes_and_the_expert(
    tmp_path: Path, platform: Platform, folder: str, expert: str
) -> None:
    (tmp_path / folder).mkdir()
    done = install(MQL, platform, tmp_path)
    include = tmp_path / folder / "Include" / "HedgeSystem"
    common = {p.name for p in (MQL / "common" / "HedgeSystem").glob("*.mqh")}
    own = {p.name for p in (MQL / folder / "Include" / "HedgeSystem").glob("*.mqh")}
    assert names(include) == common | own and {"Trade.mqh", "Lookup.mqh", "WebSocket.mqh"} <= own
    assert names(tmp_path / folder / "Experts") == {expert}
    assert (include / "Session.mqh").read_text(encoding="utf-8") == (
        MQL / "common" / "HedgeSystem" / "Session.mqh"
    ).read_text(encoding="utf-8")
    assert len(done) == len(common) + len(own) + 1


def test_install_for_mt4_copies_a_built_dll_into_libraries(tmp_path: Path) -> None:
    source = tmp_path / "mql"
    for part in ("common", "MQL4", "dll"):
        for path in (MQL / part).rglob("*"):
            if path.is_file():
                target = source / path.relative_to(MQL)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    (source / "dll" / DLL_NAME).write_bytes(b"MZ fake")
    data = tmp_path / "terminal"
    (data / "MQL4").mkdir(parents=True)
    install(source, Platform.MT4, data)
    assert (data / "MQL4" / "Libraries" / DLL_NAME).read_bytes() == b"MZ fake"


def test_install_again_overwrites_an_older_copy(tmp_path: Path) -> None:
    (tmp_path / "MQL5").mkdir()
    install(MQL, Platform.MT5, tmp_path)
    stale = tmp_path / "MQL5" / "Include" / "HedgeSystem" / "Protocol.mqh"
    stale.write_text("old", encoding="utf-8")
    install(MQL, Platform.MT5, tmp_path)
    assert stale.read_text(encoding="utf-8") != "old"


def test_install_into_a_folder_without_the_platform_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MQL4").mkdir()
    with pytest.raises(ValidationError, match="has no MQL5 folder"):
        install(MQL, Platform.MT5, tmp_path)
    assert not (tmp_path / "MQL5").exists()


def test_install_from_a_folder_that_is_not_ea_mql_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MQL5").mkdir()
    with pytest.raises(ValidationError, match="common/HedgeSystem"):
        install(tmp_path, Platform.MT5, tmp_path)


def test_default_source_is_this_repository_ea_mql() -> None:
    assert default_source() == MQL.resolve()


def test_cli_installs_and_names_the_expert_to_compile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "MQL4").mkdir()
    assert main(["ea-install", "--terminal-data-dir", str(tmp_path), "--platform", "mt4"]) == 0
    out = capsys.readouterr().out
    assert "MQL4/Experts/HedgeSystemEA.mq4 in MetaEditor" in out and "make -C ea/mql/dll" in out


def test_cli_bad_data_dir_exits_with_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["ea-install", "--terminal-data-dir", str(tmp_path / "nope"), "--platform", "mt5"])
        == EXIT_BAD_SETTINGS
    )
    assert "File > Open Data Folder" in capsys.readouterr().err
