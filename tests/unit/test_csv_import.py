"""Importing the equipment archive from CSV: spreadsheet habits, exact errors, YAML round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitord.config import Criticality, Device, DeviceKind
from monitord.config.load import load
from monitord.inventory.csv_import import CsvImportError, devices_to_yaml, read_devices_csv

EXAMPLE = Path(__file__).parents[2] / "config" / "devices.example.csv"
HEADER = "id,name,kind,address,site,parents\n"


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "archive.csv"
    path.write_bytes(text.encode(encoding))
    return path


def issues(path: Path, sites: tuple[str, ...] = ("hq",), known: tuple[str, ...] = ()) -> list[str]:
    """The reported issues, with the directory left out; [] when the file imports."""
    try:
        read_devices_csv(path, sites, known)
    except CsvImportError as exc:
        assert str(exc) == "\n".join(exc.issues)
        return [issue.removeprefix(f"{path.parent}/") for issue in exc.issues]
    return []


def test_example_imports() -> None:
    devices = read_devices_csv(EXAMPLE, ["demo-hq"])
    assert [(d.id, d.kind, d.address, d.parents) for d in devices] == [
        ("sw-core", DeviceKind.SWITCH, "127.0.10.1", ()),
        ("sw-gate", DeviceKind.SWITCH, "127.0.10.2", ("sw-core",)),
        ("nvr-1", DeviceKind.NVR, "127.0.10.3", ("sw-core",)),
        ("door-main", DeviceKind.ACCESS_CONTROLLER, "127.0.10.4", ("sw-gate",)),
        ("cam-01", DeviceKind.CAMERA, "127.0.10.11", ("sw-gate",)),
        ("cam-02", DeviceKind.CAMERA, "127.0.10.12", ("sw-gate",)),
        ("cam-03", DeviceKind.CAMERA, "127.0.10.13", ("sw-core",)),
        ("cam-04", DeviceKind.CAMERA, "127.0.10.14", ("sw-core",)),
    ]
    core, gate = devices[0], devices[1]
    assert core.criticality is Criticality.CRITICAL
    assert core.location == "监控中心机房 A01 机柜"
    assert gate.install_date == dt.date(2024, 3, 16)  # written 2024/3/16
    assert gate.serial is None
    assert devices[6].location == "停车场, 东北角灯杆"


def test_english_headers_any_case_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "ID, Name ,KIND,Address,Site,Install Date\nc1,Cam,Camera,10.0.0.1,hq,\n")
    assert read_devices_csv(path, ["hq"]) == [
        Device(id="c1", name="Cam", kind=DeviceKind.CAMERA, address="10.0.0.1", site="hq")
    ]


def test_gbk_file_with_chinese_names(tmp_path: Path) -> None:
    text = "设备编号,设备名称,设备类型,IP地址,项目,厂商\nnvr-1,录像机,NVR,10.0.0.2,hq,海康威视\n"
    (device,) = read_devices_csv(write(tmp_path, text, "gbk"), ["hq"])
    assert (device.name, device.kind, device.vendor) == ("录像机", DeviceKind.NVR, "海康威视")


def test_bom_whitespace_and_empty_rows_keep_row_numbers(tmp_path: Path) -> None:
    text = (
        "\ufeff" + HEADER + " a , A ,switch, 10.0.0.1 ,hq,\n,,,,,\n\nb,B,交换机,10.0.0.300,hq,a\n"
    )
    assert issues(write(tmp_path, text)) == [
        "archive.csv:5: address: '10.0.0.300' is not an IPv4 or IPv6 address"
    ]
    (a,) = read_devices_csv(write(tmp_path, text.replace("300", "3")), ["hq"])[:1]
    assert (a.id, a.name, a.address) == ("a", "A", "10.0.0.1")


def test_a_quoted_line_break_stays_in_its_row(tmp_path: Path) -> None:
    text = (
        HEADER.replace("parents", "location")
        + 'a,A,switch,10.0.0.1,hq,"机房\n二楼"\nb,B,x,10.0.0.2,hq,\n'
    )
    assert issues(write(tmp_path, text)) == [
        (
            "archive.csv:3: kind: Input should be 'camera', 'nvr', 'access_controller', "
            "'switch' or 'other'"
        )
    ]


@pytest.mark.parametrize("cell", ["a;b", "a|b", '"a,b"', "a；b", " a ， b ", "a、b;"])
def test_parent_separators(tmp_path: Path, cell: str) -> None:
    text = (
        HEADER
        + f"a,A,switch,10.0.0.1,hq,\nb,B,switch,10.0.0.2,hq,\nc,C,摄像机,10.0.0.3,hq,{cell}\n"
    )
    assert read_devices_csv(write(tmp_path, text), ["hq"])[2].parents == ("a", "b")


def test_chinese_kinds_criticality_and_dates(tmp_path: Path) -> None:
    text = (
        "编号,名称,类型,IP,站点,重要性,安装日期,质保到期\n"
        "1,一,摄像头,10.0.0.1,hq,高,2024/5/1,2027-05-01\n"
        "2,二,门禁控制器,10.0.0.2,hq,关键,,\n"
        "3,三,其他,::ffff:a00:3,hq,低,,\n"
    )
    devices = read_devices_csv(write(tmp_path, text), ["hq"])
    assert [(d.kind, d.criticality) for d in devices] == [
        (DeviceKind.CAMERA, Criticality.HIGH),
        (DeviceKind.ACCESS_CONTROLLER, Criticality.CRITICAL),
        (DeviceKind.OTHER, Criticality.LOW),
    ]
    assert (devices[0].install_date, devices[0].warranty_end) == (
        dt.date(2024, 5, 1),
        dt.date(2027, 5, 1),
    )
    assert devices[2].address == "::ffff:a00:3"


def test_every_row_problem_at_once(tmp_path: Path) -> None:
    text = (
        "设备编号,设备名称,设备类型,IP地址,站点,上级设备,安装日期,备注\n"  # 1
        "sw,交换机,交换机,10.0.0.1,hq,,2024-01-01,核心\n"  # 2
        "cam-1,摄像机,路由器,10.0.0.2,hq,sw,,\n"  # 3: bad kind
        "cam-2,摄像机,摄像机,10.0.0.1,hq,sw,2024.01.05,\n"  # 4: bad date, taken address
        "sw,交换机2,交换机,10.0.0.4,branch,ghost,,\n"  # 5: duplicate id, unknown site+parent
        "x,X,其他,10.0.0.5,hq,x,2024-02-30,\n"  # 6: no such day, own parent
        "a,A,其他,10.0.0.6,hq,c,,\n"  # 7
        "b,B,其他,10.0.0.7,hq,a,,\n"  # 8: closes the cycle a -> c -> b -> a
        "c,C,其他,10.0.0.8,hq,b;cam-1,,\n"  # 9: cam-1 is invalid, yet no unknown parent
        ",无编号,其他,,hq,,,\n"  # 10: missing values
        ",无名,其他,10.0.0.20,hq,,,\n"  # 11: no id
        "e,E,其他,10.0.0.20,hq,,,\n"  # 12: address of the row without an id
    )
    assert issues(write(tmp_path, text)) == [
        "archive.csv:1: 备注: unknown column",
        (
            "archive.csv:3: 设备类型: Input should be 'camera', 'nvr', 'access_controller', "
            "'switch' or 'other'"
        ),
        (
            "archive.csv:4: 安装日期: Input should be a valid date or datetime, "
            "invalid date separator, expected `-`"
        ),
        "archive.csv:4: IP地址: address 10.0.0.1 is already used by 'sw' (row 2)",
        "archive.csv:5: 设备编号: duplicate device id 'sw' (also row 2)",
        "archive.csv:5: 站点: unknown site 'branch'",
        "archive.csv:5: 上级设备: unknown parent 'ghost'",
        (
            "archive.csv:6: 安装日期: Input should be a valid date or datetime, "
            "day value is outside expected range"
        ),
        "archive.csv:6: 上级设备: a device cannot be its own parent",
        "archive.csv:8: 上级设备: parent cycle: a -> c -> b -> a",
        "archive.csv:10: 设备编号: is required",
        "archive.csv:10: IP地址: is required",
        "archive.csv:11: 设备编号: is required",
        "archive.csv:12: IP地址: address 10.0.0.20 is already used by (row 11)",
    ]


def test_self_parent_and_known_devices(tmp_path: Path) -> None:
    text = HEADER + "x,X,switch,10.0.0.1,hq,x\ny,Y,switch,10.0.0.2,hq,core|x\n"
    path = write(tmp_path, text)
    assert issues(path, known=("core",)) == [
        "archive.csv:2: parents: a device cannot be its own parent"
    ]
    assert issues(path) == [
        "archive.csv:2: parents: a device cannot be its own parent",
        "archive.csv:3: parents: unknown parent 'core'",
    ]
    # Importing again meets the file's own ids among the configured devices: no error.
    assert issues(path.with_name("again.csv"), known=("x", "y")) == [
        "again.csv:0: (file): cannot read: No such file or directory"
    ]
    path.with_name("again.csv").write_text(HEADER + "y,Y,switch,10.0.0.2,hq,x\n", "utf-8")
    assert issues(path.with_name("again.csv"), known=("x", "y")) == []


def test_two_device_cycle(tmp_path: Path) -> None:
    text = HEADER + "a,A,switch,10.0.0.1,hq,b\nb,B,switch,10.0.0.2,hq,a\n"
    assert issues(write(tmp_path, text)) == ["archive.csv:3: parents: parent cycle: a -> b -> a"]


def test_header_problems(tmp_path: Path) -> None:
    text = "设备编号,名称,品牌,厂商,IP,ipaddr\n1,一,a,b,10.0.0.1,\n"
    assert issues(write(tmp_path, text)) == [
        "archive.csv:1: 厂商: same column as '品牌'",
        "archive.csv:1: ipaddr: unknown column",
        "archive.csv:1: kind: missing required column",
        "archive.csv:1: site: missing required column",
    ]


def test_values_without_a_header(tmp_path: Path) -> None:
    text = "id,name,kind,address,site,\na,A,switch,10.0.0.1,hq,,\nb,B,switch,10.0.0.2,hq,x,y\n"
    assert issues(write(tmp_path, text)) == [
        "archive.csv:3: column 6: a value in a column without a header",
        "archive.csv:3: column 7: a value in a column without a header",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "archive.csv:1: (file): no header row"),
        (b"\n,,\n", "archive.csv:1: (file): no header row"),
        (b"id\xff\xfe\x80\n", "archive.csv:1: (file): neither UTF-8 nor GBK text"),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "archive.csv:1: (file): an Excel workbook, not CSV: save it as CSV UTF-8 first",
        ),
        # An unbalanced quote swallows the rest of a big file into one cell.
        (
            b'id,name\n\na,"A\n' + b"x" * 200_000,
            "archive.csv:3: (file): not valid CSV: field larger than field limit (131072)",
        ),
    ],
)
def test_unusable_files(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "archive.csv"
    path.write_bytes(data)
    assert issues(path) == [expected]


def test_yaml_omits_defaults_and_keeps_chinese() -> None:
    device = Device.model_validate(
        {
            "id": "cam-1",
            "name": "大门1号摄像机",
            "kind": "camera",
            "address": "2001:DB8::1",
            "site": "hq",
            "parents": ["sw-1", "sw-2"],
            "serial": "00123",
            "install_date": "2024-05-01",
        }
    )
    assert devices_to_yaml([device]) == (
        "devices:\n"
        "  - id: cam-1\n"
        "    name: 大门1号摄像机\n"
        "    kind: camera\n"
        "    address: 2001:db8::1\n"
        "    site: hq\n"
        "    parents: [sw-1, sw-2]\n"
        "    serial: '00123'\n"
        "    install_date: 2024-05-01\n"
    )
    assert devices_to_yaml([]) == "devices: []\n"


def test_round_trip_through_the_config_loader(tmp_path: Path) -> None:
    devices = read_devices_csv(EXAMPLE, ["demo-hq"])
    (tmp_path / "devices.d").mkdir()
    (tmp_path / "devices.d" / "demo.yaml").write_text(devices_to_yaml(devices), "utf-8")
    main = tmp_path / "monitord.yaml"
    main.write_text(
        "include: [devices.d/*.yaml]\nsites: [{id: demo-hq, name: 演示小区}]\n", "utf-8"
    )
    assert load(main).devices == tuple(devices)
