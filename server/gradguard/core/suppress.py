"""Suppression comments: ``# noqa: GG201``, ``# gradguard: ignore[GG201]`` on a line, and
``# gradguard: ignore-file`` / ``# gradguard: ignore-file[GG201]`` anywhere in a file."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from gradguard.core.source import SourceText

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+\d+(?:[\s,]+[A-Za-z]+\d+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*gradguard:\s*ignore(?P<file>-file)?(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
# what every match of either pattern starts with: a text without it has no suppression (one search of the whole text
# instead of two per commented line; most files have comments and none of these)
_EITHER = re.compile(r"#\s*(?:noqa|gradguard:)", re.IGNORECASE)


@dataclass
class Suppression:
    line: int
    col: int
    end_col: int
    codes: frozenset  # empty: all codes
    file_level: bool = False
    used: set = field(default_factory=set)


def scan(source: SourceText) -> list[Suppression]:
    if "#" not in source.text or not _EITHER.search(source.text):
        return []
    out = []
    for i, line in enumerate(source.lines, 1):
        if "#" not in line:
            continue
        for rx in (_NOQA, _IGNORE):
            for m in rx.finditer(line):
                raw = m.group("codes") or ""
                codes = frozenset(c.upper() for c in re.split(r"[\s,]+", raw) if c)
                file_level = rx is _IGNORE and bool(m.group("file"))
                out.append(Suppression(i, m.start(), m.end(), codes, file_level))
    return out


def is_suppressed(sups: list[Suppression], code: str, line: int) -> bool:
    for s in sups:
        if (s.file_level or s.line == line) and (not s.codes or code in s.codes):
            s.used.add(code)
            return True
    return False
