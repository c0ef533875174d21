"""Load the configuration and report every problem as `file:line: dotted.path: what is wrong`."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from monitord.config.bulk import collector_paused
from monitord.config.contracts import Contract
from monitord.config.models import (
    Config,
    Device,
    DeviceKind,
    IcmpOverrides,
    IcmpSettings,
    KindDefaults,
    Site,
)
from monitord.config.notify import url_problems
from monitord.config.oncall import unknown_places
from monitord.config.snapfile import glob_include
from monitord.config.yamlmap import Located, Path_, YamlError, dotted, load_located

_LISTS = ("contracts", "sites", "devices")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: Path
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.path}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a configuration, in file order."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (str(i.file), i.line, i.path))
        super().__init__("\n".join(map(str, self.issues)))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[ConfigIssue]]]:
        return ConfigError, (self.issues,)  # a reload's child sends it (config/offload.py)


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where item `index` of a merged list came from."""

    source: Located
    index: int


class _Sources:
    """Maps a path in the merged document back to a file and line."""

    def __init__(self, main: Located) -> None:
        self.main = main
        self.origins: dict[str, list[_Origin]] = {name: [] for name in _LISTS}

    def keep_valid(self, items: dict[str, list[Any]]) -> None:
        """Renumber origins after invalid items were dropped from the merged lists."""
        for name, values in items.items():
            self.origins[name] = [
                o for o, v in zip(self.origins[name], values, strict=True) if v is not None
            ]

    def locate(self, path: Path_, message: str) -> ConfigIssue:
        # pydantic marks a bad dict key with a '[key]' step that is not in the YAML.
        path = tuple(part for part in path if part != "[key]")
        if len(path) >= 2 and path[0] in self.origins and isinstance(path[1], int):
            origins = self.origins[str(path[0])]
            if path[1] < len(origins):
                origin = origins[path[1]]
                local = (path[0], origin.index, *path[2:])
                line = origin.source.line_of(local)
                return ConfigIssue(origin.source.file, line, dotted(local), message)
        return ConfigIssue(self.main.file, self.main.line_of(path), dotted(path), message)

    def refer(self, here: Path_, there: Path_) -> str:
        """Name `there` for a message reported at `here`: its own path, plus its file if other."""
        a, b = self.locate(here, ""), self.locate(there, "")
        if a.file == b.file:
            return b.path
        base = self.main.file.parent
        name = b.file.relative_to(base) if b.file.is_relative_to(base) else b.file
        return f"{b.path} in {name}"


def load(file: Path) -> Config:
    """Parse and validate `file` and its includes; raise ConfigError listing every problem.

    Files that are JSON are first read without lines (yamlmap's fast path); if anything is
    wrong, everything is read again with lines, so every error still names its file:line."""
    unmarked: list[Path] = []
    with collector_paused():
        try:
            return _load(file, False, unmarked)
        except ConfigError:
            if not unmarked:
                raise
        return _load(file, True, unmarked)


def _load(file: Path, marks: bool, unmarked: list[Path]) -> Config:
    try:
        main = load_located(file, marks)
    except YamlError as exc:
        raise ConfigError([ConfigIssue(exc.file, exc.line, "(file)", exc.message)]) from None
    unmarked += [] if main.marked else [file]
    sources = _Sources(main)
    issues: list[ConfigIssue] = []
    if main.data is None:
        main = Located(main.file, {}, main.lines)
    if not isinstance(main.data, dict):
        raise ConfigError([ConfigIssue(file, 1, "(top)", "must be a mapping of settings")])
    document = dict(main.data)
    for name in _LISTS:
        items = document.get(name) or []
        if not isinstance(items, list):
            issues.append(sources.locate((name,), "must be a list"))
            items = []
        sources.origins[name] = [_Origin(main, i) for i in range(len(items))]
        document[name] = list(items)
    included = _included(file, document.get("include") or [], sources, issues, marks)
    for extra in included:
        for name in _LISTS:
            items = extra.data.get(name) or []
            sources.origins[name] += [_Origin(extra, i) for i in range(len(items))]
            document[name] += items
    unmarked += (extra.file for extra in included if not extra.marked)
    config, invalid_ids = _validate(document, sources, issues)
    semantic = _semantic(config, invalid_ids, sources.refer)
    issues += (sources.locate(path, message) for path, message in semantic)
    if issues:
        raise ConfigError(issues)
    return config


def _validate(
    document: dict[str, Any], sources: _Sources, issues: list[ConfigIssue]
) -> tuple[Config, set[str]]:
    """Validate item by item, so one broken device does not hide the others' errors.

    Returns the config of the valid items and the ids of devices that failed validation
    (as 'sites:ID' / 'devices:ID', so references to them are not reported as unknown).
    """
    top = {k: v for k, v in document.items() if k not in _LISTS}
    try:
        config = Config.model_validate(top)
    except ValidationError as exc:
        issues += (sources.locate(e["loc"], _message(e)) for e in exc.errors())
        config = Config()
    valid: dict[str, list[Any]] = {name: [] for name in _LISTS}
    invalid_ids: set[str] = set()
    for name, model in (("contracts", Contract), ("sites", Site), ("devices", Device)):
        for i, item in enumerate(document[name]):
            try:
                valid[name].append(model.model_validate(item))
            except ValidationError as exc:
                issues += (sources.locate((name, i, *e["loc"]), _message(e)) for e in exc.errors())
                if isinstance(item, dict) and "id" in item:
                    invalid_ids.add(f"{name}:{item['id']}")
                valid[name].append(None)
    sources.keep_valid(valid)
    lists = {name: tuple(item for item in valid[name] if item is not None) for name in _LISTS}
    return config.model_copy(update=lists), invalid_ids


def _included(
    file: Path, patterns: Any, sources: _Sources, issues: list[ConfigIssue], marks: bool
) -> list[Located]:
    return list(_each_included(file, patterns, sources, issues, marks))


def _each_included(
    file: Path, patterns: Any, sources: _Sources, issues: list[ConfigIssue], marks: bool
) -> Iterator[Located]:
    if not isinstance(patterns, list):
        issues.append(sources.locate(("include",), "must be a list of file patterns"))
        return
    for n, pattern in enumerate(patterns):
        try:
            matches = glob_include(file.parent, str(pattern))
        except (ValueError, IndexError):
            # pathlib rejects '' with ValueError and '.' with IndexError.
            issues.append(sources.locate(("include", n), f"bad file pattern {pattern!r}"))
            continue
        if not matches:
            issues.append(sources.locate(("include", n), f"no file matches {pattern!r}"))
        for path in matches:
            try:
                extra = load_located(path, marks)
            except YamlError as exc:
                issues.append(ConfigIssue(exc.file, exc.line, "(file)", exc.message))
                continue
            data = extra.data or {}
            wrong = [key for key in data if key not in _LISTS] if isinstance(data, dict) else [""]
            if wrong or any(not isinstance(data.get(k, []) or [], list) for k in _LISTS):
                issues.append(
                    ConfigIssue(
                        path,
                        1,
                        "(top)",
                        "an included file holds only 'contracts', 'sites' and 'devices' lists",
                    )
                )
                continue
            yield Located(path, data, extra.lines, extra.marked)


def _message(error: ErrorDetails) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown setting"
    return msg.removeprefix("Value error, ")


def _unique_ids(
    what: str, ids: list[str], refer: Callable[[Path_, Path_], str]
) -> Generator[tuple[Path_, str], None, dict[str, int]]:
    """Report each repeated id at its second place; return the index of each id's first."""
    first: dict[str, int] = {}
    lists = f"{what}s"
    for i, item in enumerate(ids):
        if item in first:
            other = refer((lists, i), (lists, first[item]))
            yield (lists, i, "id"), f"duplicate {what} id {item!r} (also {other})"
        first.setdefault(item, i)
    return first


def _semantic(
    config: Config, invalid_ids: set[str], refer: Callable[[Path_, Path_], str]
) -> Iterator[tuple[Path_, str]]:
    """Cross-references that a single field cannot check on its own."""
    contract_ids = yield from _unique_ids("contract", [c.id for c in config.contracts], refer)
    site_ids = yield from _unique_ids("site", [s.id for s in config.sites], refer)
    for i, site in enumerate(config.sites):
        known = site.contract is None or site.contract in contract_ids
        if not known and f"contracts:{site.contract}" not in invalid_ids:
            yield ("sites", i, "contract"), f"unknown contract {site.contract!r}"
    device_ids = yield from _unique_ids("device", [d.id for d in config.devices], refer)
    # An address is one host only on one network: sites behind different pollers (each its
    # own LAN, often all 192.168.1.0/24) may repeat it; the centre's local sites, or the
    # sites of one poller, may not: one prober would reach one host for both.
    poller_of = {site.id: site.poller for site in config.sites}
    addresses: dict[tuple[str, str], int] = {}
    for i, device in enumerate(config.devices):
        key = (poller_of.get(device.site, "local"), device.address)
        if key in addresses:
            other = config.devices[addresses[key]].id
            yield (
                ("devices", i, "address"),
                f"address {device.address} is already used by {other!r}",
            )
        addresses.setdefault(key, i)
        if device.site not in site_ids and f"sites:{device.site}" not in invalid_ids:
            yield ("devices", i, "site"), f"unknown site {device.site!r}"
    for i, device in enumerate(config.devices):
        for p, parent in enumerate(device.parents):
            if parent == device.id:
                yield ("devices", i, "parents", p), "a device cannot be its own parent"
            elif parent not in device_ids and f"devices:{parent}" not in invalid_ids:
                yield ("devices", i, "parents", p), f"unknown parent {parent!r}"
    yield from _icmp_fits(config)
    yield from _cycles(config.devices, device_ids)
    n = config.notify
    yield from unknown_places(n.oncall, n.escalation, n.quiet_hours, {*contract_ids}, {*site_ids})
    yield from url_problems(n.channels)
    yield from _windows(config, site_ids, device_ids)
    if config.centre.ha.enabled and not config.database_url.startswith("postgresql"):
        why = "every centre must share one database, and a SQLite file belongs to one host"
        yield (
            ("centre", "ha", "enabled"),
            f"centre HA needs PostgreSQL (database: postgresql://…): {why}",
        )


def _windows(
    config: Config, site_ids: dict[str, int], device_ids: dict[str, int]
) -> Iterator[tuple[Path_, str]]:
    """Maintenance windows name a known site, device and kind."""
    kinds = [k.value for k in DeviceKind]
    for i, w in enumerate(config.maintenance):
        if w.site is not None and w.site not in site_ids:
            yield ("maintenance", i, "site"), f"unknown site {w.site!r}"
        if w.device is not None and w.device not in device_ids:
            yield ("maintenance", i, "device"), f"unknown device {w.device!r}"
        if w.kind is not None and w.kind not in kinds:
            yield ("maintenance", i, "kind"), f"unknown kind {w.kind!r} ({', '.join(kinds)})"


def _icmp_fits(config: Config) -> Iterator[tuple[Path_, str]]:
    """Check ICMP settings at the level that breaks them: global, kind defaults or device.

    A level is blamed only when the level it inherits from is fine, so one bad global
    setting yields one error rather than one per device; and defaults are checked even
    when no device uses them yet.
    """
    levels: list[tuple[Path_, list[IcmpOverrides]]] = [(("icmp",), [config.icmp])]
    for kind, defaults in config.probe_defaults.items():
        levels.append((("probe_defaults", kind.value, "icmp"), [config.icmp, defaults.icmp]))
    for i, device in enumerate(config.devices):
        if not device.icmp.model_fields_set:
            continue  # inherits its kind's defaults, checked above: one error, not 10 000
        by_kind = config.probe_defaults.get(device.kind, KindDefaults()).icmp
        levels.append((("devices", i, "icmp"), [config.icmp, by_kind, device.icmp]))
    for path, chain in levels:
        errors = _icmp_errors(chain)
        if errors and (len(chain) == 1 or not _icmp_errors(chain[:-1])):
            yield from (((*path, *e["loc"]), _message(e)) for e in errors)


def _icmp_errors(chain: list[IcmpOverrides]) -> list[ErrorDetails]:
    merged: dict[str, Any] = {}
    for level in chain:
        merged.update(level.model_dump(exclude_none=True))
    try:
        IcmpSettings(**merged)
    except ValidationError as exc:
        return exc.errors()
    return []


def _cycles(devices: tuple[Device, ...], index: dict[str, int]) -> Iterator[tuple[Path_, str]]:
    """Report each parent cycle once, at the device where the walk closed it."""
    done: set[str] = set()
    for start in devices:
        stack: list[tuple[str, Iterator[str]]] = [(start.id, iter(start.parents))]
        on_path = [start.id]
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                on_path.pop()
                done.add(node)
                continue
            if parent not in index or parent in done or parent == node:
                continue
            if parent in on_path:
                cycle = [*on_path[on_path.index(parent) :], parent]
                position = devices[index[node]].parents.index(parent)
                yield (
                    ("devices", index[node], "parents", position),
                    ("parent cycle: " + " -> ".join(cycle)),
                )
                continue
            on_path.append(parent)
            stack.append((parent, iter(devices[index[parent]].parents)))
