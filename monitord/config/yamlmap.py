"""YAML parsing that remembers where every value came from, so errors can name file:line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

# Aliases let a few hundred bytes stand for billions of values (the "billion laughs"), and
# everything after parsing (validation, _walk below) expands them. A configuration is
# written by hand: refuse more than this many values once aliases are expanded, and files
# larger than any real fleet's.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_EXPANDED_NODES = 1_000_000


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed YAML document with the line of every mapping key and sequence item."""

    file: Path
    data: Any
    lines: dict[Path_, int]

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


def load_located(file: Path) -> Located:
    """Parse `file`; raise YamlError on syntax errors or duplicate keys."""
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlError(file, 1, f"{size} bytes: larger than {MAX_FILE_BYTES}")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlError(file, 0, f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise YamlError(file, 1, "not UTF-8 text") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _refuse_bombs(file, root)
        data = yaml.safe_load(text)
    except RecursionError as exc:  # nesting thousands deep: the parser recurses
        raise YamlError(file, 1, "nested too deeply") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(file, line, f"invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(file, 1, f"invalid YAML: {exc}") from exc
    lines: dict[Path_, int] = {(): 1}
    if root is not None:
        _walk(file, root, (), lines)
    return Located(file, data, lines)


def _refuse_bombs(file: Path, root: yaml.Node) -> None:
    """Count the values the document expands to, without expanding it: an alias is the same
    node object as its anchor, so each node's size is computed once. An alias inside its own
    anchor (`x: &r [*r]`) would expand forever."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    # An explicit stack, not recursion: a deep document must not blow Python's stack here.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_EXPANDED_NODES:
                raise YamlError(file, node.start_mark.line + 1,
                                f"aliases expand to more than {MAX_EXPANDED_NODES} values")  # fmt: skip
            continue
        if key in sizes:
            continue
        if key in open_:
            raise YamlError(file, node.start_mark.line + 1, "an alias refers to itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(file: Path, node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise YamlError(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(file, value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(file, item, (*path, index), lines)


def dotted(path: Path_) -> str:
    """('devices', 3, 'address') -> 'devices[3].address'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top)"
