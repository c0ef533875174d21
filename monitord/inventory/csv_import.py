"""Import the equipment archive (设备档案) from a spreadsheet saved as CSV.

Contractors keep the archive in Excel, usually with Chinese headers and often saved as GBK.
`read_devices_csv` takes the file as it comes and reports every problem at once as
`FILE:ROW: column: what is wrong`, ROW being the row number the spreadsheet shows (header = 1),
so that the sheet can be fixed in one pass. `devices_to_yaml` writes the devices file that
the configuration includes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

# The loader's wording, so that a device reads the same whether it is wrong in YAML or CSV.
from monitord.config.load import _message as error_message
from monitord.config.models import Device, IpAddress

__all__ = ["CsvImportError", "devices_to_yaml", "read_devices_csv"]

REQUIRED = ("id", "name", "kind", "address", "site")
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("设备编号", "编号", "设备ID"),
    "name": ("设备名称", "名称"),
    "kind": ("设备类型", "类型"),
    "address": ("IP地址", "IP", "设备IP", "IP address"),
    "site": ("站点", "项目", "站点编号", "项目编号"),
    "parents": ("上级设备", "上联设备"),
    "criticality": ("重要性", "重要程度"),
    "vendor": ("品牌", "厂商", "厂家"),
    "model": ("型号", "设备型号"),
    "serial": ("序列号", "SN"),
    "firmware": ("固件版本", "软件版本"),
    "install_date": ("安装日期",),
    "warranty_end": ("保修截止", "质保到期", "保修到期"),
    "location": ("安装位置", "位置"),
}
_KINDS: dict[str, tuple[str, ...]] = {
    "camera": ("摄像机", "摄像头", "网络摄像机", "枪机", "球机", "半球", "IPC"),
    "nvr": ("硬盘录像机", "网络硬盘录像机", "录像机"),
    "access_controller": ("门禁控制器", "门禁"),
    "switch": ("交换机",),
    "other": ("其他", "其它"),
}
_CRITICALITIES: dict[str, tuple[str, ...]] = {
    "low": ("低",),
    "normal": ("中", "一般"),
    "high": ("高",),
    "critical": ("关键",),
}
# Chinese input methods type full-width separators; '、' is the enumeration comma.
_PARENT_SEPARATORS = re.compile(r"[;|,；，、]")
_SLASH_OR_DASH_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_ADDRESS = TypeAdapter(IpAddress)
_NO_HEADER = ""  # layout entry of a column whose header cell is blank


def _key(text: str) -> str:
    """Spelling that does not matter in headers and values: case, spaces, '_' and '-'."""
    return re.sub(r"[\s_\-]+", "", text).lower()


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(alias): canon for canon, aliases in table.items() for alias in (canon, *aliases)}


_COLUMNS = _lookup(_ALIASES)
_KIND_NAMES = _lookup(_KINDS)
_CRITICALITY_NAMES = _lookup(_CRITICALITIES)


class CsvImportError(Exception):
    """Every problem of a CSV file, as `FILE:ROW: column: what is wrong`, in row order."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("\n".join(issues))


class _Issues:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[int, str]] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.found.append((row, f"{self.path}:{row}: {column}: {message}"))

    def raise_any(self) -> None:
        if self.found:
            raise CsvImportError([text for _, text in sorted(self.found, key=lambda i: i[0])])


def read_devices_csv(
    path: Path,
    known_sites: Collection[str],
    known_devices: Collection[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[Device]:
    """The devices of the CSV file, in row order; raise CsvImportError listing every problem.

    `known_sites` are the configured site ids; `known_devices` are the ids a parent may name
    besides the file's own. An id that is also in `known_devices` is no error: importing a
    file again meets its own earlier output there. `progress(done, total)` hears of each
    row validated.
    """
    issues = _Issues(path)
    records = list(_records(path, issues))
    issues.raise_any()
    if not records:
        issues.add(1, "(file)", "no header row")
        issues.raise_any()
    (header_row, header), rows = records[0], records[1:]
    layout, names = _header(header_row, header, issues)
    missing = [field for field in REQUIRED if field not in names]
    for field in missing:
        issues.add(header_row, field, "missing required column")
    if missing:
        issues.raise_any()  # every row would miss it too; that says nothing more
    devices: list[Device] = []
    refs: list[_Ref] = []
    for done, (row, cells) in enumerate(rows, 1):
        if progress is not None:
            progress(done, len(rows))
        values = _values(row, cells, layout, issues)
        try:
            device = Device.model_validate(values)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                issues.add(row, names.get(field, "(row)"), error_message(error))
            refs.append(_Ref.partial(row, values, bad))
        else:
            devices.append(device)
            refs.append(_Ref(row, device.id, device.address, device.site, device.parents))
    for row, field, message in _cross_check(refs, set(known_sites), set(known_devices)):
        issues.add(row, names[field], message)
    issues.raise_any()
    return devices


@dataclass(frozen=True, slots=True)
class _Ref:
    """What the cross-checks need of a row; None where the row's own value is invalid."""

    row: int
    id: str | None
    address: str | None
    site: str | None
    parents: tuple[str, ...]

    @classmethod
    def partial(cls, row: int, values: dict[str, Any], bad: set[str]) -> _Ref:
        """An invalid row still takes part with its valid fields: one pass finds everything."""

        def good(field: str) -> Any:
            return values.get(field) if field not in bad else None

        address = good("address")
        return cls(
            row,
            good("id"),
            _ADDRESS.validate_python(address) if address is not None else None,
            good("site"),
            good("parents") or (),
        )


def _records(path: Path, issues: _Issues) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, stripped cells) of every row that is not fully empty."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        issues.add(0, "(file)", f"cannot read: {exc.strerror}")
        return
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (.xlsx), OLE2 (.xls)
        issues.add(1, "(file)", "an Excel workbook, not CSV: save it as CSV UTF-8 first")
        return
    try:
        text = raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # Excel's plain "CSV" on a Chinese Windows (GBK)
        except UnicodeDecodeError:
            issues.add(1, "(file)", "neither UTF-8 nor GBK text")
            return
    # A spreadsheet row is a CSV record, not a text line: a quoted cell may hold line breaks.
    row = 0
    try:
        for row, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            cells = [cell.strip() for cell in record]
            if any(cells):
                yield row, cells
    except csv.Error as exc:
        issues.add(row + 1, "(file)", f"not valid CSV: {exc}")


def _header(row: int, cells: list[str], issues: _Issues) -> tuple[list[str | None], dict[str, str]]:
    """The field of each column (None: ignored) and the header each field was written as."""
    layout: list[str | None] = []
    names: dict[str, str] = {}
    for cell in cells:
        field = _COLUMNS.get(_key(cell))
        if not cell:
            layout.append(_NO_HEADER)
        elif field is None:
            issues.add(row, cell, "unknown column")
            layout.append(None)
        elif field in names:
            issues.add(row, cell, f"same column as {names[field]!r}")
            layout.append(None)
        else:
            names[field] = cell
            layout.append(field)
    return layout, names


def _values(
    row: int, cells: list[str], layout: list[str | None], issues: _Issues
) -> dict[str, Any]:
    """The row as Device fields; blank cells are left out so that defaults apply."""
    values: dict[str, Any] = {}
    for position, cell in enumerate(cells):
        field = layout[position] if position < len(layout) else _NO_HEADER
        if not cell or field is None:
            continue
        if field == _NO_HEADER:
            issues.add(row, f"column {position + 1}", "a value in a column without a header")
        else:
            values[field] = _convert(field, cell)
    return values


def _convert(field: str, cell: str) -> Any:
    """Spreadsheet spellings -> what Device accepts; anything else is left for it to reject."""
    if field == "kind":
        return _KIND_NAMES.get(_key(cell), cell)
    if field == "criticality":
        return _CRITICALITY_NAMES.get(_key(cell), cell)
    if field == "parents":
        return tuple(p.strip() for p in _PARENT_SEPARATORS.split(cell) if p.strip())
    if field in ("install_date", "warranty_end"):
        match = _SLASH_OR_DASH_DATE.fullmatch(cell)
        if match:
            year, month, day = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return cell


def _cross_check(
    refs: list[_Ref], known_sites: set[str], known_devices: set[str]
) -> Iterator[tuple[int, str, str]]:
    """(row, field, message) for what no single row shows; the loader's wording again."""
    rows: dict[str, int] = {}
    addresses: dict[str, _Ref] = {}
    for ref in refs:
        if ref.id is not None:
            if ref.id in rows:
                yield ref.row, "id", f"duplicate device id {ref.id!r} (also row {rows[ref.id]})"
            rows.setdefault(ref.id, ref.row)
        if ref.address is not None:
            other = addresses.setdefault(ref.address, ref)
            if other is not ref:
                owner = f"{other.id!r} " if other.id is not None else ""
                used = f"is already used by {owner}(row {other.row})"
                yield ref.row, "address", f"address {ref.address} {used}"
        if ref.site is not None and ref.site not in known_sites:
            yield ref.row, "site", f"unknown site {ref.site!r}"
    for ref in refs:
        for parent in ref.parents:
            if parent == ref.id:
                yield ref.row, "parents", "a device cannot be its own parent"
            elif parent not in rows and parent not in known_devices:
                yield ref.row, "parents", f"unknown parent {parent!r}"
    yield from _cycles(refs)


def _cycles(refs: list[_Ref]) -> Iterator[tuple[int, str, str]]:
    """Each parent cycle within the file once, at the row whose parent closes it."""
    parents: dict[str, tuple[str, ...]] = {}
    rows: dict[str, int] = {}
    for ref in refs:
        if ref.id is not None and ref.id not in parents:
            parents[ref.id], rows[ref.id] = ref.parents, ref.row
    state: dict[str, bool] = {}  # False: on the current path; True: fully explored
    for start, own in parents.items():
        if start in state:
            continue
        state[start] = False
        path, pending = [start], [iter(own)]
        while pending:
            node, parent = path[-1], next(pending[-1], None)
            if parent is None:
                state[node] = True
                path.pop()
                pending.pop()
            elif parent in parents and parent != node and state.get(parent) is False:
                cycle = " -> ".join([*path[path.index(parent) :], parent])
                yield rows[node], "parents", f"parent cycle: {cycle}"
            elif parent in parents and parent not in state:
                state[parent] = False
                path.append(parent)
                pending.append(iter(parents[parent]))


class _FlowList(list[str]):
    """A list written inline, `[a, b]`, as people write parents by hand."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, like the example configuration does.
        super().increase_indent(flow, False)


_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def devices_to_yaml(devices: Sequence[Device]) -> str:
    """A `devices:` document that the configuration can include; unset fields left out."""
    items: list[dict[str, Any]] = []
    for device in devices:
        item = device.model_dump(mode="json", exclude_defaults=True)
        for field in ("install_date", "warranty_end"):
            if field in item:  # a YAML date reads better than a quoted string
                item[field] = getattr(device, field)
        if "parents" in item:
            item["parents"] = _FlowList(item["parents"])
        items.append(item)
    text: str = yaml.dump(
        {"devices": items}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000
    )
    return text
