"""Code lenses above backward sinks, gradguard.showFlow, and the flow hovers (.grad reads, findings) over
real LSP."""
from __future__ import annotations

import os
import sys

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from waiting import notified, until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = open(os.path.join(REPO, "examples", "train_with_bugs.py"), encoding="utf-8").read()
C101 = open(os.path.join(REPO, "tests", "corpus", "dev", "c101_lightning_detach_in_pooling.py"), encoding="utf-8").read()

SALIENCY = """import torch
import torch.nn as nn


def main():
    enc, head = nn.Linear(4, 6), nn.Linear(6, 1)
    feats = torch.relu(enc(torch.randn(3, 4)))
    out = head(feats).sum()
    out.backward()
    importance = feats.grad
    g = head.weight.grad
    return importance, g
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient):
    @lsp_client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
    def _refresh(*args):
        lsp_client.lens_refreshes = getattr(lsp_client, "lens_refreshes", 0) + 1

    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


async def _open(client, uri, text):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await notified(client)


async def _lenses(client, uri):
    return await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))


async def test_code_lens_on_example(client: LanguageClient):
    uri = "file:///tmp/gg_lens_example.py"
    await _open(client, uri, EXAMPLE)
    lenses = await _lenses(client, uri)
    titles = [(le.range.start.line, le.command.title) for le in lenses]
    assert titles == [(30, "trains head"), (30, "not reached: encoder (cut at line 8)"), (30, "not reached: mid (cut at line 20)")], titles
    reveal = lenses[1].command
    assert reveal.command == "gradguard.revealLine" and list(reveal.arguments) == [uri, 7]
    assert lenses[0].command.command == "gradguard.showFlow"
    # cached: the same answer again without a new analysis
    again = await _lenses(client, uri)
    assert [le.command.title for le in again] == [t for _, t in titles]


async def test_code_lens_on_lightning_training_step(client: LanguageClient):
    uri = "file:///tmp/gg_lens_c101.py"
    await _open(client, uri, C101)
    lenses = await _lenses(client, uri)
    titles = [(le.range.start.line + 1, le.command.title) for le in lenses]
    assert (35, "trains classifier") in titles, titles
    assert (35, "not reached: embed, encoder (cut at line 13)") in titles, titles


async def test_code_lens_follows_edits_and_setting(client: LanguageClient):
    uri = "file:///tmp/gg_lens_edit.py"
    await _open(client, uri, EXAMPLE)
    fixed = EXAMPLE.replace(").detach()  # GG201", ")  # GG201")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    lenses = await _lenses(client, uri)
    assert [le.command.title for le in lenses] == ["trains head", "not reached: encoder, mid (cut at line 20)"]
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"gradguard": {"codeLens": False}}))
    assert not await _lenses(client, uri)
    await until(lambda: getattr(client, "lens_refreshes", 0) >= 1, timeout=10)
    assert getattr(client, "lens_refreshes", 0) >= 1  # the client is told to drop the lenses it shows


async def test_show_flow_command(client: LanguageClient):
    uri = "file:///tmp/gg_flow_cmd.py"
    await _open(client, uri, EXAMPLE)
    md = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="gradguard.showFlow", arguments=[uri]))
    assert "```mermaid" in md and "flowchart LR" in md and "line 31" in md
    data = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="gradguard.showFlow", arguments=[uri, "json"]))
    assert data["losses"][0]["trains"] == ["model.head"]
    web = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="gradguard.showFlow", arguments=[{"uri": uri, "format": "webview"}]))
    assert web["mermaid"].startswith("flowchart LR") and 31 in web["nodes"].values() and 8 in web["nodes"].values()


async def _hover(client, uri, line, character):
    return await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=character)))


async def test_hover_on_grad_reads(client: LanguageClient):
    uri = "file:///tmp/gg_hover_grad.py"
    await _open(client, uri, SALIENCY)
    h = await _hover(client, uri, 9, 25)  # feats.grad: GG401 finding + the grad story
    assert h is not None and "**None** at run time" in h.contents.value and "not a leaf" in h.contents.value
    h = await _hover(client, uri, 10, 20)  # head.weight.grad
    assert h is not None and "a real gradient at run time" in h.contents.value and "line 9" in h.contents.value


async def test_finding_hover_adds_flow_without_repeating_the_diagnostic(client: LanguageClient):
    uri = "file:///tmp/gg_hover_finding.py"
    await _open(client, uri, EXAMPLE)
    diags = list(client.diagnostics[uri])
    d = next(x for x in diags if x.code == "GG201")
    h = await _hover(client, uri, d.range.start.line, d.range.start.character + 1)
    text = h.contents.value
    assert "GG201" in text and "**Flow:**" in text and "⤫ `loss.backward()` (line 31)" in text and "calls at lines 19, 30" in text
    assert d.message not in text  # VS Code prints the message above the hover
    assert "At run time: At run time" not in text and "**At run time:** At run time" not in text
    for rel in d.related_information or []:
        assert rel.message not in text


async def test_no_double_at_run_time(client: LanguageClient):
    uri = "file:///tmp/gg_hover_nopath.py"
    text = "import torch\n\n\ndef main():\n    w = torch.randn(3, requires_grad=True)\n    loss = (w.detach() * 2).sum()\n    loss.backward()\n"
    await _open(client, uri, text)
    diags = list(client.diagnostics[uri])
    assert diags
    for d in diags:
        h = await _hover(client, uri, d.range.start.line, d.range.start.character + 1)
        if h is not None:
            assert "**At run time:** At run time" not in h.contents.value


async def test_hover_on_model_name_says_what_each_loss_reaches(client: LanguageClient):
    uri = "file:///tmp/gg_hover_model.py"
    await _open(client, uri, EXAMPLE)
    h = await _hover(client, uri, 29, 40)  # `model` in `nn.functional.mse_loss(model(x), y)`
    assert h is not None, "no hover"
    text = h.contents.value
    assert "trained by the loss at line 31 (`loss.backward()`): `model.head`; stepped by `opt`" in text, text
    assert "`model.encoder` does not reach the loss at line 31 (`loss.backward()`): cut by `.detach()` at line 8" in text, text


async def test_notebook_lenses_and_show_flow_in_cells(client: LanguageClient):
    import asyncio

    nb_uri = "file:///tmp/gg_flow_nb.ipynb"
    lines = EXAMPLE.splitlines(keepends=True)
    texts = ["".join(lines[:10]), "".join(lines[10:])]  # program line N >= 11 is line N - 10 of the second cell
    cell_uris = [f"vscode-notebook-cell:/tmp/gg_flow_nb.ipynb#F{i}" for i in range(len(texts))]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=nb_uri, notebook_type="jupyter-notebook", version=1, cells=[lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=u) for u in cell_uris]
            ),
            cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python", version=1, text=t) for u, t in zip(cell_uris, texts)],
        )
    )
    for _ in range(200):
        if all(u in client.diagnostics for u in cell_uris):
            break
        await asyncio.sleep(0.05)
    lenses = await _lenses(client, cell_uris[1])
    titles = [(le.range.start.line, le.command.title) for le in lenses]
    assert titles == [(20, "trains head"), (20, "not reached: encoder (cut at cell 1, line 8)"), (20, "not reached: mid (cut at cell 2, line 10)")], titles
    assert list(lenses[1].command.arguments) == [cell_uris[0], 7] and list(lenses[2].command.arguments) == [cell_uris[1], 9]
    data = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="gradguard.showFlow", arguments=[nb_uri, "json"]))
    [loss] = data["losses"]
    assert (loss["cell"], loss["line"]) == (2, 21) and [s["cut"]["cell"] for s in loss["starved"]] == [1, 2], data
