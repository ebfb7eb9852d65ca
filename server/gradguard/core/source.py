"""Source text and the one place that converts between position conventions.

Internally a position is ``(line, column)`` with a 1-based line and a 0-based column counted in
Unicode code points (characters). ``ast`` reports columns in UTF-8 bytes; LSP wants UTF-16 code units
(or UTF-8 when negotiated). Every conversion lives here.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from typing import Optional


@dataclass(frozen=True, order=True)
class Pos:
    line: int  # 1-based
    col: int  # 0-based, in characters


@dataclass
class SourceText:
    text: str
    path: Optional[str] = None
    _lines: list[str] = field(default_factory=list, init=False, repr=False)
    # line -> characters left of column 0 in the text the user edits (a notebook cell IPython dedents): LSP columns
    # count them
    col_shift: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # keepends so offsets add up; splitlines() would also split on \x0c, \x1c... which Python does not
        self._lines = _split_lines(self.text)

    @property
    def lines(self) -> list[str]:
        return self._lines

    def line(self, lineno: int) -> str:
        """Line ``lineno`` (1-based) without its line ending; '' when out of range."""
        if 1 <= lineno <= len(self._lines):
            return self._lines[lineno - 1].rstrip("\r\n")
        return ""

    @cached_property
    def _line_starts(self) -> list[int]:
        return list(accumulate(map(len, self._lines), initial=0))

    def offset(self, pos: Pos) -> int:
        """Character offset in ``text`` of ``pos`` (clamped to the text)."""
        if pos.line < 1:
            return 0
        if pos.line > len(self._lines):
            return len(self.text)
        start = self._line_starts[pos.line - 1]
        return start + min(max(pos.col, 0), len(self._lines[pos.line - 1]))

    def pos_at(self, offset: int) -> Pos:
        import bisect

        offset = max(0, min(offset, len(self.text)))
        if offset == len(self.text) and self.text.endswith(("\n", "\r")):
            return Pos(len(self._lines) + 1, 0)  # after the last line break (not "past the end of the last line")
        i = bisect.bisect_right(self._line_starts, offset) - 1
        i = min(i, max(len(self._lines) - 1, 0))
        return Pos(i + 1, offset - self._line_starts[i] if self._lines else 0)

    # --- ast byte columns -> characters -------------------------------------------------------
    def char_col(self, lineno: int, byte_col: int) -> int:
        ln = self.line(lineno)
        if lineno == 1 and ln.startswith("\ufeff"):
            ln = "\x0c" + ln[1:]  # analyze() parses a leading BOM as a form feed
        if ln.isascii():
            return byte_col
        return len(ln.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", errors="ignore"))

    def node_start(self, node: ast.AST) -> Pos:
        return Pos(node.lineno, self.char_col(node.lineno, node.col_offset))  # type: ignore[attr-defined]

    def node_end(self, node: ast.AST) -> Pos:
        end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        if end_col is None:
            return Pos(end_line, len(self.line(end_line)))
        return Pos(end_line, self.char_col(end_line, end_col))

    def segment(self, start: Pos, end: Pos) -> str:
        return self.text[self.offset(start) : self.offset(end)]

    def node_text(self, node: ast.AST) -> str:
        return self.segment(self.node_start(node), self.node_end(node))

    # --- LSP encodings ------------------------------------------------------------------------
    def to_lsp_col(self, pos: Pos, encoding: str = "utf-16") -> int:
        shift = self.col_shift.get(pos.line, 0) if self.col_shift else 0  # (spaces or tabs: one unit each)
        ln = self.line(pos.line)
        prefix = ln[: pos.col]
        if encoding == "utf-32" or prefix.isascii():
            return (len(prefix) if encoding != "utf-32" else pos.col) + shift
        if encoding == "utf-8":  # surrogatepass: a lone surrogate (possible in JSON text) must not crash
            return len(prefix.encode("utf-8", "surrogatepass")) + shift
        return len(prefix.encode("utf-16-le", "surrogatepass")) // 2 + shift

    def from_lsp(self, line0: int, character: int, encoding: str = "utf-16") -> Pos:
        """LSP (0-based line, column in ``encoding`` units) -> Pos, clamped to the document."""
        lineno = line0 + 1
        if lineno > len(self._lines):
            return Pos(max(len(self._lines), 1), len(self.line(len(self._lines))) if self._lines else 0)
        if lineno < 1:
            return Pos(1, 0)
        ln = self.line(lineno)
        if self.col_shift:
            character -= self.col_shift.get(lineno, 0)
        if encoding == "utf-32" or ln.isascii():
            return Pos(lineno, min(max(character, 0), len(ln)))
        units = 0
        for i, ch in enumerate(ln):
            if units >= character:
                return Pos(lineno, i)
            units += len(ch.encode("utf-8", "surrogatepass")) if encoding == "utf-8" else (2 if ord(ch) > 0xFFFF else 1)
        return Pos(lineno, len(ln))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` with their ends, as Python numbers them."""
    return _split_lines(text)


def _split_lines(text: str) -> list[str]:
    """Split like the Python tokenizer does: on \\n, \\r\\n and \\r only (not on \\f, \\x85...)."""
    if "\r" in text:
        return _LINE.findall(text)
    if text.isascii() and "\x0b" not in text and "\x0c" not in text and "\x1c" not in text and "\x1d" not in text and "\x1e" not in text:
        return text.splitlines(True)  # (no other line boundary str.splitlines knows of: the same lines, faster still)
    lines = text.split("\n")  # the common case, several times faster than the regex (the same lines)
    last = lines.pop()
    out = [ln + "\n" for ln in lines]
    if last:
        out.append(last)
    return out
