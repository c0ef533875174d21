"""Every Chinese word a reader sees comes from the catalogue (monitord/present/i18n.py).

The scan tokenizes each module of monitord/ and looks at its string literals only: comments
and docstrings may quote the contract's Chinese terms (they explain the code, nobody is shown
them). A few files hold Chinese as data, not wording, and are allowed whole; a few CLI help
texts quote a contract term beside the English, allowed term by term.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import monitord

ROOT = Path(monitord.__file__).parent

# Ideographs, CJK punctuation and full-width forms (the "：", "，" of Chinese text).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")

# Files whose Chinese is data, allowed whole, with the reason.
DATA_FILES = {
    "present/i18n.py": "the catalogue itself",
    "prevention/checklists.py": "seed inspection checklists: each item carries its en/zh label",
    "inventory/csv_import.py": "header and value aliases a customer's spreadsheet may use",
    "cli/demo.py": "names of the demo site and its devices, written into the demo config",
}

# CLI help texts that quote a contract term next to the English, term by term.
QUOTED_TERMS = {
    "cli/lazy.py": {"用户回访"},
    "cli/prevention.py": {"服务态度", "责任心", "服务效果", "满意度评分", "确属工程质量问题"},
}

_STRING_TOKENS = {tokenize.STRING} | {
    getattr(tokenize, name) for name in ("FSTRING_MIDDLE",) if hasattr(tokenize, name)
}  # Python 3.12 splits f-strings into parts


def literals(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal of `source` that is not a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.add((first.value.lineno, first.value.col_offset))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _STRING_TOKENS and token.start not in docstrings:
            yield token.start[0], token.string


def inline_wording(source: str, allowed: set[str]) -> list[tuple[int, str]]:
    return [
        (line, run)
        for line, text in literals(source)
        for run in CJK.findall(text)
        if run not in allowed
    ]


def test_scanner_finds_literals_not_comments_or_docstrings() -> None:
    source = (
        '"""设备档案 in a module docstring."""\n'
        "def f() -> str:\n"
        '    """用户回访 in a function docstring."""\n'
        "    # 工单 in a comment\n"
        '    x = "ok"\n'
        '    return f"{x} 工单 #{1}，" + "故障"\n'
    )
    assert inline_wording(source, set()) == [(6, "工单"), (6, "，"), (6, "故障")]
    assert inline_wording(source, {"工单", "，", "故障"}) == []


def test_allowlists_are_current() -> None:
    for path in (*DATA_FILES, *QUOTED_TERMS):
        assert (ROOT / path).is_file(), f"{path} is gone: drop it from the allowlist"
    for path in DATA_FILES:
        assert _chinese(path), f"{path} has no Chinese literal left: drop it from DATA_FILES"
    for path, terms in QUOTED_TERMS.items():
        assert terms <= _chinese(path), f"{path}: {sorted(terms - _chinese(path))} not quoted"


def _chinese(path: str) -> set[str]:
    source = (ROOT / path).read_text("utf-8")
    return {run for _, text in literals(source) for run in CJK.findall(text)}


def test_no_chinese_wording_outside_the_catalogue() -> None:
    modules = sorted(ROOT.rglob("*.py"))
    assert len(modules) > 100  # the scan covers the package
    found = [
        f"{path.relative_to(ROOT)}:{line}: {run}"
        for path in modules
        if path.relative_to(ROOT).as_posix() not in DATA_FILES
        for line, run in inline_wording(
            path.read_text("utf-8"), QUOTED_TERMS.get(path.relative_to(ROOT).as_posix(), set())
        )
    ]
    assert not found, "wording belongs in monitord/present/i18n.py:\n" + "\n".join(found)
