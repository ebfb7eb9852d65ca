"""Import-system facts of the workspace (see tests/test_workspace_import_system.py) over real LSP, with one file
opened: the diagnostic lands where the code must change, with the evidence in other files as related information."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from waiting import until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_workspace_import_system import EXTENSION_SOURCE, PROJECTS, build_extension  # noqa: E402

_state: dict = {}

# test -> the project (of tests/test_workspace_import_system.py) its workspace holds
PROJECT_OF = {
    "test_function_called_as_instance_is_reported_on_the_call": "function_legacy_instance_called_in_other_file",
    "test_module_import_clash_still_links": "module_import_clashes_with_own_names",
    "test_relative_import_in_namespace_package_reaches_other_portion": "ns_relative_import_finds_portion_in_src",
    "test_extension_built_beside_the_source_shadows_it": "extension_of_another_name_does_not_shadow",
    "test_last_star_import_in_init_wins": "init_two_stars_last_wins",
}


def _root() -> Path:
    return _state["root"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient, request):
    root = Path(tempfile.mkdtemp(prefix="gg_imp_"))
    _state["root"] = root
    for rel, text in PROJECTS[PROJECT_OF[request.node.originalname]][0].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(root, ignore_errors=True)


def _uri(rel: str) -> str:
    return (_root() / rel).as_uri()


def _open(client, rel: str) -> str:
    uri = _uri(rel)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=(_root() / rel).read_text())))
    return uri


def _line(rel: str, needle: str) -> int:
    [n] = [i + 1 for i, ln in enumerate((_root() / rel).read_text().splitlines()) if needle in ln]
    return n


async def test_function_called_as_instance_is_reported_on_the_call(client: LanguageClient):
    """model.py opened alone: GG913 on its ``GradReverse(0.5)(f)`` (the line torch raises on), the non-static
    methods in utils/grl.py as related information."""
    uri = _open(client, "model.py")
    line = _line("model.py", "GradReverse(0.5)(f)")

    def got():
        return [d for d in client.diagnostics.get(uri, []) if d.code == "GG913" and d.range.start.line + 1 == line]

    assert await until(lambda: bool(got())), client.diagnostics.get(uri)
    [d] = got()
    assert d.severity == lsp.DiagnosticSeverity.Error
    related = {(r.location.uri, r.location.range.start.line + 1) for r in d.related_information or []}
    assert (_uri("utils/grl.py"), _line("utils/grl.py", "def forward")) in related


async def test_module_import_clash_still_links(client: LanguageClient):
    """model.py's ``import config`` while train.py has a ``config`` of its own: model.py opened alone still gets the
    ``.detach()`` that starves the encoder train.py trains."""
    uri = _open(client, "model.py")
    line = _line("model.py", ".detach()")
    assert await until(lambda: any(d.code == "GG201" and d.range.start.line + 1 == line for d in client.diagnostics.get(uri, []))), client.diagnostics.get(uri)
    [d] = [d for d in client.diagnostics[uri] if d.code == "GG201"]
    assert any(r.location.uri == _uri("train.py") for r in d.related_information or [])


async def test_relative_import_in_namespace_package_reaches_other_portion(client: LanguageClient):
    """ns/model.py's ``from . import layers`` is src/ns/layers.py (one namespace package ns on two roots): with
    train.py opened, src/ns/layers.py (closed) gets its raw tensor weight, the ``.grad`` read in train.py related."""
    _open(client, "train.py")
    uri = _uri("src/ns/layers.py")
    line = _line("src/ns/layers.py", "self.weight = torch.randn(")
    assert await until(lambda: any(d.code == "GG301" and d.range.start.line + 1 == line for d in client.diagnostics.get(uri, []))), client.diagnostics
    [d] = [d for d in client.diagnostics[uri] if d.code == "GG301"]
    assert any(r.location.uri == _uri("train.py") for r in d.related_information or [])


async def test_extension_built_beside_the_source_shadows_it(client: LanguageClient):
    """train.py opened: layers.py's raw tensor weight is reported there; once ``layers.<suffix>.so`` is built beside
    it (a watched-file event), ``from layers import`` loads the extension and the finding goes away."""
    _open(client, "train.py")
    uri = _uri("layers.py")
    line = _line("layers.py", "self.weight = torch.randn(")

    def reported() -> bool:
        return any(d.code == "GG301" and d.range.start.line + 1 == line for d in client.diagnostics.get(uri, []))

    assert await until(reported), client.diagnostics
    built = build_extension(_root(), "layers", EXTENSION_SOURCE)
    if built is None:
        pytest.skip("no C compiler to build the extension module")
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=Path(built).as_uri(), type=lsp.FileChangeType.Created)]))
    assert await until(lambda: not reported()), client.diagnostics.get(uri)


async def test_last_star_import_in_init_wins(client: LanguageClient):
    """models/__init__.py: ``from .good import *`` then ``from .bad import *``; both define Head, so Head is bad's:
    with train.py opened, models/bad.py (closed) gets its raw tensor weight, and models/good.py nothing."""
    _open(client, "train.py")
    bad, good = _uri("models/bad.py"), _uri("models/good.py")
    line = _line("models/bad.py", "self.weight = torch.randn(")
    assert await until(lambda: any(d.code == "GG301" and d.range.start.line + 1 == line for d in client.diagnostics.get(bad, []))), client.diagnostics
    assert not [d for d in client.diagnostics.get(good, []) if d.severity in (lsp.DiagnosticSeverity.Error, lsp.DiagnosticSeverity.Warning)]
