"""The configuration loader: a catalogue of broken files with their exact errors, and valid ones.

Each file in configs/broken/ states what loading it must report in `# expect:` comment lines,
written as `str(issue)` with the file name left out when the issue is in the file itself:
    # expect: 7: devices[1].kind: Input should be ...
    # expect: inc/other.yaml:3: devices[0].address: ...
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitord.config import (
    Config,
    ConfigError,
    Criticality,
    DeviceKind,
    IcmpSettings,
    SecretRef,
    SecretUnavailable,
    Zone,
)
from monitord.config.load import load

CONFIGS = Path(__file__).parent / "configs"
BROKEN = CONFIGS / "broken"
VALID = CONFIGS / "valid" / "monitord.yaml"
EXPECT = "# expect: "


def expected_issues(file: Path) -> list[str]:
    lines = [s[len(EXPECT) :] for s in file.read_text("utf-8").splitlines() if s.startswith(EXPECT)]
    return [f"{file.name}:{line}" if line[0].isdigit() else line for line in lines]


def reported_issues(file: Path) -> list[str]:
    try:
        load(file)
    except ConfigError as exc:
        assert str(exc) == "\n".join(map(str, exc.issues))
        return [str(issue).removeprefix(f"{file.parent}/") for issue in exc.issues]
    return []


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.yaml")))
def test_broken_config_reports_exactly(name: str) -> None:
    file = BROKEN / name
    expected = expected_issues(file)
    assert expected, f"{name} has no '{EXPECT}' line"
    assert reported_issues(file) == expected


def test_catalogue_covers_the_listed_problems() -> None:
    # Guards against the parametrized test silently shrinking (e.g. a moved directory).
    assert len(list(BROKEN.glob("*.yaml"))) >= 30
    assert {p.name for p in (BROKEN / "inc").glob("*.yaml")} == {
        "broken_device.yaml",
        "forbidden_key.yaml",
        "good_devices.yaml",
        "invalid_yaml.yaml",
    }


@pytest.mark.parametrize("text", ["", "\n", "# nothing configured yet\n", "---\n"])
def test_empty_file_is_an_empty_config(tmp_path: Path, text: str) -> None:
    file = tmp_path / "monitord.yaml"
    file.write_text(text, encoding="utf-8")
    assert load(file) == Config()


def test_missing_file(tmp_path: Path) -> None:
    assert reported_issues(tmp_path / "absent.yaml") == [
        "absent.yaml: (file): cannot read: No such file or directory"
    ]


def test_absolute_include_pattern(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "cams.yaml").write_text(
        "devices:\n  - {id: c, name: C, kind: camera, address: 10.0.0.3, site: hq}\n", "utf-8"
    )
    main = tmp_path / "etc" / "monitord.yaml"
    main.parent.mkdir()
    main.write_text(
        f"include: ['{tmp_path}/extra/*.yaml', '{tmp_path}/none/*.yaml']\n"
        "sites: [{id: hq, name: HQ}]\n",
        "utf-8",
    )
    assert reported_issues(main) == [
        f"monitord.yaml:1: include[1]: no file matches '{tmp_path}/none/*.yaml'"
    ]
    main.write_text(f"include: ['{tmp_path}/extra/*.yaml']\nsites: [{{id: hq, name: HQ}}]\n")
    assert [d.id for d in load(main).devices] == ["c"]


# --- a valid configuration ---------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    return load(VALID)


def test_valid_config_sites(config: Config) -> None:
    assert [(s.id, s.timezone, s.zone, s.contract) for s in config.sites] == [
        ("hq", "Asia/Shanghai", Zone.CITY, "seed-000"),
        ("county-1", "Asia/Urumqi", Zone.COUNTY, None),
    ]


def test_valid_config_devices_include_and_parents(config: Config) -> None:
    assert [(d.id, d.kind, d.site, d.parents) for d in config.devices] == [
        ("sw-core", DeviceKind.SWITCH, "hq", ()),
        ("nvr-1", DeviceKind.NVR, "hq", ("sw-core",)),
        ("sw-county", DeviceKind.SWITCH, "county-1", ("sw-core",)),
        ("cam-gate-01", DeviceKind.CAMERA, "hq", ("sw-core", "nvr-1")),
        ("cam-county-01", DeviceKind.CAMERA, "county-1", ("sw-county",)),
    ]
    assert config.include == ("devices.d/*.yaml",)
    assert config.log_level == "debug"


def test_valid_config_values(config: Config) -> None:
    devices = {d.id: d for d in config.devices}
    assert devices["nvr-1"].address == "2001:db8::10"
    assert devices["nvr-1"].install_date == dt.date(2025, 6, 1)
    assert devices["nvr-1"].warranty_end == dt.date(2028, 6, 1)
    assert devices["sw-core"].criticality is Criticality.CRITICAL
    assert devices["cam-gate-01"].criticality is Criticality.NORMAL
    assert devices["cam-gate-01"].name == "大门1号摄像机"
    onvif = devices["cam-county-01"].onvif
    assert onvif is not None
    assert onvif.password == SecretRef(file=Path("/etc/monitord/secrets/onvif-county"))


def test_icmp_merges_global_kind_device(config: Config) -> None:
    devices = {d.id: d for d in config.devices}
    base = {"interval": 20.0, "count": 2, "degraded_rtt_ms": 150.0}
    assert config.icmp_for(devices["sw-core"]) == IcmpSettings(**base)
    assert config.icmp_for(devices["nvr-1"]) == IcmpSettings(**base, timeout=2.0)
    camera = {**base, "interval": 30.0, "max_attempts": 4}
    assert config.icmp_for(devices["cam-gate-01"]) == IcmpSettings(**camera)
    assert config.icmp_for(devices["cam-county-01"]) == IcmpSettings(
        **{**camera, "max_attempts": 2, "timeout": 0.5}
    )


def test_example_config_loads() -> None:
    example = load(Path(__file__).parents[2] / "config" / "monitord.example.yaml")
    assert [d.id for d in example.devices] == ["sw-core", "nvr-1", "cam-gate-01", "door-main"]


# --- secrets -----------------------------------------------------------------------------

SECRET = "s3cr3t-community-值"


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORD_TEST_SECRET", SECRET)
    assert SecretRef(env="MONITORD_TEST_SECRET").resolve().get_secret_value() == SECRET


def test_secret_from_file(tmp_path: Path) -> None:
    file = tmp_path / "community"
    file.write_text(f"{SECRET}\n", encoding="utf-8")
    assert SecretRef(file=file).resolve().get_secret_value() == SECRET


def test_missing_env_secret_names_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITORD_TEST_ABSENT", raising=False)
    with pytest.raises(SecretUnavailable) as caught:
        SecretRef(env="MONITORD_TEST_ABSENT").resolve()
    assert str(caught.value) == "secret env:MONITORD_TEST_ABSENT: variable is not set"


def test_missing_file_secret_names_the_reference(tmp_path: Path) -> None:
    with pytest.raises(SecretUnavailable) as caught:
        SecretRef(file=tmp_path / "absent").resolve()
    assert str(caught.value) == f"secret file:{tmp_path}/absent: No such file or directory"


def test_secret_values_stay_out_of_reprs(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORD_TEST_COMMUNITY", SECRET)
    snmp = config.devices[0].snmp
    assert snmp is not None and snmp.community is not None
    secret = snmp.community.resolve()
    assert secret.get_secret_value() == SECRET
    for text in (repr(config), str(config), repr(secret), str(secret), f"{secret}"):
        assert SECRET not in text
    assert "MONITORD_TEST_COMMUNITY" in repr(config)


def test_a_json_config_still_names_the_line_of_each_error(tmp_path: Path) -> None:
    # JSON files are first read without lines (the fast path); an error reads them again.
    (tmp_path / "more.yaml").write_text(
        '{"devices": [\n {"id": "c2", "name": "C2", "kind": "camera",\n'
        '  "address": "not-an-ip", "site": "s1"}\n]}\n',
        encoding="utf-8",
    )
    main = tmp_path / "monitord.yaml"
    main.write_text(
        '{"include": ["more.yaml"],\n "sites": [{"id": "s1", "name": "S1"}],\n'
        ' "devices": [\n  {"id": "c1", "name": "C1", "kind": "toaster",\n'
        '   "address": "127.0.0.1", "site": "s1"}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load(main)
    where = [(i.file.name, i.line, i.path) for i in caught.value.issues]
    assert where == [
        ("monitord.yaml", 4, "devices[0].kind"),
        ("more.yaml", 3, "devices[0].address"),
    ]
    main.write_text(main.read_text("utf-8").replace("toaster", "camera"), encoding="utf-8")
    (tmp_path / "more.yaml").write_text('{"devices": []}', encoding="utf-8")
    assert [d.id for d in load(main).devices] == ["c1"]


def test_sites_behind_different_pollers_may_repeat_an_address(tmp_path: Path) -> None:
    """Each compound is its own LAN behind NAT, usually 192.168.1.0/24 (issue 14 item 5)."""
    file = tmp_path / "monitord.yaml"
    file.write_text(
        "sites:\n"
        "  - {id: north, name: North, poller: p-north}\n"
        "  - {id: south, name: South, poller: p-south}\n"
        "  - {id: hq, name: HQ}\n"
        "devices:\n"
        "  - {id: n-cam, name: N, kind: camera, address: 192.168.1.10, site: north}\n"
        "  - {id: s-cam, name: S, kind: camera, address: 192.168.1.10, site: south}\n"
        "  - {id: hq-cam, name: H, kind: camera, address: 192.168.1.10, site: hq}\n",
        encoding="utf-8",
    )
    config = load(file)
    assert [(d.site, d.address) for d in config.devices] == [
        ("north", "192.168.1.10"),
        ("south", "192.168.1.10"),
        ("hq", "192.168.1.10"),
    ]
