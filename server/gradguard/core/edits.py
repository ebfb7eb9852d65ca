"""Applying text edits, and the guard that no fix ever yields code that fails to parse."""
from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Callable, Optional

from gradguard.core.model import Edit, Fix
from gradguard.core.source import SourceText


def apply_edits(source: SourceText, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (overlaps: later ones are skipped)."""
    spans = sorted(((source.offset(e.start), source.offset(e.end), e.content) for e in edits), key=lambda s: (s[0], s[1]))
    out, pos, last_end = [], 0, -1
    text = source.text
    for a, b, content in spans:
        if a < last_end:
            continue
        out.append(text[pos:a])
        out.append(content)
        pos = b
        last_end = b
    out.append(text[pos:])
    return "".join(out)


def fix_parses(source: SourceText, fix: Fix) -> bool:
    try:
        ast.parse(apply_edits(source, fix.edits))
        return True
    except (SyntaxError, ValueError):
        return False


def checked(source: SourceText, build: Callable[[], Optional[Fix]]) -> Callable[[], Optional[Fix]]:
    """Wrap a fix builder so that a fix producing unparsable code is never offered."""

    def run() -> Optional[Fix]:
        fix = build()
        if fix is None or not fix.edits:
            return None
        return fix if fix_parses(source, fix) else None

    return run
