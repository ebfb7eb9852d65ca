"""Pull diagnostics (LSP 3.17): the reports the server keeps for ``textDocument/diagnostic`` and
``workspace/diagnostic`` instead of pushing ``textDocument/publishDiagnostics``.

Pull mode needs two client capabilities: ``textDocument.diagnostic`` and
``workspace.diagnostics.refreshSupport``. Findings here depend on other files (a program in one file
places findings in another, and an edit or a file change elsewhere re-analyzes a document), so a client
that pulls but cannot be told to pull again would keep stale diagnostics; such a client (Neovim 0.11
declares ``textDocument.diagnostic`` without refresh support) keeps push diagnostics.

Notebook cells are always pushed: vscode-languageclient 9 only pulls documents it finds in a text tab and
never pulls notebook cells. A pull for a cell gets an empty report (its diagnostics come by push).

Every report carries a result id that is a digest of its diagnostics: the same diagnostics get the same
id (an ``unchanged`` answer), across edits and server restarts alike.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional

from lsprotocol import types as lsp
from lsprotocol.converters import get_converter

PULL_WAIT_S = 5.0  # a document pull waits this long for an analysis in flight, then answers the latest report
REFRESH_DELAY_S = 0.1  # reports that change within this are announced by one refresh request

_converter = get_converter()


def pull_mode(caps: Optional[lsp.ClientCapabilities]) -> bool:
    td = caps.text_document if caps else None
    ws = caps.workspace if caps else None
    return bool(td is not None and td.diagnostic is not None and ws is not None and ws.diagnostics is not None and ws.diagnostics.refresh_support)


def options() -> lsp.DiagnosticOptions:
    return lsp.DiagnosticOptions(identifier="gradguard", inter_file_dependencies=True, workspace_diagnostics=True)


def result_id(items: list) -> str:
    data = json.dumps(_converter.unstructure(items), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(data.encode("utf-8"), digest_size=10).hexdigest()


EMPTY_ID = result_id([])


@dataclass
class Report:
    uri: str  # as sent to the client
    items: list  # lsp.Diagnostic
    version: Optional[int]  # of the open document analyzed; None for a closed file
    result_id: str


class Reports:
    """The latest diagnostics of every open text document and of every closed file other files' programs
    place findings in, keyed by file path (or by uri when not a file: uri), and what the client was last
    answered for each, to know when to ask it to pull again."""

    def __init__(self) -> None:
        self.reports: dict = {}  # key -> Report
        self.answered: dict = {}  # key -> result id the client last received
        self.pulling: Counter = Counter()  # key -> document pulls waiting for an analysis
        self.dirty: set = set()  # keys whose report changed since the last refresh check

    def store(self, key: str, uri: str, items: list, version: Optional[int], keep_empty: bool) -> None:
        if not items and not keep_empty:
            self.drop(key)
            return
        rid = result_id(items)
        before = self.reports.get(key)
        self.reports[key] = Report(uri, items, version, rid)
        if before is None or before.result_id != rid:
            self.dirty.add(key)

    def drop(self, key: str) -> None:
        if self.reports.pop(key, None) is not None:
            self.dirty.add(key)

    def current_id(self, key: str) -> str:
        rep = self.reports.get(key)
        return rep.result_id if rep is not None else EMPTY_ID

    def take_stale(self) -> list:
        """Keys whose report differs from what the client last received (a document pull waiting for its
        analysis is answered fresh and does not count); clears the changed set."""
        stale = [k for k in sorted(self.dirty) if not self.pulling[k] and (self.answered.get(k) or EMPTY_ID) != self.current_id(k)]
        self.dirty.clear()
        return stale

    def document(self, key: str, previous: Optional[str]) -> Any:
        rep = self.reports.get(key)
        items, rid = (rep.items, rep.result_id) if rep is not None else ([], EMPTY_ID)
        self.answered[key] = rid
        if previous is not None and previous == rid:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=rid)
        return lsp.RelatedFullDocumentDiagnosticReport(items=list(items), result_id=rid)

    def workspace(self, previous: dict, skip) -> lsp.WorkspaceDiagnosticReport:
        """Reports for every kept key, ``unchanged`` where the client's previous result id still holds; an
        empty report for each file the client holds a result for and that has nothing now (its findings went
        away), unless ``skip(key)`` (open documents still being analyzed, notebook cells)."""
        out: list = []
        for key, rep in self.reports.items():
            self.answered[key] = rep.result_id
            if previous.get(key, (None, None))[1] == rep.result_id:
                out.append(lsp.WorkspaceUnchangedDocumentDiagnosticReport(uri=rep.uri, version=rep.version, result_id=rep.result_id))
            else:
                out.append(lsp.WorkspaceFullDocumentDiagnosticReport(uri=rep.uri, version=rep.version, items=list(rep.items), result_id=rep.result_id))
        for key, (uri, value) in previous.items():
            if key in self.reports or skip(key):
                continue
            self.answered[key] = EMPTY_ID
            if value == EMPTY_ID:
                out.append(lsp.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, version=None, result_id=EMPTY_ID))
            else:
                out.append(lsp.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=[], result_id=EMPTY_ID))
        return lsp.WorkspaceDiagnosticReport(items=out)
