"""Pull diagnostics (LSP 3.17) over real LSP: a client declaring textDocument.diagnostic and
workspace.diagnostics.refreshSupport pulls document and workspace reports (result ids, unchanged reports,
findings other files place, closed files) and is asked to pull again when findings change because another
file changed; it is never pushed the same diagnostics. Clients without those capabilities keep push."""
from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from concurrent.futures import Future
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from seeds import DETACH_SEED
from test_lsp_workspace import MODEL, TRAIN, TRAIN_HEAD_ONLY
from waiting import until

ROOT = Path(tempfile.mkdtemp(prefix="gg_pull_"))
SEED_URI = (ROOT / "seed.py").as_uri()
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"])


def _pull_capabilities(refresh: bool = True) -> lsp.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")  # as vscode-languageclient 9 declares pull diagnostics
    caps.text_document.diagnostic = lsp.DiagnosticClientCapabilities(dynamic_registration=True, related_document_support=False)
    caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=refresh)
    return caps


def _write_project() -> None:
    shutil.rmtree(ROOT / "proj", ignore_errors=True)
    pkg = ROOT / "proj"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text(MODEL)
    (pkg / "train.py").write_text(TRAIN)
    (ROOT / "seed.py").write_text(DETACH_SEED)


async def _start(client: LanguageClient, caps: lsp.ClientCapabilities) -> lsp.InitializeResult:
    _write_project()
    return await client.initialize_session(
        lsp.InitializeParams(capabilities=caps, root_uri=ROOT.as_uri(), workspace_folders=[lsp.WorkspaceFolder(uri=ROOT.as_uri(), name="ws")])
    )


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    lsp_client.init_result = await _start(lsp_client, _pull_capabilities())
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def push_client(lsp_client: LanguageClient):
    lsp_client.init_result = await _start(lsp_client, client_capabilities("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def no_refresh_client(lsp_client: LanguageClient):
    """Pulls, but cannot be asked to pull again (Neovim 0.11 declares this)."""
    lsp_client.init_result = await _start(lsp_client, _pull_capabilities(refresh=False))
    yield
    await lsp_client.shutdown_session()


def _uri(name: str) -> str:
    return (ROOT / "proj" / name).as_uri()


def _open(client, uri: str, text: str) -> str:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def _change(client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]
        )
    )


async def _pull(client, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(
        lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri), identifier="gradguard", previous_result_id=previous)
    )


def _codes(items) -> list:
    return [(d.code, d.range.start.line + 1) for d in items]


async def _pull_until(client, uri: str, predicate, timeout: float = 120.0):
    """Pull ``uri`` until its full report satisfies ``predicate``: each pull is answered at once (or after the
    analysis in flight), and the next one is made when the server asks for it (a refresh) or shortly after,
    so a slow machine only takes longer."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    report = None
    while True:
        seen = client.diagnostic_refresh_count
        report = await _pull(client, uri)
        if predicate(report.items):
            return report
        if loop.time() > end:
            raise AssertionError(f"{uri}: {_codes(report.items)}")
        await until(lambda: client.diagnostic_refresh_count > seen, timeout=1.0)


async def _workspace_until(client, predicate, previous=(), timeout: float = 120.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        seen = client.diagnostic_refresh_count
        report = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=list(previous), identifier="gradguard"))
        by_uri = {item.uri: item for item in report.items}
        if predicate(by_uri):
            return by_uri
        if loop.time() > end:
            raise AssertionError({u: getattr(i, "items", i.kind) for u, i in by_uri.items()})
        await until(lambda: client.diagnostic_refresh_count > seen, timeout=1.0)


async def test_capability_and_pull_on_open(client: LanguageClient):
    provider = client.init_result.capabilities.diagnostic_provider
    assert provider is not None, client.init_result.capabilities
    assert (provider.identifier, provider.inter_file_dependencies, provider.workspace_diagnostics) == ("gradguard", True, True)
    _open(client, SEED_URI, DETACH_SEED)
    report = await _pull_until(client, SEED_URI, lambda items: any(d.code == "GG201" for d in items))
    assert report.kind == lsp.DocumentDiagnosticReportKind.Full and report.result_id
    [d] = [d for d in report.items if d.code == "GG201"]
    assert d.source == "gradguard" and d.range.start.line == 6
    assert d.related_information and any(r.location.range.start.line == 9 for r in d.related_information)
    # the same report, pulled again without a change: unchanged, same result id
    again = await _pull(client, SEED_URI, report.result_id)
    assert again.kind == lsp.DocumentDiagnosticReportKind.Unchanged and again.result_id == report.result_id
    # a stale result id gets the full report
    stale = await _pull(client, SEED_URI, "not-a-result-id")
    assert stale.kind == lsp.DocumentDiagnosticReportKind.Full and stale.result_id == report.result_id
    assert SEED_URI not in client.diagnostics  # never pushed as well


async def test_new_report_after_edit(client: LanguageClient):
    _open(client, SEED_URI, DETACH_SEED)
    first = await _pull_until(client, SEED_URI, lambda items: any(d.code == "GG201" for d in items))
    _change(client, SEED_URI, DETACH_SEED.replace(".detach()", ""), 2)
    second = await _pull_until(client, SEED_URI, lambda items: not any(d.code == "GG201" for d in items))
    assert second.kind == lsp.DocumentDiagnosticReportKind.Full and second.result_id != first.result_id
    assert (await _pull(client, SEED_URI, second.result_id)).kind == lsp.DocumentDiagnosticReportKind.Unchanged
    # closed: the document has nothing of its own any more
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=SEED_URI)))
    closed = await _pull(client, SEED_URI)
    assert list(closed.items) == []
    assert SEED_URI not in client.diagnostics


async def test_cross_file_finding_in_pulled_report(client: LanguageClient):
    """model.py is opened alone; the GG201 train.py's program places in it arrives in model.py's pulled
    report once the closed importer was analyzed in the background (the server asks to pull again)."""
    model = _open(client, _uri("model.py"), MODEL)
    report = await _pull_until(client, model, lambda items: ("GG201", 21) in _codes(items))
    [d] = [d for d in report.items if d.code == "GG201"]
    assert "train.py:12" in d.message
    assert any(r.location.uri == _uri("train.py") for r in d.related_information or [])
    assert not client.diagnostics  # nothing pushed: not model.py, not the closed train.py


async def test_workspace_diagnostic_reports_closed_file(client: LanguageClient):
    """Only train.py is open: workspace/diagnostic reports the finding in the closed model.py; previous
    result ids get unchanged reports; when the finding goes away (train.py changed on disk... here: edited),
    model.py gets an empty report."""
    train = _open(client, _uri("train.py"), TRAIN)
    model = _uri("model.py")
    by_uri = await _workspace_until(client, lambda r: model in r and ("GG201", 21) in _codes(getattr(r[model], "items", [])))
    full = by_uri[model]
    assert full.kind == lsp.DocumentDiagnosticReportKind.Full and full.version is None and full.result_id
    assert any(r.location.uri == train for d in full.items for r in d.related_information or [])
    assert train in by_uri and by_uri[train].version == 1  # the open document, with its version
    previous = [lsp.PreviousResultId(uri=u, value=i.result_id) for u, i in by_uri.items()]
    again = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=previous))
    assert {i.uri: i.kind for i in again.items}[model] == lsp.DocumentDiagnosticReportKind.Unchanged
    # the closed file is also answered to a document pull
    assert ("GG201", 21) in _codes((await _pull(client, model)).items)
    # the head alone is trained now: model.py's finding goes away, reported as an empty full report
    _change(client, train, TRAIN_HEAD_ONLY, 2)
    by_uri = await _workspace_until(
        client, lambda r: model in r and r[model].kind == lsp.DocumentDiagnosticReportKind.Full and not r[model].items, previous=previous
    )
    assert not client.diagnostics  # never pushed


async def test_refresh_when_a_dependency_changes(client: LanguageClient):
    model = _open(client, _uri("model.py"), MODEL)
    train = _open(client, _uri("train.py"), TRAIN)
    await _pull_until(client, model, lambda items: ("GG201", 21) in _codes(items))
    await _pull(client, train)
    before = client.diagnostic_refresh_count
    _change(client, train, TRAIN_HEAD_ONLY, 2)  # model.py is re-analyzed: its report changes
    assert await until(lambda: client.diagnostic_refresh_count > before), "no workspace/diagnostic/refresh"
    await _pull_until(client, model, lambda items: ("GG201", 21) not in _codes(items))
    # closed, train.py is what is on disk again (the whole model trained): the finding is back
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=train)))
    await _pull_until(client, model, lambda items: ("GG201", 21) in _codes(items))
    # a change on disk (watched files): asked to pull again, the finding is gone
    before = client.diagnostic_refresh_count
    (ROOT / "proj" / "train.py").write_text(TRAIN_HEAD_ONLY)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=train, type=lsp.FileChangeType.Changed)]))
    assert await until(lambda: client.diagnostic_refresh_count > before), "no workspace/diagnostic/refresh"
    await _pull_until(client, model, lambda items: ("GG201", 21) not in _codes(items))
    assert not client.diagnostics


async def test_notebook_cells_are_pushed_in_pull_mode(client: LanguageClient):
    nb_uri = (ROOT / "train.ipynb").as_uri()
    cells = ["import torch\n", "x = torch.tensor([1.0, 2.0], requires_grad=True)\nz = (x * 2).detach()\n", "loss = (z ** 2).sum()\nloss.backward()\n"]
    cell_uris = [f"vscode-notebook-cell:{ROOT}/train.ipynb#C{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=nb_uri, notebook_type="jupyter-notebook", version=1, cells=[lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=u) for u in cell_uris]
            ),
            cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python", version=1, text=c) for u, c in zip(cell_uris, cells)],
        )
    )
    assert await until(lambda: all(u in client.diagnostics for u in cell_uris)), client.diagnostics
    assert [d.code for d in client.diagnostics[cell_uris[1]]] == ["GG201"]
    assert list((await _pull(client, cell_uris[1])).items) == []  # pushed, so not pulled as well


async def test_bad_pulls_get_answers(client: LanguageClient):
    report = await _pull(client, "file:///nowhere/not_open.py")
    assert report.kind == lsp.DocumentDiagnosticReportKind.Full and list(report.items) == []
    report = await _pull(client, "untitled:Untitled-9")
    assert list(report.items) == []
    workspace = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=[lsp.PreviousResultId(uri="file:///nowhere/x.py", value="old")]))
    assert [(i.uri, i.kind, list(i.items)) for i in workspace.items] == [("file:///nowhere/x.py", lsp.DocumentDiagnosticReportKind.Full, [])]
    # params that are not a DocumentDiagnosticParams: a JSON-RPC error, not a hang
    proto = client.protocol
    fut: Future = Future()
    proto._request_futures["bad-pull"] = fut
    proto._result_types["bad-pull"] = proto.get_result_type(lsp.TEXT_DOCUMENT_DIAGNOSTIC)
    proto._send_data({"jsonrpc": "2.0", "id": "bad-pull", "method": lsp.TEXT_DOCUMENT_DIAGNOSTIC, "params": {"textDocument": 42}})
    with pytest.raises(Exception) as exc:
        await asyncio.wait_for(asyncio.wrap_future(fut), 30)
    assert "Invalid params" in str(exc.value)


async def test_push_only_client_keeps_push(push_client: LanguageClient):
    client = push_client
    assert client.init_result.capabilities.diagnostic_provider is None
    model = _open(client, _uri("model.py"), MODEL)
    train = _open(client, _uri("train.py"), TRAIN)
    assert await until(lambda: ("GG201", 21) in _codes(client.diagnostics.get(model, []))), client.diagnostics
    _change(client, train, TRAIN_HEAD_ONLY, 2)  # a dependency changed: republished, no refresh
    assert await until(lambda: ("GG201", 21) not in _codes(client.diagnostics.get(model, []))), client.diagnostics
    with pytest.raises(JsonRpcMethodNotFound):
        await _pull(client, model)
    assert client.diagnostic_refresh_count == 0


async def test_pull_without_refresh_support_keeps_push(no_refresh_client: LanguageClient):
    """Such a client could not learn that another file changed a document's findings: it is pushed to."""
    client = no_refresh_client
    assert client.init_result.capabilities.diagnostic_provider is None
    _open(client, SEED_URI, DETACH_SEED)
    assert await until(lambda: any(d.code == "GG201" for d in client.diagnostics.get(SEED_URI, []))), client.diagnostics
    assert client.diagnostic_refresh_count == 0
