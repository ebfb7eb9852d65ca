"""The workspace over real LSP: a file opened alone gets the findings that need the rest of the workspace,
with the evidence in other files as related information; edits and file changes elsewhere republish it."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from waiting import until

MODEL = '''import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        h = self.encoder(x).detach()
        return self.head(h)
'''

TRAIN = '''import torch
from torch import nn

from .model import Net


def train(model, loader, optimizer):
    crit = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        optimizer.step()


def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(torch.randn(4, 8), torch.randint(0, 2, (4,)))]
    train(model, loader, opt)
'''

# the head alone is trained: the detached encoder is intended (a frozen feature extractor)
TRAIN_HEAD_ONLY = TRAIN.replace("model.parameters()", "model.head.parameters()")

# a chain of imports: layers <- model <- train. The layer's detach starves what train.py trains, two imports away
CHAIN = {
    "layers.py": """import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)

    def forward(self, x):
        h = self.proj(x).relu()
        return h.detach()
""",
    "model.py": """import torch.nn as nn

from .layers import Encoder


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = Encoder(8, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.body(x))
""",
    "train.py": """import torch
import torch.nn.functional as F

from .model import Net


def train(steps=10):
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x = torch.randn(4, 8)
        y = torch.randint(0, 2, (4,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
""",
}

ROOT = Path(tempfile.mkdtemp(prefix="gg_ws_"))


def _write_project() -> None:
    shutil.rmtree(ROOT / "proj", ignore_errors=True)
    pkg = ROOT / "proj"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text(MODEL)
    (pkg / "train.py").write_text(TRAIN)
    shutil.rmtree(ROOT / "chain", ignore_errors=True)
    (ROOT / "chain").mkdir()
    (ROOT / "chain" / "__init__.py").write_text("")
    for name, text in CHAIN.items():
        (ROOT / "chain" / name).write_text(text)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient):
    _write_project()
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=ROOT.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=ROOT.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def _uri(name: str) -> str:
    return (ROOT / "proj" / name).as_uri()


def _open(client, name: str, text: str) -> str:
    uri = _uri(name)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def _codes(client, uri):
    return [(d.code, d.range.start.line + 1) for d in client.diagnostics.get(uri, [])]


async def test_file_opened_alone_gets_cross_file_finding(client: LanguageClient):
    uri = _open(client, "model.py", MODEL)
    assert await until(lambda: ("GG201", 21) in _codes(client, uri)), _codes(client, uri)
    [d] = [d for d in client.diagnostics[uri] if d.code == "GG201"]
    assert "train.py:12" in d.message
    related = {(r.location.uri, r.location.range.start.line + 1) for r in d.related_information or []}
    assert (_uri("train.py"), 12) in related  # the backward in the other file
    # the quick fix edits model.py, the file opened
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=d.range, context=lsp.CodeActionContext(diagnostics=[d]))
    )
    fixes = [a for a in actions or [] if a.title.startswith("Remove")]
    assert fixes, [a.title for a in actions or []]
    edit = fixes[0].edit
    changes = edit.document_changes or []
    assert changes and changes[0].text_document.uri == uri
    # the background index reported its work done, and the server asked to watch Python files
    assert await until(lambda: any(isinstance(v, lsp.WorkDoneProgressEnd) for vs in client.progress_reports.values() for v in vs)), client.progress_reports
    assert lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES in client.registrations


async def test_file_two_imports_from_the_training_loop_gets_its_finding(client: LanguageClient):
    """Only layers.py is open; model.py imports it and train.py imports model.py: the training loop that shows
    the layer's cut is two imports away, and is analyzed in the background all the same."""
    uri = (ROOT / "chain" / "layers.py").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=CHAIN["layers.py"])))
    assert await until(lambda: ("GG201", 11) in _codes(client, uri)), _codes(client, uri)
    [d] = [d for d in client.diagnostics[uri] if d.code == "GG201"]
    assert "train.py:15" in d.message
    assert any(r.location.uri == (ROOT / "chain" / "train.py").as_uri() for r in d.related_information or [])


async def test_save_keeps_or_moves_what_closed_importers_place(client: LanguageClient):
    """model.py opened alone: its finding comes from the closed train.py, analyzed in the background. A save
    that leaves train.py's program as it was (a helper added at the end, which train.py does not copy) keeps
    the finding where it is (that importer is not analyzed again); a save that moves the copied lines moves it."""
    model = _open(client, "model.py", MODEL)
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)

    def edit(version: int, text: str) -> None:
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=model, version=version),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=model)))

    helper = MODEL + "\n\ndef unused_helper(x):\n    return x.detach()\n"
    edit(2, helper)
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)
    edit(3, "# the model\n" + helper)
    assert await until(lambda: [c for c in _codes(client, model) if c[0] == "GG201"] == [("GG201", 22)]), _codes(client, model)


async def test_edit_in_other_open_file_republishes(client: LanguageClient):
    model = _open(client, "model.py", MODEL)
    train = _open(client, "train.py", TRAIN)
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=train, version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=TRAIN_HEAD_ONLY)],
        )
    )
    assert await until(lambda: ("GG201", 21) not in _codes(client, model)), _codes(client, model)


async def test_change_on_disk_republishes(client: LanguageClient):
    model = _open(client, "model.py", MODEL)
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)
    (ROOT / "proj" / "train.py").write_text(TRAIN_HEAD_ONLY)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=_uri("train.py"), type=lsp.FileChangeType.Changed)]))
    assert await until(lambda: ("GG201", 21) not in _codes(client, model)), _codes(client, model)
    (ROOT / "proj" / "train.py").write_text(TRAIN)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=_uri("train.py"), type=lsp.FileChangeType.Changed)]))
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)
    os.remove(ROOT / "proj" / "train.py")
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(uri=_uri("train.py"), type=lsp.FileChangeType.Deleted)]))
    assert await until(lambda: ("GG201", 21) not in _codes(client, model)), _codes(client, model)


async def test_finding_in_a_closed_file_is_published_there(client: LanguageClient):
    """Only train.py is open: the bug is in model.py, which gets the diagnostic (the Problems panel shows it);
    opening model.py offers the fix there."""
    _open(client, "train.py", TRAIN)
    model = _uri("model.py")
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), client.diagnostics
    [d] = [d for d in client.diagnostics[model] if d.code == "GG201"]
    assert any(r.location.uri == _uri("train.py") for r in d.related_information or [])
    _open(client, "model.py", MODEL)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=model), range=d.range, context=lsp.CodeActionContext(diagnostics=[d]))
    )
    assert any(a.title.startswith("Remove") and a.edit.document_changes[0].text_document.uri == model for a in actions or [])


async def test_cross_file_can_be_turned_off(client: LanguageClient):
    model = _open(client, "model.py", MODEL)
    assert await until(lambda: ("GG201", 21) in _codes(client, model)), _codes(client, model)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"gradguard": {"crossFile": False}}))
    assert await until(lambda: ("GG201", 21) not in _codes(client, model)), _codes(client, model)


async def test_lens_names_a_cut_in_another_file(client: LanguageClient):
    train = _open(client, "train.py", TRAIN)
    assert await until(lambda: train in client.diagnostics)
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=train)))
    titles = [lens.command.title for lens in lenses or []]
    assert any("model.py:21" in t for t in titles), titles
    [cut] = [lens for lens in lenses if "model.py:21" in lens.command.title]
    assert list(cut.command.arguments) == [_uri("model.py"), 20]  # reveals the `.detach()` in model.py
    assert all(lens.range.start.line < len(TRAIN.splitlines()) for lens in lenses)
