"""The validated snapshot is used only while every file it came from is unchanged."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from monitord.config import models, snapshot
from monitord.config.models import Config

MAIN = """\
state_dir: {state}
include: [more/*.yaml]
sites: [{{id: s1, name: Site 1}}]
devices: [{{id: cam-1, name: Cam 1, kind: camera, address: 127.0.0.1, site: s1}}]
"""
MORE = "devices: [{id: cam-2, name: Cam 2, kind: camera, address: 127.0.0.2, site: s1}]\n"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "a.yaml").write_text(MORE, encoding="utf-8")
    file = tmp_path / "monitord.yaml"
    file.write_text(MAIN.format(state=tmp_path / "state"), encoding="utf-8")
    return file


def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every full load from the files."""
    seen: list[Path] = []
    real = snapshot.load

    def counting(file: Path) -> Config:
        seen.append(file)
        return real(file)

    monkeypatch.setattr(snapshot, "load", counting)
    return seen


def ids(config: Config) -> list[str]:
    return [d.id for d in config.devices]


def test_a_fresh_snapshot_is_the_same_configuration(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = loads(monkeypatch)
    first = snapshot.load_cached(config_file)
    again = snapshot.load_cached(config_file)
    assert again == first and ids(again) == ["cam-1", "cam-2"]
    assert seen == [config_file]  # the second came from the snapshot
    [written] = (Path(os.environ["XDG_CACHE_HOME"]) / "monitord").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_an_edit_a_new_include_or_a_removed_one_loads_in_full(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = loads(monkeypatch)
    snapshot.load_cached(config_file)
    extra = config_file.parent / "more" / "b.yaml"
    extra.write_text(MORE.replace("cam-2", "cam-3").replace("127.0.0.2", "127.0.0.3"))
    assert ids(snapshot.load_cached(config_file)) == ["cam-1", "cam-2", "cam-3"]
    extra.unlink()
    assert ids(snapshot.load_cached(config_file)) == ["cam-1", "cam-2"]
    text = config_file.read_text().replace("Cam 1", "Camera one")
    config_file.write_text(text)
    assert snapshot.load_cached(config_file).devices[0].name == "Camera one"
    assert len(seen) == 4
    snapshot.load_cached(config_file)
    assert len(seen) == 4


def test_full_validates_again_and_damage_is_not_trusted(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = loads(monkeypatch)
    snapshot.load_cached(config_file)
    snapshot.load_cached(config_file, full=True)
    assert len(seen) == 2
    [written] = (Path(os.environ["XDG_CACHE_HOME"]) / "monitord").iterdir()
    head = written.read_text().splitlines()[0]
    written.write_text(head + "\n{not json")
    assert ids(snapshot.load_cached(config_file)) == ["cam-1", "cam-2"]
    assert len(seen) == 3


def test_no_cache_directory_still_loads(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)
    assert snapshot.cache_dir() is None
    assert ids(snapshot.load_cached(config_file)) == ["cam-1", "cam-2"]


def test_a_command_reads_only_the_devices_it_needs(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = loads(monkeypatch)
    whole = snapshot.load_cached(config_file)
    none = snapshot.load_cached(config_file, devices=False)
    assert none.devices == () and none.sites == whole.sites
    assert none.database_url == whole.database_url
    assert ids(snapshot.load_cached(config_file, devices={"cam-2", "gone"})) == ["cam-2"]
    assert snapshot.load_cached(config_file, devices=True) == whole
    assert seen == [config_file]  # all of them from the snapshot
    # A stale snapshot: the full load has every device, whatever was asked for.
    config_file.write_text(config_file.read_text().replace("Cam 1", "Camera one"))
    assert ids(snapshot.load_cached(config_file, devices=False)) == ["cam-1", "cam-2"]


def test_one_device_is_read_from_its_own_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = snapshot.load_cached(config_file)
    [written] = (Path(os.environ["XDG_CACHE_HOME"]) / "monitord").iterdir()
    lines = written.read_bytes().split(b"\n")
    assert lines[2:] == [b"[", b'{"id":"cam-1"' + lines[3][13:], lines[4], b"]"]
    parsed: list[int] = []
    real = snapshot.json.loads

    def counting(text: bytes) -> object:
        parsed.append(len(text))
        return real(text)

    monkeypatch.setattr(snapshot.json, "loads", counting)
    [cam2] = snapshot.load_cached(config_file, devices={"cam-2"}).devices
    assert cam2 == whole.devices[1]
    assert parsed == [len(lines[0]) + 1, len(lines[4])]  # the sources, then that line alone
    # Both, in the configuration's order whatever the order asked in.
    assert ids(snapshot.load_cached(config_file, devices=["cam-2", "cam-1"])) == ["cam-1", "cam-2"]
    # An id inside another device's line is not that device.
    text = config_file.read_text().replace("Cam 1", '\'"id":"cam-9"\'')
    config_file.write_text(text)
    snapshot.load_cached(config_file)
    assert ids(snapshot.load_cached(config_file, devices={"cam-9"})) == []


def test_a_full_load_of_unchanged_files_leaves_the_snapshot_as_it_is(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = loads(monkeypatch)
    snapshot.load_cached(config_file, full=True)
    [written] = (Path(os.environ["XDG_CACHE_HOME"]) / "monitord").iterdir()
    before = written.stat().st_mtime_ns, written.stat().st_ino
    snapshot.load_cached(config_file, full=True)
    assert (written.stat().st_mtime_ns, written.stat().st_ino) == before
    assert len(seen) == 2  # validated from the files both times
    config_file.write_text(config_file.read_text().replace("Cam 1", "Camera one"))
    snapshot.load_cached(config_file, full=True)
    assert written.stat().st_ino != before[1]  # written again (replaced)
    assert snapshot.load_cached(config_file).devices[0].name == "Camera one"
    assert len(seen) == 3


SHARED = """\
state_dir: {state}
sites: [{{id: s1, name: Site 1}}]
devices:
  - {{id: cam-1, name: Cam 1, kind: camera, address: 127.0.0.1, site: s1,
      onvif: {{username: monitor, password: {{env: CAM_PASSWORD}}}}}}
  - {{id: cam-2, name: Cam 2, kind: camera, address: 127.0.0.2, site: s1,
      onvif: {{username: monitor, password: {{env: CAM_PASSWORD}}}}}}
  - {{id: cam-3, name: Cam 3, kind: camera, address: 127.0.0.3, site: s1,
      onvif: {{username: monitor, password: {{env: CAM_PASSWORD}}, interval: 60}}}}
  - {{id: cam-4, name: Cam 4, kind: camera, address: 127.0.0.4, site: s1,
      onvif: {{username: admin, password: {{env: CAM_PASSWORD}}}}}}
"""


@pytest.mark.parametrize("cached", [False, True], ids=["from the files", "from the snapshot"])
def test_equal_settings_are_one_object(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    config_file.write_text(SHARED.format(state=config_file.parent / "state"), encoding="utf-8")
    seen = loads(monkeypatch)
    config = snapshot.load_cached(config_file)
    if cached:
        config = snapshot.load_cached(config_file)
        assert seen == [config_file]
    # A command that exits at once skips the walk; the daemon settles what it keeps.
    assert config.devices[0].onvif is not config.devices[1].onvif
    one, two, three, four = (d.onvif for d in config.settle().devices)
    assert one is two  # the same login and settings: shared
    assert three is not one and three.interval == 60 and one.interval != 60
    assert four is not one and four.username == "admin"
    assert three.password is one.password  # an equal part inside unequal settings
    if not cached:  # a snapshot holds every field, so there all of them are "set"
        assert one.model_fields_set == {"username", "password"}
        assert three.model_fields_set == {"username", "password", "interval"}


def test_a_configuration_is_settled_once_even_after_pickling(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text(SHARED.format(state=config_file.parent / "state"), encoding="utf-8")
    walks: list[int] = []
    real = models.share_equal
    monkeypatch.setattr(models, "share_equal", lambda devices: walks.append(1) or real(devices))
    config = snapshot.load_cached(config_file).settle().settle()
    assert walks == [1]
    # As the loader's child hands it over: the daemon's start need not walk it again.
    carried = pickle.loads(pickle.dumps(config)).settle()
    assert walks == [1]
    assert carried.devices[0].onvif is carried.devices[1].onvif
    # New devices are a new configuration: settled again, their equal parts shared.
    renewed = carried.model_copy(update={"devices": [d.model_copy() for d in carried.devices]})
    renewed.settle()
    assert walks == [1, 1]
    assert renewed.by_id()["cam-1"] is renewed.devices[0]
