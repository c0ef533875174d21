"""The daemon's configuration, at start and at reload, is built by a child interpreter
(config/offload.py): the same configuration `load` makes, the same errors with their lines,
and no child left behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from monitord.config.load import ConfigError, load
from monitord.config.models import Config
from monitord.config.offload import begin_first, load_apart
from monitord.config.offload_child import LoaderFailed
from monitord.config.snapfile import is_fresh, where

SITE = {"id": "s1", "name": "Gate", "timezone": "Asia/Shanghai"}


def write(path: Path, devices: list[dict[str, object]]) -> Path:
    doc = {"state_dir": str(path.parent / "state"), "sites": [SITE], "devices": devices}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def cameras(n: int) -> list[dict[str, object]]:
    return [
        {"id": f"cam{i}", "name": f"摄像机 {i}", "kind": "camera", "address": f"10.0.0.{i}",
         "site": "s1", "icmp": {"interval": 30}}
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_the_child_builds_what_load_builds_settled(tmp_path: Path) -> None:
    path = write(tmp_path / "monitord.yaml", cameras(3))
    built = asyncio.run(load_apart(path))
    assert built == load(path)
    assert built.devices[0].name == "摄像机 1"
    # settled: equal settings are one object, and what the daemon asks for is worked out
    assert built.devices[0].icmp is built.devices[2].icmp
    assert built.by_id()["cam2"] is built.devices[1]


def test_a_broken_file_raises_the_same_errors_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "monitord.yaml", [*cameras(1), {"id": "bad", "kind": "toaster"}])
    with pytest.raises(ConfigError) as here:
        load(path)
    with pytest.raises(ConfigError) as there:
        asyncio.run(load_apart(path))
    assert there.value.issues == here.value.issues
    assert any(i.line > 1 and "devices[1].kind" in str(i) for i in there.value.issues)


def test_a_missing_file_raises_what_load_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml"):
        asyncio.run(load_apart(tmp_path / "nope.yaml"))


def at_reload(path: Path) -> Config:
    return asyncio.run(load_apart(path))


def at_start(path: Path) -> Config:
    return begin_first(path)()


@pytest.mark.parametrize("loading", [at_reload, at_start])
def test_a_child_that_dies_is_a_failed_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loading: Callable[[Path], Config]
) -> None:
    path = write(tmp_path / "monitord.yaml", cameras(1))
    dying = tmp_path / "dying"
    dying.mkdir()
    (dying / "sitecustomize.py").write_text("import os\nos._exit(3)\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(dying))
    with pytest.raises(LoaderFailed, match="status 3"):
        loading(path)


def test_without_a_child_it_loads_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "monitord.yaml", cameras(2))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    assert asyncio.run(load_apart(path)) == load(path)


def children_reading(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return found


def test_a_cancelled_reload_takes_its_child_along(tmp_path: Path) -> None:
    fifo = tmp_path / "hangs.yaml"
    os.mkfifo(fifo)  # opening it for reading waits for a writer that never comes

    async def cancel_while_loading() -> None:
        task = asyncio.create_task(load_apart(fifo))
        for _ in range(200):  # up to 10 s for the child to start
            await asyncio.sleep(0.05)
            if children_reading(fifo):
                break
        assert children_reading(fifo), "the child never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_loading())
    assert children_reading(fifo) == []


def test_the_first_load_goes_through_the_snapshot_as_every_command_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = write(tmp_path / "monitord.yaml", cameras(3))
    first = begin_first(path)()
    assert first == load(path)
    assert first.devices[0].icmp is first.devices[2].icmp  # settled
    snapshot = where(path)
    assert snapshot is not None and is_fresh(snapshot)  # written by the child
    snapshot.write_text(snapshot.read_text().replace("摄像机 1", "快照 1"), encoding="utf-8")
    assert begin_first(path)().devices[0].name == "快照 1"  # and read from it when fresh


def test_a_broken_file_at_start_raises_its_errors_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "monitord.yaml", [{"id": "bad", "kind": "toaster"}, *cameras(1)])
    with pytest.raises(ConfigError) as here:
        load(path)
    with pytest.raises(ConfigError) as there:
        begin_first(path)()
    assert there.value.issues == here.value.issues


def test_without_a_child_the_first_load_happens_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "monitord.yaml", cameras(2))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    loaded = begin_first(path)()
    assert loaded == load(path)
    assert loaded.devices[0].icmp is loaded.devices[1].icmp


def test_the_first_child_starts_before_the_loader_is_imported_here() -> None:
    # At start the child loads while the daemon imports; importing the loader here first
    # (0.4-0.6 s) delayed the child's start by as much, the whole wait when the snapshot is
    # stale and the child parses the files.
    probe = (
        "import sys, monitord.config.offload, monitord.config.offload_child\n"
        "print(sorted(m for m in ('monitord.config.load', 'monitord.config.models', "
        "'pydantic', 'yaml', 'structlog') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
