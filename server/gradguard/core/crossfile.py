"""Findings of a linked program (see ``core/workspace.py``) back in the files they belong to.

A finding on the file's own lines stays the file's; its related places inside copied definitions point at
their own files. A finding inside a copied definition belongs to the file the definition came from (the
squiggle goes where the code must change), with the evidence in the analyzed file as related information.
Fixes are mapped the same way; a fix that would touch a rewritten import line or span two files is dropped.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Callable, Optional

from gradguard.core.model import Edit, Fix, Related
from gradguard.core.source import Pos


def split_findings(linked, findings: list, path: str, config) -> tuple:
    own: list = []
    foreign: dict = {}
    for f in findings:
        at = linked.locate(f.start.line)
        if at is None:
            if f.end.line > linked.own_lines:
                continue
            f.message = relines(f.message, linked, None, path)
            f.explanation = relines(f.explanation, linked, None, path)
            f.related = [_related(linked, r, None, analyzed=path) for r in f.related]
            f.fix_builders = [_mapped_fix(linked, b, None) for b in f.fix_builders]
            f._fixes = None
            own.append(f)
            continue
        other, line = at
        end = linked.locate(f.end.line)
        if end is None or end[0] != other or end[1] - line != f.end.line - f.start.line:
            continue
        if linked.library and other in linked.library:
            continue  # installed packages are read for their classes, never reported on
        if config is not None and not config.enabled(f.code, other):
            continue
        g = dataclasses.replace(
            f,
            start=Pos(line, f.start.col),
            end=Pos(end[1], f.end.col),
            message=relines(f.message, linked, other, path),
            explanation=relines(f.explanation, linked, other, path),
            related=[_related(linked, r, other, analyzed=path) for r in f.related],
            fix_builders=[_mapped_fix(linked, b, other) for b in f.fix_builders],
            _fixes=None,
        )
        foreign.setdefault(other, []).append(g)
    return own, foreign


_LINE = re.compile(r"\bline (\d+)")


def relines(text: str, linked, home: Optional[str], analyzed: str) -> str:
    """"line N" in a message, said from ``home`` (None: the analyzed file): ``train.py:12`` for a line of
    another file, the file's own line number otherwise."""
    if not text:
        return text

    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        at = linked.locate(n)
        where, line = (analyzed, n) if at is None else at
        if where == home or (home is None and at is None):
            return f"line {line}"
        return f"{os.path.basename(where)}:{line}"

    return _LINE.sub(sub, text)


def _related(linked, r: Related, home: Optional[str], analyzed: Optional[str] = None) -> Related:
    """``r`` as seen from a finding in ``home`` (None: the analyzed file itself)."""
    at = linked.locate(r.start.line)
    if at is None:
        return dataclasses.replace(r, message=relines(r.message, linked, home, analyzed or ""), path=analyzed if home is not None else None)
    other, line = at
    end = linked.locate(r.end.line)
    end_line = end[1] if end is not None and end[0] == other else line
    message = relines(r.message, linked, home, analyzed or "")
    return Related(Pos(line, r.start.col), Pos(end_line, r.end.col if end_line != line or r.end.line == r.start.line else r.start.col), message, None if other == home else other)


def _mapped_fix(linked, build: Callable[[], Optional[Fix]], home: Optional[str]) -> Callable[[], Optional[Fix]]:
    def run() -> Optional[Fix]:
        fix = build()
        if fix is None:
            return None
        edits = []
        for e in fix.edits:
            if home is None:
                if e.end.line > linked.own_lines or any(ln in linked.changed_lines for ln in range(e.start.line, e.end.line + 1)):
                    return None
                edits.append(e)
                continue
            a, z = linked.locate(e.start.line), linked.locate(e.end.line)
            if a is None or z is None or a[0] != home or z[0] != home or z[1] - a[1] != e.end.line - e.start.line:
                return None
            edits.append(Edit(Pos(a[1], e.start.col), Pos(z[1], e.end.col), e.content))
        return dataclasses.replace(fix, edits=tuple(edits))

    return run
