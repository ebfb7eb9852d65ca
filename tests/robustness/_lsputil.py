"""Applying LSP text edits in a given position encoding, independently of the product's converters."""
from __future__ import annotations


def _line_starts(text: str) -> list:
    import re

    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    return starts


def char_col(line_text: str, units: int, enc: str) -> int:
    if enc == "utf-32":
        return min(units, len(line_text))
    n = 0
    for i, ch in enumerate(line_text):
        if n >= units:
            return i
        n += len(ch.encode("utf-8", "surrogatepass")) if enc == "utf-8" else (2 if ord(ch) > 0xFFFF else 1)
    return len(line_text)


def units_of(line_text: str, col: int, enc: str) -> int:
    prefix = line_text[:col]
    if enc == "utf-32":
        return len(prefix)
    if enc == "utf-8":
        return len(prefix.encode("utf-8", "surrogatepass"))
    return len(prefix.encode("utf-16-le", "surrogatepass")) // 2


def offset(text: str, pos: dict, enc: str) -> int:
    starts = _line_starts(text)
    line = pos["line"]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    line_text = text[start:end].rstrip("\r\n")
    return start + char_col(line_text, pos["character"], enc)


def apply(text: str, edits: list, enc: str) -> str:
    spans = sorted(((offset(text, e["range"]["start"], enc), offset(text, e["range"]["end"], enc), e["newText"]) for e in edits), reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text
