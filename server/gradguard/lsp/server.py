"""The language server: thin wiring from LSP to the analysis core.

Documents are analyzed off the event loop (a worker thread), newest version only: a burst of edits is
coalesced, and a result for a version that is no longer current is dropped, never published. Notebook
cells are analyzed as one program (see ``gradguard.notebook``) and published per cell. Clients that pull
diagnostics (LSP 3.17, with refresh support) pull them instead; see ``gradguard.lsp.pull``.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from gradguard import __version__
from gradguard.analyze import INTERNAL_CODE, Analysis, analyze, analyzed_inputs, program_inputs
from gradguard.config import Config, config_from_dict, find_pyproject, load_pyproject
from gradguard.core.astindex import walk_nodes
from gradguard.core.edits import apply_edits
from gradguard.core.model import Applicability, Finding, Severity
from gradguard.core.source import Pos
from gradguard.lsp import convert, pull
from gradguard.lsp import flow as flowlsp
from gradguard.lsp.hover import finding_markdown, findings_at, name_markdown
from gradguard.notebook import CellMap, join_cells, merge_cell_errors, python_language, shift_safe

log = logging.getLogger("gradguard.lsp")
ANALYSIS_TIMEOUT_S = 20.0
FIX_ALL_KIND = "source.fixAll.gradguard"
BURST_GAP_S = 0.05  # changes closer than this are a machine-speed burst, not typing
BURST_MAX_WAIT_S = 0.3  # a burst never delays diagnostics longer than this
MAX_SNAPSHOTS = 8  # full analyses kept in memory (most recently used documents)


@dataclass
class Snapshot:
    """One analyzed version of a text document or a whole notebook."""

    key: str  # document or notebook uri
    version: Optional[int]
    analysis: Analysis
    cells: Optional[CellMap] = None  # notebooks: program line -> cell
    cell_versions: dict = field(default_factory=dict)
    lenses: Optional[dict] = None  # uri -> code lenses, computed on first request (see lsp/flow.py)


class _Malformed:
    """A message that was valid JSON but not a valid JSON-RPC/LSP message (bad params, no method...)."""

    jsonrpc = "2.0"

    def __init__(self, msg_id, method, code: int, message: str) -> None:
        self.id, self.method, self.code, self.message = msg_id, method, code, message


class GradguardProtocol(LanguageServerProtocol):
    """pygls' protocol, answering what pygls leaves unanswered: invalid params (the client would wait
    forever for the response), non-JSON-RPC messages and requests after shutdown get their JSON-RPC error;
    bad notifications are dropped with a log line that does not echo their params (file contents)."""

    def structure_message(self, data):
        if not isinstance(data, dict) or "jsonrpc" not in data:
            return data
        try:
            return super().structure_message(data)
        except Exception as exc:
            method = data.get("method")
            code = -32602 if method else -32600  # InvalidParams / InvalidRequest
            if method and method not in self.fm.features and method not in self.fm.builtin_features:
                return _Malformed(data.get("id"), method, -32601, f"Method Not Found: {method}")
            return _Malformed(data.get("id"), method, code, f"{'Invalid params for ' + str(method) if method else 'Invalid request'}: {type(exc.__cause__ or exc).__name__}")

    def handle_message(self, message):
        if isinstance(message, _Malformed):
            if message.id is not None and (message.method or message.code == -32600):
                self._send_error(message.id, message.code, message.message)
            else:
                log.warning("dropped a malformed %s notification", message.method)
            return
        if not hasattr(message, "jsonrpc"):  # JSON, but not a JSON-RPC message at all
            self._send_error(None, -32600, "Invalid request: not a JSON-RPC 2.0 message")
            return
        if self._shutdown and getattr(message, "method", None) not in (None, lsp.EXIT) and getattr(message, "id", None) is not None:
            self._send_error(message.id, -32600, "Invalid request: the server is shutting down")
            return
        if self._workspace is None and getattr(message, "method", None) not in (None, lsp.INITIALIZE, lsp.EXIT):
            if getattr(message, "id", None) is not None:
                self._send_error(message.id, -32002, "Server not initialized")
            return  # notifications before initialize are dropped
        super().handle_message(message)

    def _send_error(self, msg_id, code: int, message: str) -> None:
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})


class GradguardServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            name="gradguard",
            version=__version__,
            protocol_cls=GradguardProtocol,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            notebook_document_sync=lsp.NotebookDocumentSyncOptions(
                notebook_selector=[lsp.NotebookDocumentFilterWithCells(cells=[lsp.NotebookCellLanguage(language="python")], notebook="*")],
                save=True,
            ),
        )
        self.snapshots: dict = {}
        self.scheduled: dict = {}  # key -> asyncio.Task
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradguard-analysis")
        self.editor_settings: dict = {}  # settings for every document
        self.folder_settings: dict = {}  # workspace folder uri -> its settings
        self._configs: dict = {}  # (folder, pyproject) -> Config, until the settings change
        self._warned: set = set()
        self.config = Config()
        self.config_dirty = True
        self._resolver: Any = None
        self.changed_at: dict = {}  # key -> time of the last change
        self.change_gap: dict = {}  # key -> seconds between the last two changes
        self.durations: dict = {}  # key -> seconds the last analysis took
        # the workspace (cross-file analysis): an index of every Python file under the workspace folders,
        # built in the background after `initialized`; findings other files' programs place in a file
        self.index: Any = None
        self.contributions: dict = {}  # target path -> {source path: [Finding]}
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gradguard-workspace")
        # documents whose analysis is pending or running; background analyses wait while there are any (one
        # process, one GIL: a closed importer analyzed at the same time would slow the keystroke's analysis)
        self.foreground: set = set()
        self.foreground_idle = threading.Event()
        self.foreground_idle.set()
        self.indexed = False
        self.pending_source: dict = {}  # open document path -> digest of the dependency it was rescheduled for
        self.importers_done: dict = {}  # path -> digest its closed importers were analyzed against
        # closed importer path -> analysis.program_inputs of its last background analysis: a save that leaves its
        # program as it was (an edit outside what it copies) leaves what it places in other files as it was
        self.importer_inputs: dict = {}
        # pull diagnostics (see lsp/pull.py): set at initialize when the client pulls; None: push
        self.pulled: Optional[pull.Reports] = None
        self._refresh_task: Optional[asyncio.Future] = None

    def resolver(self):
        if self._resolver is None:
            from gradguard.resolve import Resolver

            self._resolver = Resolver(self.workspace.root_path if self.protocol.workspace is not None else None)
        return self._resolver

    def report_server_error(self, error: Exception, source) -> None:
        import json

        if isinstance(error, json.JSONDecodeError):  # a body that is not JSON: the spec's Parse error, no popup
            log.warning("received a message that is not valid JSON")
            self.protocol._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: the message is not valid JSON"}})
            return
        from pygls.exceptions import FeatureNotificationError

        if source is FeatureNotificationError:  # e.g. didChange for a document never opened: no popup
            log.warning("ignored a notification that could not be handled: %s", type(error).__name__)
            return
        super().report_server_error(error, source)

    # -- configuration --------------------------------------------------------------------------
    # Settings reach the server one way: pushed by the client, in initializationOptions ``{"settings": S}``
    # and later in workspace/didChangeConfiguration ``{"gradguard": S}``. S holds the settings for every
    # document and, optionally, ``"folders": {folder uri: settings}`` for the documents of each workspace
    # folder (the VS Code client sends one entry per folder of a multi-root workspace). A push replaces the
    # previous settings. The nearest pyproject.toml of each document is merged underneath.
    def set_settings(self, section: dict) -> None:
        folders = section.get("folders")
        self.editor_settings = {k: v for k, v in section.items() if k != "folders"}
        self.folder_settings = {}
        if folders is not None:
            if isinstance(folders, dict) and all(isinstance(k, str) and isinstance(v, dict) for k, v in folders.items()):
                self.folder_settings = {k.rstrip("/"): v for k, v in folders.items()}
            else:
                self._warn_once("gradguard settings: 'folders' must map workspace folder URIs to settings objects; ignored")
        _apply_log_level(self.editor_settings)
        self.config_dirty = True

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"gradguard: {message}"))

    def settings_for(self, key: Optional[str]) -> tuple:
        """(folder uri or None, editor settings) for a document or notebook uri: its workspace folder's
        settings (the longest folder uri that contains it), else the settings for every document."""
        best = None
        if key:
            for folder in self.folder_settings:
                if (key == folder or key.startswith(folder + "/")) and (best is None or len(folder) > len(best)):
                    best = folder
        return best, (self.folder_settings[best] if best is not None else self.editor_settings)

    def effective_config(self, key: Optional[str] = None) -> Config:
        """The configuration for the document or notebook ``key``: its nearest pyproject.toml (else the
        workspace root's), overridden by the editor settings of its workspace folder."""
        if self.config_dirty:
            self._configs = {}
            self._warned = set()
            self.config_dirty = False
        folder, settings = self.settings_for(key)
        path = _path_of(key) if key else None
        start = os.path.dirname(path) if path and os.path.isabs(path) else None
        if start is None:
            root = self.workspace.root_path if self.protocol.workspace is not None else None
            start = root
        pp = find_pyproject(os.path.join(start, "x")) if start else None
        cache_key = (folder, pp)
        cfg = self._configs.get(cache_key)
        if cfg is not None:
            return cfg
        base = load_pyproject(pp) if pp else Config()
        problems = list(base.problems)
        if settings:
            ed = config_from_dict(settings, origin="gradguard settings" + (f" of {folder}" if folder else ""))
            problems += ed.problems
            base.enable = ed.enable
            if "select" in settings and ed.select is not None:
                base.select = ed.select
            if ed.ignore:
                base.ignore = sorted(set(base.ignore) | set(ed.ignore))
            base.severity.update(ed.severity)
            base.per_file_ignores.update(ed.per_file_ignores)
        for p in problems:
            self._warn_once(p)
        base.problems = []
        self._configs[cache_key] = base
        self.config = base
        return base

    # -- documents ------------------------------------------------------------------------------
    def notebook_of(self, cell_uri: str):
        try:
            return self.workspace.get_notebook_document(cell_uri=cell_uri)
        except Exception:
            return None

    def current_input(self, key: str):
        """(text, version, cells, cell_versions) for a document or notebook uri, or None when closed."""
        nb = None
        try:
            nb = self.workspace.get_notebook_document(notebook_uri=key)
        except Exception:
            nb = None
        if nb is not None:
            cells = []
            labels = []
            versions = {}
            for number, cell in enumerate(nb.cells, 1):  # numbered as VS Code's "Cell N of M": every cell counts
                if cell.kind != lsp.NotebookCellKind.Code:
                    continue
                doc = self.workspace.text_documents.get(unquote(cell.document))  # pygls keys documents by unquoted uri
                if doc is None or not python_language(getattr(doc, "language_id", None)):
                    continue  # (a shell or plain-text cell of the notebook is not Python)
                cells.append((cell.document, doc.source))
                labels.append(f"cell {number}")
                versions[cell.document] = doc.version
            text, cmap = join_cells(cells, labels)
            return text, nb.version, cmap, versions
        doc = self.workspace.text_documents.get(unquote(key))
        if doc is None:
            return None
        return doc.source, doc.version, None, {}

    def schedule(self, key: str) -> None:
        now = time.monotonic()
        prev = self.changed_at.get(key)
        self.changed_at[key] = now
        self.change_gap[key] = None if prev is None else now - prev
        task = self.scheduled.get(key)
        if task is not None and not task.done():
            return  # the pending run will pick up the newest text
        self.scheduled[key] = asyncio.ensure_future(self._analyze_soon(key))

    async def _settle_burst(self, key: str) -> None:
        """Coalesce machine-speed bursts (paste, replace-all, formatters): while changes arrive less than
        BURST_GAP_S apart, wait until the document has been quiet for about one analysis' duration.
        A keystroke after a pause is analyzed at once (no debounce for human typing)."""
        waited = 0.0
        while waited < BURST_MAX_WAIT_S:
            gap = self.change_gap.get(key)
            if gap is None or gap > BURST_GAP_S:
                return
            quiet = time.monotonic() - self.changed_at.get(key, 0.0)
            wait = min(self.durations.get(key, 0.01), BURST_GAP_S) - quiet
            if wait <= 0:
                return
            await asyncio.sleep(wait)
            waited += wait

    async def wait_pending(self, uri: str, bound: float = ANALYSIS_TIMEOUT_S) -> None:
        """Let a running analysis of ``uri`` finish instead of analyzing the same text again."""
        nb = self.notebook_of(uri)
        task = self.scheduled.get(nb.uri if nb is not None else uri)
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), bound)
            except Exception:  # timeouts and failures: the caller analyzes on its own
                pass

    def version_of(self, uri: str):
        nb = self.notebook_of(uri)
        cur = self.current_input(nb.uri if nb is not None else uri)
        return None if cur is None else (cur[1], tuple(sorted(cur[3].items())))

    async def _analyze_soon(self, key: str) -> None:
        self.foreground.add(key)
        self.foreground_idle.clear()
        try:
            await self._analyze_document(key)
        finally:
            self.foreground.discard(key)
            if not self.foreground:
                self.foreground_idle.set()

    def background_pause(self, limit: float = 2.0):
        """A ``pause`` for a background analysis (see ``analyze``): while a document is being analyzed, wait for
        it, up to ``limit`` seconds over the whole background analysis (its time budget keeps running)."""
        left = [limit]

        def pause() -> None:
            if left[0] > 0 and not self.foreground_idle.is_set():
                t0 = time.monotonic()
                self.foreground_idle.wait(left[0])
                left[0] -= time.monotonic() - t0

        return pause

    async def _analyze_document(self, key: str) -> None:
        await asyncio.sleep(0)  # let already-received edits land first (coalesce bursts)
        await self._settle_burst(key)
        while True:
            snap_in = self.current_input(key)
            if snap_in is None:
                return
            text, version, cmap, cell_versions = snap_in
            path = _path_of(key)
            cfg = self.effective_config(key)
            log.info("analysis started %s v%s", key, version)
            loop = asyncio.get_running_loop()
            try:
                started = time.monotonic()
                ws = self.workspace_index()
                if ws is not None and path and cmap is None:
                    ws.set_overlay(path, text)
                analysis = await asyncio.wait_for(loop.run_in_executor(self.executor, functools.partial(analyze, text, path, cfg, workspace=ws)), ANALYSIS_TIMEOUT_S)
                merge_cell_errors(analysis, cmap, cfg)
                self.durations[key] = time.monotonic() - started
            except asyncio.TimeoutError:
                analysis = Analysis(convert_source(text))
                analysis.findings = [Finding(INTERNAL_CODE, f"analysis skipped: it took longer than {ANALYSIS_TIMEOUT_S:.0f} s", Pos(1, 0), Pos(1, 0), Severity.INFORMATION)]
            except Exception as exc:  # never crash the server; say what happened
                log.exception("analysis failed for %s", key)
                analysis = Analysis(convert_source(text))
                analysis.findings = [Finding(INTERNAL_CODE, f"analysis failed: {type(exc).__name__}: {exc}", Pos(1, 0), Pos(1, 0), Severity.INFORMATION)]
            now = self.current_input(key)
            if now is None:
                return  # closed meanwhile: publish nothing
            if now[1] != version or now[3] != cell_versions or now[0] != text:
                await self._settle_burst(key)
                continue  # stale: analyze the newest text instead
            snap = Snapshot(key, version, analysis, cmap, cell_versions)
            self.remember(key, snap)
            self.publish(snap)
            if path:
                self.take_contributions(path, analysis.foreign)
                self.after_change(path)
            return

    def remember(self, key: str, snap: Snapshot) -> None:
        """Keep full analyses (trees, flows, fix builders) only for the most recently used documents;
        the others were published already and are re-analyzed on demand (bounded memory)."""
        self.snapshots.pop(key, None)
        self.snapshots[key] = snap
        while len(self.snapshots) > MAX_SNAPSHOTS:
            self.snapshots.pop(next(iter(self.snapshots)))

    def snapshot_for(self, uri: str) -> Optional[Snapshot]:
        """The analysis of the current version of ``uri`` (a document or a notebook cell), computing it
        synchronously when the cached one is stale."""
        nb = self.notebook_of(uri)
        key = nb.uri if nb is not None else uri
        cur = self.current_input(key)
        if cur is None:
            return None
        text, version, cmap, cell_versions = cur
        snap = self.snapshots.get(key)
        if snap is not None and snap.version == version and snap.analysis.source.text == text:
            return snap
        cfg = self.effective_config(key)
        ws = self.workspace_index() if cmap is None else None
        snap = Snapshot(key, version, merge_cell_errors(analyze(text, _path_of(key), cfg, workspace=ws), cmap, cfg), cmap, cell_versions)
        self.remember(key, snap)
        return snap

    def encoding(self) -> str:
        return convert.encoding_name(self.workspace.position_encoding)

    def publish(self, snap: Snapshot) -> None:
        enc = self.encoding()
        src = snap.analysis.source
        if snap.cells is None:
            diags = [convert.diagnostic(src, f, snap.key, enc, source_of=self.source_of) for f in self.findings_of(snap)]
            self.deliver(snap.key, diags, snap.version, is_open=True)
            return
        per_cell: dict = {cid: [] for cid in snap.cells.ids}
        for f in snap.analysis.findings:
            idx, _ = snap.cells.to_cell(f.start.line)
            cid = snap.cells.ids[idx]
            off = snap.cells.starts[idx] - 1

            def rel_uri(line, cm=snap.cells):
                i, _ = cm.to_cell(line)
                return cm.ids[i], cm.starts[i] - 1

            per_cell[cid].append(convert.diagnostic(src, f, cid, enc, off, related_uri=rel_uri))
        for cid, diags in per_cell.items():  # cells are pushed in pull mode too (see lsp/pull.py)
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=cid, diagnostics=diags, version=snap.cell_versions.get(cid)))

    def deliver(self, uri: str, diags: list, version: Optional[int], is_open: bool) -> None:
        """A text document's or a closed file's diagnostics: published (push), or kept for the client's next
        pull, which a refresh request asks for when they changed (pull)."""
        if self.pulled is None:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version))
            return
        self.pulled.store(_pull_key(uri), uri, diags, version, keep_empty=is_open)
        self.refresh_diagnostics_soon()

    def refresh_diagnostics_soon(self) -> None:
        if self.pulled is None or not self.pulled.dirty or (self._refresh_task is not None and not self._refresh_task.done()):
            return
        self._refresh_task = asyncio.ensure_future(self._refresh_diagnostics())

    async def _refresh_diagnostics(self) -> None:
        """Ask the client to pull again when reports changed that it did not just pull (a dependency
        changed, a closed file got findings, an analysis finished after a pull's wait ran out)."""
        await asyncio.sleep(pull.REFRESH_DELAY_S)  # one request for a burst of changed reports
        if self.pulled is None or not self.pulled.take_stale():
            return
        try:
            self.workspace_diagnostic_refresh(None)
        except Exception:  # the client may not answer; its next pull gets the new reports anyway
            log.debug("diagnostic refresh failed")

    async def pull_document(self, uri: str, previous: Optional[str]) -> Any:
        """textDocument/diagnostic: the report of an open document once the analysis in flight for it
        finished (waiting at most PULL_WAIT_S; else its latest report, and a refresh follows), the findings
        other files place in a closed file, an empty report for anything else (notebook cells are pushed)."""
        assert self.pulled is not None
        key = _pull_key(uri)
        if self.notebook_of(uri) is not None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[], result_id=pull.EMPTY_ID)
        if self.current_input(uri) is not None:
            self.pulled.pulling[key] += 1
            try:
                task = self.scheduled.get(uri)
                if key not in self.pulled.reports and (task is None or task.done()):
                    self.schedule(uri)  # open but never analyzed (cannot happen via didOpen): analyze now
                await self.wait_pending(uri, pull.PULL_WAIT_S)
            finally:
                self.pulled.pulling[key] -= 1
                if not self.pulled.pulling[key]:
                    del self.pulled.pulling[key]
        return self.pulled.document(key, previous)

    def pull_workspace(self, previous_ids: list) -> lsp.WorkspaceDiagnosticReport:
        """workspace/diagnostic, answered at once: the latest report of every open text document and of every
        closed file with findings; files whose findings went away get an empty report."""
        assert self.pulled is not None
        previous = {_pull_key(p.uri): (p.uri, p.value) for p in previous_ids}

        # an open document without a report is still being analyzed; notebook cells are pushed
        return self.pulled.workspace(previous, lambda key: self.document_at(key) is not None)

    # -- the workspace ----------------------------------------------------------------------------
    def workspace_index(self):
        """The index of the workspace folders (created on first use; filled in the background)."""
        if self.index is None and self.settings_for(None)[1].get("crossFile", True) is not False:
            roots = []
            try:
                folders = self.workspace.folders
                roots = [_path_of(f.uri) for f in folders.values()] if folders else []
                if not roots and self.workspace.root_path:
                    roots = [self.workspace.root_path]
            except Exception:
                roots = []
            if roots:
                from gradguard.core.workspace import WorkspaceIndex
                from gradguard.runner import library_paths

                self.index = WorkspaceIndex([r for r in roots if r], library_paths())
        return self.index

    def findings_of(self, snap: Snapshot) -> list:
        """A document's findings: its own, and those other files' programs place in it (once each)."""
        own = list(snap.analysis.findings)
        path = _path_of(snap.key)
        extra = self.contributions.get(path) if path else None
        if not extra or snap.cells is not None:
            return own
        seen = {(f.code, f.start, f.end) for f in own}
        for source in sorted(extra):
            for f in extra[source]:
                if (f.code, f.start, f.end) not in seen and f.end.line <= len(snap.analysis.source.lines) + 1:
                    seen.add((f.code, f.start, f.end))
                    own.append(f)
        own.sort(key=Finding.sort_key)
        return own

    def source_of(self, path: str):
        """The text of another workspace file (open document or disk) for positions in related information."""
        from gradguard.core.source import SourceText

        doc = self.document_at(path)
        if doc is not None:
            return SourceText(doc.source, path)
        text = self.index.text_of(path) if self.index is not None else None
        return SourceText(text or "", path)

    def document_at(self, path: str):
        """The open text document of a file path, or None."""
        for doc in list(self.workspace.text_documents.values()):
            if _path_of(doc.uri) == path:
                return doc
        return None

    def uri_of(self, path: str) -> str:
        doc = self.document_at(path)
        if doc is not None:
            return doc.uri
        from pathlib import Path

        return Path(path).as_uri()

    def take_contributions(self, source: str, foreign: dict) -> None:
        """Findings ``source``'s program placed in other files; republish the open ones that changed."""
        self.republish(self.contributed(source, foreign))

    def contributed(self, source: str, foreign: dict) -> set:
        """Record the findings ``source``'s program placed in other files; the files whose share changed."""
        changed = set()
        for target, by_source in self.contributions.items():
            if source in by_source and target not in foreign:
                del by_source[source]
                changed.add(target)
        for target, found in foreign.items():
            before = self.contributions.setdefault(target, {}).get(source)
            if before is None or [(f.code, f.start, f.message) for f in before] != [(f.code, f.start, f.message) for f in found]:
                changed.add(target)
            self.contributions[target][source] = found
        return changed

    def republish(self, changed: set) -> None:
        for target in changed:
            key = self.open_key(target)
            snap = self.snapshots.get(key) if key else None
            if snap is not None:
                snap.lenses = None
                self.publish(snap)
            elif key is None:
                self.publish_closed(target)

    def publish_closed(self, path: str) -> None:
        """A file that is not open gets the findings open files' programs place in it (the Problems panel shows
        them; opening the file offers their fixes)."""
        by_source = self.contributions.get(path) or {}
        found: list = []
        seen: set = set()
        for source in sorted(by_source):
            for f in by_source[source]:
                if (f.code, f.start) not in seen:
                    seen.add((f.code, f.start))
                    found.append(f)
        src = self.source_of(path)
        enc = self.encoding()
        uri = self.uri_of(path)
        diags = [convert.diagnostic(src, f, uri, enc, source_of=self.source_of) for f in sorted(found, key=Finding.sort_key)]
        self.deliver(uri, diags, None, is_open=False)

    def open_key(self, path: str) -> Optional[str]:
        """The snapshot key (document, or the notebook holding it) of an open file path, or None."""
        doc = self.document_at(path)
        if doc is None:
            return None
        nb = self.notebook_of(doc.uri)
        return nb.uri if nb is not None else doc.uri

    def after_change(self, path: str) -> None:
        """``path`` was analyzed in a new version: re-analyze the open documents whose programs copy from it,
        and (in the background) the closed files that import it, whose programs place findings in it."""
        if self.index is None:
            return
        for key, snap in list(self.snapshots.items()):
            kp = _path_of(key)
            if kp and kp != path and path in snap.analysis.depends_on and self.pending_source.get((kp, path)) != self.index.digest(path):
                self.pending_source[(kp, path)] = self.index.digest(path)
                self.schedule(key)

    def importers_soon(self, uri: str) -> None:
        """On open and save (not per keystroke: that analysis would compete with typing): the closed files
        importing this document are analyzed in the background for the findings they place in it."""
        path = _path_of(uri)
        doc = self.workspace.text_documents.get(unquote(uri))
        if self.workspace_index() is None or not path or doc is None or self.notebook_of(uri) is not None:
            return
        self.index.set_overlay(path, doc.source)
        self.refresh_importers(path)

    def refresh_importers(self, path: str) -> None:
        """Closed files importing ``path``, directly or through other workspace files: analyze them from disk in
        the background (after indexing) for the findings they place in ``path``; open ones are analyzed as
        documents."""
        if self.index is None or not self.indexed:
            return
        digest = self.index.digest(path)
        if self.importers_done.get(path) == digest:
            return
        self.importers_done[path] = digest
        loop = asyncio.get_running_loop()

        def work() -> list:
            out = []
            for imp in self.index.dependents(path):
                if self.open_key(imp) is not None:
                    continue
                text = self.index.text_of(imp)
                if text is None:
                    continue
                config = self.effective_config(self.uri_of(imp))
                pause = self.background_pause()
                try:
                    if self.importer_inputs.get(imp) is not None:
                        pause()
                        if program_inputs(text, imp, config, self.index) == self.importer_inputs[imp]:
                            continue  # the same program as last time: the same findings
                    a = analyze(text, imp, config, workspace=self.index, pause=pause)
                except Exception:
                    log.exception("background analysis failed for %s", imp)
                    continue
                timed_out = any(f.code == INTERNAL_CODE for f in a.findings)  # (may not recur)
                self.importer_inputs[imp] = None if timed_out else analyzed_inputs(a, imp, config)
                out.append((imp, a.foreign))
            return out

        async def run() -> None:
            try:
                results = await loop.run_in_executor(self.background, work)
            except Exception:
                log.exception("importers of %s", path)
                return
            changed: set = set()
            for imp, foreign in results:
                changed |= self.contributed(imp, foreign)
            self.republish(changed)  # once per file, not once per importer that placed findings in it

        asyncio.ensure_future(run())

    async def index_workspace(self) -> None:
        """Summarize every workspace file in the background, reporting $/progress when the client can show it;
        then compute what closed files contribute to the open documents."""
        ws = self.workspace_index()
        if ws is None:
            self.indexed = True
            return
        loop = asyncio.get_running_loop()
        token = None
        caps = self.client_capabilities
        if caps and caps.window and caps.window.work_done_progress:
            token = f"gradguard-index-{id(ws)}"
            try:
                await asyncio.wait_for(self.work_done_progress.create_async(token), 5)
                self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title="gradguard: indexing the workspace", percentage=0, cancellable=False))
            except Exception:
                token = None
        files = await loop.run_in_executor(self.background, ws.files)
        for message in ws.messages:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"gradguard: {message}"))
        step = 50
        for i in range(0, len(files), step):
            batch = files[i : i + step]
            await loop.run_in_executor(self.background, _summarize_all, ws, batch, self.background_pause)
            if token is not None:
                done = min(i + step, len(files))
                self.work_done_progress.report(token, lsp.WorkDoneProgressReport(message=f"{done}/{len(files)} files", percentage=int(100 * done / max(len(files), 1))))
        self.indexed = True
        if token is not None:
            self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=f"{len(files)} files indexed"))
        for doc in list(self.workspace.text_documents.values()):
            self.importers_soon(doc.uri)

    def files_changed(self, changes: list) -> None:
        """Files changed on disk (watched files, file operations): forget their summaries; re-analyze the open
        documents that depend on them and refresh what the changed files contribute."""
        if self.index is None:
            return
        structural = any(kind != "changed" for kind, _ in changes)
        if structural:
            self.index.invalidate()
        for _, path in changes:
            if self.open_key(path) is None:
                self.index.invalidate(path)
        paths = {p for _, p in changes}
        for key, snap in list(self.snapshots.items()):
            if structural or paths & set(snap.analysis.depends_on):
                self.schedule(key)
        for kind, path in changes:
            if kind == "deleted":
                self.take_contributions(path, {})
                self.contributions.pop(path, None)
        for key in list(self.snapshots):
            p = _path_of(key)
            if p:
                self.importers_done.pop(p, None)
                self.refresh_importers(p)

    def code_lens_enabled(self, key: Optional[str]) -> bool:
        return self.settings_for(key)[1].get("codeLens", True) is not False

    def refresh_code_lenses(self) -> None:
        """Ask the client to re-request lenses (after the codeLens setting changed), when it can."""
        caps = self.client_capabilities
        ws = caps.workspace if caps else None
        if ws is not None and ws.code_lens is not None and ws.code_lens.refresh_support:
            try:
                self.workspace_code_lens_refresh(None)
            except Exception:  # the client may not answer; lenses refresh on the next edit anyway
                log.debug("codeLens refresh failed")

    def clear(self, uri: str) -> None:
        """No diagnostics for a text document or file any more (closed, or its findings went away)."""
        if self.pulled is None:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return
        self.pulled.drop(_pull_key(uri))
        self.refresh_diagnostics_soon()

    def clear_cell(self, uri: str) -> None:
        """Notebook cells are pushed in either mode."""
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def reanalyze_all(self) -> None:
        keys = set()
        for doc in list(self.workspace.text_documents.values()):
            nb = self.notebook_of(doc.uri)
            keys.add(nb.uri if nb is not None else doc.uri)
        for key in keys:
            self.schedule(key)


def _summarize_all(ws, paths: list, pauser=None) -> None:
    for p in paths:
        if pauser is not None:
            pauser()()  # (wait while a document is analyzed)
        ws.summary(p)


def convert_source(text: str):
    from gradguard.core.source import SourceText

    return SourceText(text)


def _pull_key(uri: str) -> str:
    """The key of a uri among pull reports: its file path (clients spell file uris differently), else itself."""
    return _path_of(uri) or uri


def _path_of(uri: str) -> Optional[str]:
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(uri).path)
    return uri


server = GradguardServer()


# -- lifecycle & configuration ------------------------------------------------------------------
@server.feature(lsp.INITIALIZE)
def on_initialize(ls: GradguardServer, params: lsp.InitializeParams) -> None:
    opts = params.initialization_options
    if isinstance(opts, dict):
        settings = opts.get("settings", opts)
        if isinstance(settings, dict):
            section = settings.get("gradguard", settings)
            ls.set_settings(section if isinstance(section, dict) else {})
    ls.config_dirty = True
    if pull.pull_mode(params.capabilities) and lsp.TEXT_DOCUMENT_DIAGNOSTIC not in ls.protocol.fm.features:
        # registered here, before pygls computes the capabilities: only a pulling client sees diagnosticProvider
        ls.pulled = pull.Reports()
        ls.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, pull.options())(document_diagnostic)
        ls.feature(lsp.WORKSPACE_DIAGNOSTIC)(workspace_diagnostic)
    log.info("diagnostics: %s", "pull" if ls.pulled is not None else "push")


async def document_diagnostic(ls: GradguardServer, params: lsp.DocumentDiagnosticParams) -> Any:
    try:
        return await ls.pull_document(params.text_document.uri, params.previous_result_id)
    except Exception:  # never fail a pull: log, and answer what is known
        log.exception("textDocument/diagnostic failed for %s", params.text_document.uri)
        assert ls.pulled is not None
        return ls.pulled.document(_pull_key(params.text_document.uri), None)


def workspace_diagnostic(ls: GradguardServer, params: lsp.WorkspaceDiagnosticParams) -> lsp.WorkspaceDiagnosticReport:
    try:
        return ls.pull_workspace(list(params.previous_result_ids or []))
    except Exception:
        log.exception("workspace/diagnostic failed")
        return lsp.WorkspaceDiagnosticReport(items=[])


@server.feature(lsp.INITIALIZED)
async def on_initialized(ls: GradguardServer, params: lsp.InitializedParams) -> None:
    caps = ls.client_capabilities
    ws_caps = caps.workspace if caps else None
    watched = ws_caps.did_change_watched_files if ws_caps else None
    if watched is not None and watched.dynamic_registration:
        try:
            ls.client_register_capability(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id="gradguard-watched-files",
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=_WATCHERS),
                        )
                    ]
                )
            )
        except Exception:
            log.debug("client did not take the file watcher registration")
    asyncio.ensure_future(ls.index_workspace())


# Python files; and compiled extensions created or deleted (``x.so`` / ``x.pyd`` beside ``x.py`` is what ``import x``
# loads: building or removing one changes what imports resolve to)
_WATCHERS = [
    lsp.FileSystemWatcher(glob_pattern="**/*.py"),
    *(lsp.FileSystemWatcher(glob_pattern=g, kind=lsp.WatchKind.Create | lsp.WatchKind.Delete) for g in ("**/*.so", "**/*.pyd")),
]

_CHANGE_KIND = {lsp.FileChangeType.Created: "created", lsp.FileChangeType.Changed: "changed", lsp.FileChangeType.Deleted: "deleted"}


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def on_watched_files(ls: GradguardServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    changes = [(_CHANGE_KIND.get(c.type, "changed"), _path_of(c.uri)) for c in params.changes if c.uri.endswith((".py", ".so", ".pyd"))]
    if changes:
        ls.files_changed([(k, p) for k, p in changes if p])


_PY_FILES = lsp.FileOperationRegistrationOptions(filters=[lsp.FileOperationFilter(pattern=lsp.FileOperationPattern(glob="**/*.py"))])


@server.feature(lsp.WORKSPACE_DID_CREATE_FILES, _PY_FILES)
def on_created(ls: GradguardServer, params: lsp.CreateFilesParams) -> None:
    ls.files_changed([("created", _path_of(f.uri)) for f in params.files if _path_of(f.uri)])


@server.feature(lsp.WORKSPACE_DID_DELETE_FILES, _PY_FILES)
def on_deleted(ls: GradguardServer, params: lsp.DeleteFilesParams) -> None:
    ls.files_changed([("deleted", _path_of(f.uri)) for f in params.files if _path_of(f.uri)])


@server.feature(lsp.WORKSPACE_DID_RENAME_FILES, _PY_FILES)
def on_renamed(ls: GradguardServer, params: lsp.RenameFilesParams) -> None:
    changes = []
    for f in params.files:
        old, new = _path_of(f.old_uri), _path_of(f.new_uri)
        if old:
            changes.append(("deleted", old))
        if new:
            changes.append(("created", new))
    ls.files_changed(changes)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def on_config(ls: GradguardServer, params: lsp.DidChangeConfigurationParams) -> None:
    settings = params.settings
    lens_before = _lens_settings(ls)
    if isinstance(settings, dict):
        section = settings.get("gradguard", settings)
        if isinstance(section, dict):
            ls.set_settings(section)
        else:
            ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message="gradguard: settings must be an object; keeping the previous ones"))
    ls.config_dirty = True
    if ls.settings_for(None)[1].get("crossFile", True) is False and ls.index is not None:
        ls.index = None  # cross-file analysis turned off: each file alone from now on
        stale = list(ls.contributions)
        ls.contributions.clear()
        for path in stale:
            if ls.open_key(path) is None:
                ls.clear(ls.uri_of(path))
    ls.reanalyze_all()
    if _lens_settings(ls) != lens_before:
        ls.refresh_code_lenses()  # only then: clients that do not answer refresh requests stay unbothered


def _lens_settings(ls: GradguardServer) -> tuple:
    """Where lenses are off: the settings for every document, and the folders that turn them off."""
    return (ls.editor_settings.get("codeLens", True) is False, frozenset(k for k, v in ls.folder_settings.items() if v.get("codeLens", True) is False))


@server.feature(lsp.EXIT)
def on_exit(ls: GradguardServer, *args) -> None:
    """Exit now, even mid-analysis: the interpreter would otherwise join the analysis thread first."""
    _exit_now(0 if ls.protocol._shutdown else 1)


def _exit_now(code: int) -> None:
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    logging.shutdown()
    os._exit(code)


def _apply_log_level(settings: dict) -> None:
    level = str(settings.get("logLevel", "warning")).upper()
    logging.getLogger("gradguard").setLevel({"ERROR": logging.ERROR, "WARNING": logging.WARNING, "INFO": logging.INFO, "DEBUG": logging.DEBUG}.get(level, logging.WARNING))


# -- text documents -----------------------------------------------------------------------------
@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: GradguardServer, params: lsp.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    nb = ls.notebook_of(uri)
    ls.schedule(nb.uri if nb is not None else uri)
    ls.importers_soon(uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: GradguardServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    nb = ls.notebook_of(uri)
    ls.schedule(nb.uri if nb is not None else uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: GradguardServer, params: lsp.DidSaveTextDocumentParams) -> None:
    did_change(ls, params)  # type: ignore[arg-type]
    ls.importers_soon(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GradguardServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.snapshots.pop(uri, None)
    ls.clear(uri)
    path = _path_of(uri)
    if ls.index is not None and path:
        ls.index.set_overlay(path, None)  # unsaved edits are gone: the file is what is on disk again
        ls.files_changed([("changed", path)])
        if ls.contributions.get(path):
            ls.publish_closed(path)


# -- notebooks ----------------------------------------------------------------------------------
@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
def nb_open(ls: GradguardServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
def nb_change(ls: GradguardServer, params: lsp.DidChangeNotebookDocumentParams) -> None:
    change = params.change
    if change and change.cells and change.cells.structure and change.cells.structure.did_close:
        for doc in change.cells.structure.did_close:
            ls.clear_cell(doc.uri)
    ls.schedule(params.notebook_document.uri)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_SAVE)
def nb_save(ls: GradguardServer, params: lsp.DidSaveNotebookDocumentParams) -> None:
    ls.schedule(params.notebook_document.uri)


@server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE)
def nb_close(ls: GradguardServer, params: lsp.DidCloseNotebookDocumentParams) -> None:
    snap = ls.snapshots.pop(params.notebook_document.uri, None)
    for cell in params.cell_text_documents:
        ls.clear_cell(cell.uri)
    if snap and snap.cells:
        for cid in snap.cells.ids:
            ls.clear_cell(cid)


# -- hover --------------------------------------------------------------------------------------
@server.feature(lsp.TEXT_DOCUMENT_HOVER)
async def hover(ls: GradguardServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
    # a hover right after an edit: reuse the analysis already running for this very version instead of
    # analyzing the same text a second time; if the text changed meanwhile, the position is stale
    arrival = ls.version_of(params.text_document.uri)
    await ls.wait_pending(params.text_document.uri)
    if ls.version_of(params.text_document.uri) != arrival:
        return None
    result = hover_local(ls, params)
    if result is not None:
        return result
    # imported classes: ask jedi (on demand, time-limited, cached; never on the diagnostic path)
    snap = ls.snapshot_for(params.text_document.uri)
    if snap is None or snap.cells is not None or snap.analysis.facts is None:
        return None
    src = snap.analysis.source
    pos = src.from_lsp(params.position.line, params.position.character, ls.encoding())
    target = imported_name_at(snap.analysis, pos)
    if target is None:
        return None
    loop = asyncio.get_running_loop()
    answer = await loop.run_in_executor(None, ls.resolver().class_at, src.text, _path_of(snap.key), pos.line, pos.col)
    if answer is None:
        return None
    verdict = {True: "an `nn.Module` subclass", False: "not an `nn.Module`", None: "a class gradguard could not trace to `nn.Module`"}[answer.is_module]
    md = f"**`{target}`** is `{answer.full_name}`: {verdict}"
    if len(answer.chain) > 1:
        md += "\n\nbases: " + " → ".join(f"`{c}`" for c in answer.chain)
    return lsp.Hover(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=md))


def imported_name_at(analysis, pos: Pos) -> Optional[str]:
    import ast as _ast

    facts = analysis.facts
    if analysis.linked is not None:  # the program replaced resolved imports: ask about the file as written
        from gradguard.core.facts import FileFacts
        from gradguard.core.source import SourceText

        try:
            facts = FileFacts(SourceText(analysis.source.text), _ast.parse(analysis.source.text))
        except (SyntaxError, ValueError):
            return None
    for node in walk_nodes(facts.tree):
        if isinstance(node, _ast.Name) and node.lineno == pos.line and node.id in facts.imports.aliases:
            a, b = facts.start(node), facts.end(node)
            if a.col <= pos.col <= b.col and not facts.imports.qualname(node).startswith(("torch", "numpy", "math")):
                return node.id
    return None


def hover_local(ls: GradguardServer, params: lsp.HoverParams) -> Optional[lsp.Hover]:
    snap = ls.snapshot_for(params.text_document.uri)
    if snap is None:
        return None
    src = snap.analysis.source
    enc = ls.encoding()
    line0 = params.position.line
    off = 0
    if snap.cells is not None:
        if params.text_document.uri not in snap.cells.ids:
            return None
        idx = snap.cells.ids.index(params.text_document.uri)
        off = snap.cells.starts[idx] - 1
        line0 += off
    pos = src.from_lsp(line0, params.position.character, enc)
    found = findings_at(snap.analysis, pos, ls.findings_of(snap))
    grad_md = flowlsp.grad_hover(snap.analysis, pos)
    if found:
        f = found[0]
        md = "\n\n---\n\n".join(finding_markdown(x, snap.analysis) for x in found)
        if grad_md:
            md += "\n\n---\n\n" + grad_md
        return lsp.Hover(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=md), range=convert.range_of(src, f.start, f.end, enc, off))
    if grad_md:
        return lsp.Hover(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=grad_md))
    name_md = name_markdown(snap.analysis, pos)
    flow_md = flowlsp.name_flow_markdown(snap.analysis, pos)
    md = "\n\n".join(x for x in (name_md, flow_md) if x)
    if md:
        return lsp.Hover(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=md))
    return None


# -- code lenses and the flow map ---------------------------------------------------------------
@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
async def code_lens(ls: GradguardServer, params: lsp.CodeLensParams) -> Optional[list]:
    """Lenses above every backward sink, from the analysis of the current version (the one the edit
    already triggered: no analysis of its own); cached per snapshot."""
    uri = params.text_document.uri
    nb = ls.notebook_of(uri)
    if not ls.code_lens_enabled(nb.uri if nb is not None else uri):
        return []
    await ls.wait_pending(uri)
    snap = ls.snapshot_for(uri)
    if snap is None:
        return []
    return flowlsp.code_lenses(snap, uri, ls.encoding())


@server.command(flowlsp.SHOW_FLOW)
async def show_flow(ls: GradguardServer, *args) -> Any:
    """``gradguard.showFlow [uri, format]``: the flow map of a document as text (format ``markdown``
    (default, with a mermaid block), ``mermaid``, ``dot``, ``json``, or ``webview``: the mermaid text with
    the line each node reveals). Editors without a graph view bind it to show the markdown."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    opts = args[0] if args and isinstance(args[0], dict) else {}
    uri = opts.get("uri") if opts else (args[0] if args else None)
    fmt = opts.get("format") if opts else (args[1] if len(args) > 1 else "markdown")
    if not isinstance(uri, str):
        return {"error": "gradguard.showFlow needs a document uri"}
    if fmt not in flowlsp.FORMATS:
        fmt = "markdown"
    await ls.wait_pending(uri)
    snap = ls.snapshot_for(uri)
    if snap is None:
        return {"error": f"{uri} is not open"}
    return flowlsp.show_flow(snap, fmt, _path_of(snap.key) or uri)


# -- code actions -------------------------------------------------------------------------------
@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll, FIX_ALL_KIND], resolve_provider=False),
)
def code_action(ls: GradguardServer, params: lsp.CodeActionParams) -> Optional[list]:
    # synchronous on purpose: the answer is for the document version current when the request arrives
    uri = params.text_document.uri
    snap = ls.snapshot_for(uri)
    if snap is None:
        return None
    src = snap.analysis.source
    enc = ls.encoding()
    off = 0
    if snap.cells is not None:
        if uri not in snap.cells.ids:
            return None
        idx = snap.cells.ids.index(uri)
        off = snap.cells.starts[idx] - 1
    only = params.context.only
    want_quickfix = not only or any(str(k) in ("quickfix",) or str(getattr(k, "value", k)).startswith("quickfix") for k in only)
    want_fix_all = not only or any(FIX_ALL_KIND.startswith(str(getattr(k, "value", k))) for k in only)
    start = src.from_lsp(params.range.start.line + off, params.range.start.character, enc)
    end = src.from_lsp(params.range.end.line + off, params.range.end.character, enc)
    actions = []
    if want_quickfix:
        for f in ls.findings_of(snap):
            in_range = not (f.end < start or f.start > end) or any(convert.same_place(f, d, src, enc, off) for d in params.context.diagnostics)
            if not in_range:
                continue
            if snap.cells is not None and snap.cells.to_cell(f.start.line)[0] != snap.cells.ids.index(uri):
                continue
            rel = (lambda line, cm=snap.cells: (cm.ids[cm.to_cell(line)[0]], cm.starts[cm.to_cell(line)[0]] - 1)) if snap.cells is not None else None
            diag = convert.diagnostic(src, f, uri, enc, off, related_uri=rel, source_of=ls.source_of)  # related locations as published
            for i, fx in enumerate(f.fixes):
                edit = _workspace_edit(ls, snap, fx.edits, enc)
                if edit is None:
                    continue
                actions.append(
                    lsp.CodeAction(
                        title=f"{fx.message} ({f.code})",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        is_preferred=(i == 0 and fx.preferred and fx.applicability == Applicability.SAFE),
                        edit=edit,
                    )
                )
            if f.code.startswith("GG") and f.code not in ("GG001", "GG002", "GG003"):
                noqa = _noqa_edit(src, f)
                edit = _workspace_edit(ls, snap, [noqa], enc) if noqa is not None else None
                if edit is not None:
                    actions.append(lsp.CodeAction(title=f"Ignore {f.code} on this line", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag], edit=edit))
    if want_fix_all and snap.cells is None:
        fixed = _fix_all_text(snap, ls.effective_config(snap.key))
        if fixed is not None:
            from gradguard.core.model import Edit

            whole = Edit(Pos(1, 0), src.pos_at(len(src.text)), fixed)
            edit = _workspace_edit(ls, snap, [whole], enc)
            if edit is not None:
                actions.append(lsp.CodeAction(title="Fix all safely fixable gradguard problems", kind=FIX_ALL_KIND, edit=edit))
    return actions or None


def _noqa_edit(src, f: Finding):
    """``# noqa: CODE`` at the end of the finding's line, or None when no comment can end that line (a
    backslash continuation, a string spanning lines): the edit must never break or change the code."""
    from gradguard.core.model import Edit

    slots = _comment_slots(src.text)
    if f.start.line not in slots:
        return None
    comment_col = slots[f.start.line]
    line = src.line(f.start.line)
    import re

    m = re.search(r"#\s*noqa:\s*([A-Za-z]+\d+(?:[\s,]+[A-Za-z]+\d+)*)", line[comment_col:]) if comment_col >= 0 else None
    if m:
        p = Pos(f.start.line, comment_col + m.end())
        return Edit(p, p, f", {f.code}")
    p = Pos(f.start.line, len(line))
    return Edit(p, p, f"  # noqa: {f.code}")


@functools.lru_cache(maxsize=8)
def _comment_slots(text: str) -> dict:
    """Lines that may end with a comment -> column of their existing comment (-1: none)."""
    import io
    import tokenize

    comments: dict = {}
    slots: dict = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.start[1]
            elif tok.type in (tokenize.NEWLINE, tokenize.NL):
                slots[tok.start[0]] = comments.get(tok.start[0], -1)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return {}
    return slots


def _fix_all_text(snap: Snapshot, cfg: Config) -> Optional[str]:
    text = snap.analysis.source.text
    analysis = snap.analysis
    for _ in range(5):
        edits = [e for f in analysis.findings if f.fix and f.fix.applicability == Applicability.SAFE for e in f.fix.edits]
        if not edits:
            break
        new = apply_edits(analysis.source, edits)
        if new == text:
            break
        text = new
        analysis = analyze(text, _path_of(snap.key), cfg)
    return text if text != snap.analysis.source.text else None


def _workspace_edit(ls: GradguardServer, snap: Snapshot, edits, enc: str) -> Optional[lsp.WorkspaceEdit]:
    src = snap.analysis.source
    by_uri: dict = {}
    for e in edits:
        if snap.cells is None:
            uri, off, version = snap.key, 0, snap.version
        else:
            i0, _ = snap.cells.to_cell(e.start.line)
            i1, _ = snap.cells.to_cell(max(e.end.line - (1 if e.end.col == 0 and e.end.line > e.start.line else 0), e.start.line))
            if i0 != i1:
                return None  # an edit spanning cells cannot be expressed
            if any(ln in snap.cells.rewritten for ln in range(e.start.line, e.end.line + 1 if e.end.col else max(e.end.line, e.start.line + 1))):
                return None  # a line the cell holds as a magic (or a cell that does not parse): not what was analyzed
            if snap.cells.shifts and not shift_safe(snap.cells, e):
                return None  # (new lines in a cell IPython dedents would lack its indent)
            uri = snap.cells.ids[i0]
            off = snap.cells.starts[i0] - 1
            version = snap.cell_versions.get(uri)
        by_uri.setdefault((uri, version), []).append(lsp.TextEdit(range=convert.range_of(src, e.start, e.end, enc, off), new_text=e.content))
    caps = ls.client_capabilities
    doc_changes = bool(caps and caps.workspace and caps.workspace.workspace_edit and caps.workspace.workspace_edit.document_changes)
    if doc_changes:
        return lsp.WorkspaceEdit(
            document_changes=[lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=tedits) for (uri, version), tedits in by_uri.items()]
        )
    return lsp.WorkspaceEdit(changes={uri: tedits for (uri, _), tedits in by_uri.items()})


class NoContentsFilter(logging.Filter):
    """Logs never carry file contents: message arguments other than short one-line strings and numbers
    (pygls logs whole params, message bodies and tracebacks of them) are elided."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            record.args = {k: _elide(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_elide(a) for a in record.args)
        return True


def _elide(a):
    if a is None or isinstance(a, (bool, int, float)):
        return a
    if isinstance(a, str) and len(a) <= 120 and "\n" not in a:
        return a
    return f"<{type(a).__name__} elided>"


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for h in logging.getLogger().handlers:
        h.addFilter(NoContentsFilter())
    server.start_io()
    _exit_now(0)  # stdin closed: do not wait for an analysis still running
