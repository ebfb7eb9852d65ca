"""Findings -> LSP types. The only module that knows LSP positions (via SourceText's encodings)."""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from gradguard.core.model import Finding, Fix, Severity
from gradguard.core.source import Pos, SourceText
from gradguard.rules.base import DOCS_URL

SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFORMATION: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}


def encoding_name(enc) -> str:
    v = getattr(enc, "value", enc) or "utf-16"
    return str(v).lower()


def position(source: SourceText, pos: Pos, enc: str, line_offset: int = 0) -> lsp.Position:
    return lsp.Position(line=max(pos.line - 1 - line_offset, 0), character=source.to_lsp_col(pos, enc))


def range_of(source: SourceText, start: Pos, end: Pos, enc: str, line_offset: int = 0) -> lsp.Range:
    return lsp.Range(start=position(source, start, enc, line_offset), end=position(source, end, enc, line_offset))


def diagnostic(source: SourceText, f: Finding, uri: str, enc: str, line_offset: int = 0, related_uri=None, source_of=None) -> lsp.Diagnostic:
    """``source_of(path)``: the SourceText of another workspace file a related location is in."""
    related = []
    for r in f.related:
        if r.path:  # in another file of the workspace
            other = source_of(r.path) if source_of else SourceText("", r.path)
            related.append(lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=Path(r.path).as_uri(), range=range_of(other, r.start, r.end, enc)), message=r.message))
            continue
        target_uri, off = (related_uri(r.start.line) if related_uri else (uri, line_offset))
        related.append(lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=target_uri, range=range_of(source, r.start, r.end, enc, off)), message=r.message))
    return lsp.Diagnostic(
        range=range_of(source, f.start, f.end, enc, line_offset),
        message=f.message,
        severity=SEVERITY[f.severity],
        code=f.code,
        code_description=lsp.CodeDescription(href=DOCS_URL.format(code=f.code)),
        source="gradguard",
        related_information=related or None,
        data={"code": f.code, "line": f.start.line, "col": f.start.col},
    )


def text_edits(source: SourceText, fix: Fix, enc: str, line_offset: int = 0) -> list:
    return [lsp.TextEdit(range=range_of(source, e.start, e.end, enc, line_offset), new_text=e.content) for e in fix.edits]


def same_place(f: Finding, d: lsp.Diagnostic, source: SourceText, enc: str, line_offset: int = 0) -> bool:
    if str(d.code) != f.code:
        return False
    r = range_of(source, f.start, f.end, enc, line_offset)
    return r.start == d.range.start
