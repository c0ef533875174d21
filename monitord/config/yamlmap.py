"""YAML parsing that remembers where every value came from, so errors can name file:line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import yaml

Path_ = tuple[str | int, ...]

_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))
# The first characters for which YAML 1.1 has implicit tags (bool, null, numbers, times, ...).
_TAGGED_FIRST = frozenset(k for k in yaml.SafeLoader.yaml_implicit_resolvers if k)


class _Resolving:
    """PyYAML's tag resolution of plain scalars, once per distinct value: libyaml calls it in
    Python for each of the ~220 000 scalars of a 10 000-device file (0.2 s, as much as the C
    parse), and most are the same few words (kind: camera) or start with a letter that no
    implicit tag starts with. Exact only without path resolvers and wildcard resolvers,
    which SafeLoader has neither of (checked where this is used)."""

    _tags: dict[str, str]

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0] or (value and value[0] not in _TAGGED_FIRST):
                return _STR  # quoted, or no implicit tag can match
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)  # type: ignore[misc]
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP


def _loader() -> type[yaml.SafeLoader]:
    """libyaml's parser is ~10x faster than the pure-Python one on a 10 000-device file; its
    nodes carry the same marks, so errors keep their file:line. Without libyaml (or with
    resolvers _Resolving does not know), the same in Python."""
    base: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)
    if base is None or base.yaml_path_resolvers or None in base.yaml_implicit_resolvers:
        return base or yaml.SafeLoader

    class Loader(_Resolving, base):  # type: ignore[valid-type,misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._tags = {}

    return Loader


_Loader = _loader()

# Aliases let a few hundred bytes stand for billions of values (the "billion laughs"), and
# validation expands them. A configuration is written by hand: refuse more than this many
# values once aliases are expanded (the _Builder counts them without expanding anything),
# and files larger than any real fleet's.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_NODES = 1_000_000


class Lines(Protocol):
    """The line of a path in a document (1-based), None where the path has none of its own."""

    def get(self, path: Path_, /) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed YAML document with the line of every mapping key and sequence item."""

    file: Path
    data: Any
    lines: Lines
    marked: bool = True  # False: read as JSON without lines (see load_located's `marks`)

    def line_of(self, path: Path_) -> int:
        """Line of `path`, or of its nearest ancestor that has one (1-based)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return 1


@dataclass(frozen=True, slots=True)
class _DataLines:
    """Lines looked up along the built data when asked (only to place an error): for each
    list and map built, the line of each item and key, by the container's id. Recording
    them as paths (a tuple per key and item, ~120 000 of them at 10 000 devices) was a
    fifth of the load; keeping the node tree instead cost 26 MB more. A negative line is
    an alias's: the path is not followed into it (its lines are its anchor's), so an error
    there is placed at the alias."""

    root: Any
    marks: dict[int, Any]  # id(list or dict): [line of each item or key, ...]; {key: line}

    def get(self, path: Path_, /) -> int | None:
        value, line = self.root, 1
        for part in path:
            known = self.marks.get(id(value))
            if line < 0 or known is None:
                return None
            try:
                if isinstance(known, list) and isinstance(value, dict):
                    known = dict(zip(value, known, strict=False))  # lines in key order
                line, value = known[part], value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return abs(line)


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
        builder = _Builder(file, loader)
        data = None if root is None else builder.build(root)
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
    return Located(file, data, _DataLines(data, builder.marks))


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
    __slots__ = ("anchor", "is_map", "key", "line", "lines", "size", "value")

    def __init__(self, value: Any, line: int, anchor: str | None, is_map: bool) -> None:
        self.value, self.line, self.anchor, self.is_map = value, line, anchor, is_map
        self.size = 1
        self.key: str | None = None
        self.lines: list[int] = []  # of each item or key, as `_DataLines` reads them


@dataclass(slots=True)
class _Events:
    """`_Builder`'s walk over the parser's events instead of a composed tree: the same data,
    lines, alias sharing and expanded-size count, holding one event at a time."""

    file: Path
    loader: yaml.SafeLoader
    marks: dict[int, Any] = field(default_factory=dict)  # see _DataLines
    anchors: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    # One object per distinct string: a fleet repeats its site ids, parents, kinds and
    # logins thousands of times, and the models keep what is read here.
    strings: dict[str, str] = field(default_factory=dict)

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
        return Located(self.file, data, _DataLines(data, self.marks))

    def _value(self) -> Any:
        # The hot loop of a fleet's load (~180 000 events at 10 000 devices): names bound
        # locally, the open frame kept at hand, and a plain scalar's tag decided here
        # where _Resolving would (its test, without a call per scalar).
        get, strings, marks, anchors = self._get, self.strings, self.marks, self.anchors
        resolve = cast(Callable[[type[yaml.Node], str | None, Any], str], self.loader.resolve)
        plain_first = isinstance(self.loader, _Resolving)
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        stack: list[_Frame] = []
        frame: _Frame | None = None
        while True:
            event = get()
            kind = type(event)
            line = event.start_mark.line + 1
            wants_key = frame is not None and frame.key is None and frame.is_map
            if kind is scalar_event:
                text, tag = event.value, event.tag
                if (
                    tag is None
                    and plain_first
                    and (not event.implicit[0] or (text and text[0] not in _TAGGED_FIRST))
                ):
                    tag = _STR
                elif tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, text, event.implicit)
                if wants_key:
                    assert frame is not None
                    if tag != _STR or event.anchor is not None or text in frame.value:
                        raise _Unusual
                    frame.key = text
                    frame.lines.append(line)
                    continue
                value = strings.setdefault(text, text) if tag == _STR else self._scalar(event, tag)
                size, alias = 1, False
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1, line)
            elif kind is map_start or kind is seq_start:
                is_map = kind is map_start
                node, wanted = (yaml.MappingNode, _MAP) if is_map else (yaml.SequenceNode, _SEQ)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(node, None, event.implicit)
                if wants_key or tag != wanted or len(stack) >= _MAX_DEPTH:
                    raise _Unusual
                frame = _Frame({} if is_map else [], line, event.anchor, is_map)
                stack.append(frame)
                continue
            elif kind is map_end or kind is seq_end:
                done = stack.pop()
                value, size, line, alias = done.value, done.size, done.line, False
                marks[id(value)] = done.lines
                if size > MAX_EXPANDED_NODES:
                    raise _Unusual  # refused by `_load`, with its line
                if done.anchor is not None:
                    anchors[done.anchor] = (value, size, line)
                frame = stack[-1] if stack else None
            elif kind is alias_event:
                if wants_key or event.anchor not in anchors:
                    raise _Unusual  # an open anchor (refers to itself) or an unknown one
                value, size, line = anchors[event.anchor]
                alias = isinstance(value, dict | list)  # lines inside are the anchor's
            else:
                raise _Unusual
            if frame is None:
                return value
            if frame.is_map:
                if alias:
                    frame.lines[-1] = -frame.lines[-1]
                frame.value[frame.key] = value
                frame.key = None
                frame.size += 1 + size
            else:
                frame.lines.append(-line if alias else line)
                frame.value.append(value)
                frame.size += size

    @property
    def _get(self) -> Callable[[], Any]:
        get: Callable[[], Any] = self.loader.get_event
        return get

    def _scalar(self, event: yaml.ScalarEvent, tag: str) -> Any:
        node = yaml.ScalarNode(tag, event.value, style=event.style)  # errors: `_load` again
        value = self.loader.construct_object(node)
        self.loader.constructed_objects.pop(node, None)  # nothing refers to it again
        return value


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


_MERGE = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class _Builder:
    """One walk over the node tree that builds the data and refuses alias bombs (lines
    are looked up only when an error needs one: _DataLines).

    Plain maps, lists and strings are built here (PyYAML's constructor is most of the load
    time at fleet size); every other scalar, merge keys (`<<`) and explicit tags go to
    PyYAML's safe constructor, so the values are exactly what `yaml.safe_load` gives.

    An alias is the same node object as its anchor: the second time a collection node is
    met, its value is shared (as `yaml.safe_load` shares it) and not walked again; its
    expanded size, known from the first walk, is added to the count. So a document is walked
    once whatever its aliases, and one whose values expand beyond MAX_EXPANDED_NODES is
    refused before anything expands it.
    """

    file: Path
    loader: yaml.SafeLoader
    built: dict[int, tuple[Any, int]] = field(default_factory=dict)  # id(node): (value, size)
    marks: dict[int, Any] = field(default_factory=dict)  # see _DataLines
    open_: set[int] = field(default_factory=set)
    size: int = 0  # expanded size of the node built last

    def build(self, node: yaml.Node) -> Any:
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
        value, size = self._collection(node)
        self.open_.discard(key)
        if size > MAX_EXPANDED_NODES:
            raise YamlError(self.file, node.start_mark.line + 1,
                            f"aliases expand to more than {MAX_EXPANDED_NODES} values")  # fmt: skip
        self.built[key] = (value, size)
        self.size = size
        return value

    def _collection(self, node: yaml.Node) -> tuple[Any, int]:
        size, built = 1, self.built
        if isinstance(node, yaml.SequenceNode):
            items, lines = [], []
            for item in node.value:
                line = item.start_mark.line + 1
                lines.append(-line if id(item) in built and item.tag != _STR else line)
                items.append(self.build(item))
                size += self.size
            value = items if node.tag == _SEQ else self.loader.construct_object(node, deep=True)
            self.marks[id(value)] = lines
            return value, size
        assert isinstance(node, yaml.MappingNode)
        out: dict[Any, Any] = {}
        lines = []  # in the order of the keys (a built map keeps it)
        merged = False
        for key_node, value_node in node.value:
            merged = merged or key_node.tag == _MERGE
            key = str(key_node.value)
            if key in out:
                raise YamlError(self.file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            line = key_node.start_mark.line + 1
            lines.append(-line if id(value_node) in built and value_node.tag != _STR else line)
            out[key] = self.build(value_node)
            size += 1 + self.size
        if merged or node.tag != _MAP or any(k.tag != _STR for k, _ in node.value):
            constructed = self.loader.construct_object(node, deep=True)
            self.marks[id(constructed)] = dict(zip(out, lines, strict=True))
            return constructed, size
        self.marks[id(out)] = lines
        return out, size


def dotted(path: Path_) -> str:
    """('devices', 3, 'address') -> 'devices[3].address'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top)"
