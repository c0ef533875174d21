"""YAML parsing that remembers where every value came from, so errors can name file:line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

Path_ = tuple[str | int, ...]

# libyaml's parser is ~10x faster than the pure-Python one on a 10 000-device file; its nodes
# carry the same marks, so errors keep their file:line. Without libyaml, the same in Python.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Aliases let a few hundred bytes stand for billions of values (the "billion laughs"), and
# validation expands them. A configuration is written by hand: refuse more than this many
# values once aliases are expanded (the _Builder counts them without expanding anything),
# and files larger than any real fleet's.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_NODES = 1_000_000


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed YAML document with the line of every mapping key and sequence item."""

    file: Path
    data: Any
    lines: dict[Path_, int]
    marked: bool = True  # False: read as JSON without lines (see load_located's `marks`)

    def line_of(self, path: Path_) -> int:
        """Line of `path`, or of its nearest ancestor that has one (1-based)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return 1


class YamlError(Exception):
    """A file that is not valid YAML; `line` is 1-based."""

    def __init__(self, file: Path, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


def load_located(file: Path, marks: bool = True) -> Located:
    """Parse `file`; raise YamlError on syntax errors or duplicate keys.

    `marks=False`: a file that is plain JSON (YAML's subset) is read by the json module
    without recording lines (`marked` False): 0.03 s instead of 1.3 s for 10 000 devices.
    The caller reads it again with marks when it has an error to place."""
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlError(file, 1, f"{size} bytes: larger than {MAX_FILE_BYTES}")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlError(file, 0, f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise YamlError(file, 1, "not UTF-8 text") from exc
    if not marks and (data := _as_json(text)) is not _NOT_JSON:
        return Located(file, data, {}, marked=False)
    try:
        return _streamed(file, text, _Loader) or _load(file, text, _Loader)
    except yaml.MarkedYAMLError:
        # libyaml words its errors differently: the pure-Python parser's are the documented
        # ones, so a broken file is parsed again by it (only broken files pay for that).
        return _load(file, text, yaml.SafeLoader)


def _load(file: Path, text: str, loader_type: type[yaml.SafeLoader]) -> Located:
    loader = loader_type(text)
    try:
        root = loader.get_single_node()
        lines: dict[Path_, int] = {(): 1}
        data = None if root is None else _Builder(file, loader, lines).build(root, ())
    except yaml.MarkedYAMLError as exc:
        if loader_type is not yaml.SafeLoader:
            raise
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(file, line, f"invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(file, 1, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:  # nesting thousands deep: the composer recurses
        raise YamlError(file, 1, "nested too deeply") from exc
    finally:
        loader.dispose()
    return Located(file, data, lines)


def _streamed(file: Path, text: str, loader_type: type[yaml.SafeLoader]) -> Located | None:
    """The document built from the parser's events, or None to take `_load`'s way.

    Composing keeps the whole node tree (every node with two marks) alive until the walk
    ends: 82 MB of nodes for a 2 MB file of 10 000 devices, whose peak the daemon then keeps
    as resident memory it never uses again. Built from events, only the data and its lines
    are alive. Anything but plain maps, lists and scalars (merge keys, explicit tags,
    complex keys, several documents, deep nesting, an alias of an open or unknown anchor),
    and any problem at all, goes back to `_load`, so every value and every error is as
    before."""
    loader = loader_type(text)
    try:
        return _Events(file, loader).document()
    except (yaml.YAMLError, YamlError, _Unusual):
        return None
    finally:
        loader.dispose()


class _Unusual(Exception):
    """Not a document `_Events` builds: `_load` does."""


_MAX_DEPTH = 64


class _Frame:
    __slots__ = ("anchor", "key", "line", "path", "size", "value")

    def __init__(self, value: Any, path: Path_, line: int, anchor: str | None) -> None:
        self.value, self.path, self.line, self.anchor = value, path, line, anchor
        self.size = 1
        self.key: str | None = None


@dataclass(slots=True)
class _Events:
    """`_Builder`'s walk over the parser's events instead of a composed tree: the same data,
    lines, alias sharing and expanded-size count, holding one event at a time."""

    file: Path
    loader: yaml.SafeLoader
    lines: dict[Path_, int] = field(default_factory=lambda: {(): 1})
    anchors: dict[str, tuple[Any, int, int]] = field(default_factory=dict)

    def document(self) -> Located:
        get = self._get
        get()  # StreamStartEvent
        event = get()
        data = None
        if not isinstance(event, yaml.StreamEndEvent):
            data = self._value()
            get()  # DocumentEndEvent
            if not isinstance(get(), yaml.StreamEndEvent):
                raise _Unusual  # several documents: the composer's error
        return Located(self.file, data, self.lines)

    def _value(self) -> Any:
        get, lines = self._get, self.lines
        resolve = cast(Callable[[type[yaml.Node], str | None, Any], str], self.loader.resolve)
        stack: list[_Frame] = []
        while True:
            event = get()
            line = event.start_mark.line + 1
            frame = stack[-1] if stack else None
            wants_key = frame is not None and isinstance(frame.value, dict) and frame.key is None
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                if wants_key:
                    assert frame is not None
                    if tag != _STR or event.anchor is not None or event.value in frame.value:
                        raise _Unusual
                    frame.key = event.value
                    lines[(*frame.path, event.value)] = line
                    continue
                value, size = self._scalar(event, tag), 1
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, line)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                is_map = isinstance(event, yaml.MappingStartEvent)
                kind, wanted = (yaml.MappingNode, _MAP) if is_map else (yaml.SequenceNode, _SEQ)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(kind, None, event.implicit)
                if wants_key or tag != wanted or len(stack) >= _MAX_DEPTH:
                    raise _Unusual
                path = () if frame is None else (*frame.path, _step(frame))
                stack.append(_Frame({} if is_map else [], path, line, event.anchor))
                continue
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                done = stack.pop()
                value, size, line = done.value, done.size, done.line
                if size > MAX_EXPANDED_NODES:
                    raise _Unusual  # refused by `_load`, with its line
                if done.anchor is not None:
                    self.anchors[done.anchor] = (value, size, line)
                frame = stack[-1] if stack else None
            elif isinstance(event, yaml.AliasEvent):
                if wants_key or event.anchor not in self.anchors:
                    raise _Unusual  # an open anchor (refers to itself) or an unknown one
                value, size, line = self.anchors[event.anchor]
            else:
                raise _Unusual
            if frame is None:
                return value
            if isinstance(frame.value, list):
                lines[(*frame.path, len(frame.value))] = line
                frame.value.append(value)
                frame.size += size
            else:
                frame.value[frame.key] = value
                frame.key = None
                frame.size += 1 + size

    @property
    def _get(self) -> Callable[[], Any]:
        get: Callable[[], Any] = self.loader.get_event
        return get

    def _scalar(self, event: yaml.ScalarEvent, tag: str) -> Any:
        if tag == _STR:
            return event.value
        node = yaml.ScalarNode(tag, event.value, style=event.style)  # errors: `_load` again
        value = self.loader.construct_object(node)
        self.loader.constructed_objects.pop(node, None)  # nothing refers to it again
        return value


def _step(frame: _Frame) -> str | int:
    return len(frame.value) if isinstance(frame.value, list) else str(frame.key)


_NOT_JSON = object()
# YAML 1.1 (PyYAML) reads a number as a float only with a dot and a signed exponent: JSON's
# 1e5 or 1.0e5 are strings there. The JSON path gives what the YAML path would.
_YAML_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:[eE][-+][0-9]+)?")
# What PyYAML's reader refuses anywhere in a file (json would take some of it in strings).
_NON_PRINTABLE = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAX_SIMPLE_KEY = 1024  # YAML's limit on an implicit key's length


class _Diverges(Exception):
    """The JSON reading could differ from the YAML one: take the YAML path."""


def _as_json(text: str) -> Any:
    """`text` read as JSON exactly as the YAML path would read it, or _NOT_JSON when it is
    not JSON or when the two readings could differ (duplicate keys, which the YAML path
    reports with their line; NaN/Infinity; very long keys; characters YAML refuses)."""
    if not text.lstrip().startswith(("{", "[")) or _NON_PRINTABLE.search(text):
        return _NOT_JSON
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique,
            parse_float=lambda s: float(s) if _YAML_FLOAT.fullmatch(s) else s,
            parse_constant=_diverge,
        )
    except (ValueError, _Diverges, RecursionError):
        return _NOT_JSON


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs) or any(len(k) > _MAX_SIMPLE_KEY for k in out):
        raise _Diverges
    return out


def _diverge(_: str) -> Any:
    raise _Diverges


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class _Builder:
    """One walk over the node tree that records every line, builds the data and refuses
    alias bombs.

    Plain maps, lists and strings are built here (PyYAML's constructor is most of the load
    time at fleet size); every other scalar, merge keys (`<<`) and explicit tags go to
    PyYAML's safe constructor, so the values are exactly what `yaml.safe_load` gives.

    An alias is the same node object as its anchor: the second time a collection node is
    met, its value is shared (as `yaml.safe_load` shares it) and not walked again; its
    expanded size, known from the first walk, is added to the count. So a document is walked
    once whatever its aliases, and one whose values expand beyond MAX_EXPANDED_NODES is
    refused before anything expands it. Lines inside an alias are its anchor's: an error
    there is placed at the alias (line_of falls back to the nearest recorded ancestor).
    """

    file: Path
    loader: yaml.SafeLoader
    lines: dict[Path_, int]
    built: dict[int, tuple[Any, int]] = field(default_factory=dict)  # id(node): (value, size)
    open_: set[int] = field(default_factory=set)
    size: int = 0  # expanded size of the node built last

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.ScalarNode):
            self.size = 1
            return node.value if node.tag == _STR else self.loader.construct_object(node)
        key = id(node)
        if key in self.built:
            value, self.size = self.built[key]
            return value
        if key in self.open_:
            raise YamlError(self.file, node.start_mark.line + 1, "an alias refers to itself")
        self.open_.add(key)
        value, size = self._collection(node, path)
        self.open_.discard(key)
        if size > MAX_EXPANDED_NODES:
            raise YamlError(self.file, node.start_mark.line + 1,
                            f"aliases expand to more than {MAX_EXPANDED_NODES} values")  # fmt: skip
        self.built[key] = (value, size)
        self.size = size
        return value

    def _collection(self, node: yaml.Node, path: Path_) -> tuple[Any, int]:
        size = 1
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
                size += self.size
            if node.tag == _SEQ:
                return items, size
            return self.loader.construct_object(node, deep=True), size
        assert isinstance(node, yaml.MappingNode)
        out: dict[Any, Any] = {}
        merged = False
        for key_node, value_node in node.value:
            merged = merged or key_node.tag == _MERGE
            key = str(key_node.value)
            if key in out:
                line = key_node.start_mark.line + 1
                raise YamlError(self.file, line, f"duplicate key {key!r}")
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, (*path, key))
            size += 1 + self.size
        if merged or node.tag != _MAP or any(k.tag != _STR for k, _ in node.value):
            return self.loader.construct_object(node, deep=True), size
        return out, size


def dotted(path: Path_) -> str:
    """('devices', 3, 'address') -> 'devices[3].address'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top)"
