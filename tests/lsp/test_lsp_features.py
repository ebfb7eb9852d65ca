"""Editor features over real LSP: live configuration, fix-all, notebooks (cells analyzed as one program)."""
from __future__ import annotations

import asyncio
import sys

import pytest_lsp
from lsprotocol import types as lsp
from waiting import notified, until
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

BUG = """import torch


def main():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 2).detach()
    loss = (z ** 2).sum()
    out = loss.backward()
    return out
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"settings": {"severity": {"GG101": "hint"}}},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _open(client, uri, text):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await notified(client)
    return list(client.diagnostics[uri])


async def test_initialization_options_and_live_configuration(client: LanguageClient):
    uri = "file:///tmp/gg_cfg.py"
    diags = await _open(client, uri, BUG)
    by_code = {d.code: d for d in diags}
    assert by_code["GG101"].severity == lsp.DiagnosticSeverity.Hint  # from initializationOptions
    assert "GG201" in by_code
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"gradguard": {"ignore": ["GG201"]}}))
    await until(lambda: "GG201" not in [d.code for d in client.diagnostics[uri]])
    codes = [d.code for d in client.diagnostics[uri]]
    assert "GG201" not in codes and "GG101" in codes
    # an invalid value: a clear message naming the key, defaults keep working
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"gradguard": {"severity": {"GG201": "loud"}}}))
    msg = await notified(client, lsp.WINDOW_SHOW_MESSAGE)
    assert msg is not None, "no window/showMessage for an invalid setting"
    assert "severity.GG201" in msg.message
    await until(lambda: "GG201" in [d.code for d in client.diagnostics[uri]])
    assert "GG201" in [d.code for d in client.diagnostics[uri]]


async def test_fix_all_source_action(client: LanguageClient):
    uri = "file:///tmp/gg_fixall.py"
    await _open(client, uri, BUG)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
            context=lsp.CodeActionContext(diagnostics=[], only=[lsp.CodeActionKind.SourceFixAll]),
        )
    )
    assert actions and actions[0].kind == "source.fixAll.gradguard"
    edit = actions[0].edit.document_changes[0]
    assert edit.text_document.version == 1
    new_text = edit.edits[0].new_text
    assert "z = (x * 2)\n" in new_text and "detach" not in new_text
    assert "    loss.backward()" not in new_text or "out = loss.backward()" in new_text  # GG101 here has no safe fix (the name differs)
    compile(new_text, "fixed.py", "exec")


async def test_notebook_cells_analyzed_in_order(client: LanguageClient):
    nb_uri = "file:///tmp/train.ipynb"
    cells = [
        ("import torch\n",),
        ("x = torch.tensor([1.0, 2.0], requires_grad=True)\nz = (x * 2).detach()\n",),
        ("loss = (z ** 2).sum()\nloss.backward()\n",),
    ]
    cell_uris = [f"vscode-notebook-cell:/tmp/train.ipynb#C{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=nb_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=u) for u in cell_uris],
            ),
            cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python", version=1, text=c[0]) for u, c in zip(cell_uris, cells)],
        )
    )
    for _ in range(200):  # the three cells are published together; poll instead of racing notifications
        if all(u in client.diagnostics for u in cell_uris):
            break
        await asyncio.sleep(0.05)
    diags = list(client.diagnostics[cell_uris[1]])
    assert [d.code for d in diags] == ["GG201"]
    assert diags[0].range.start.line == 1  # line within the cell
    assert any(r.location.uri == cell_uris[2] and r.location.range.start.line == 1 for r in diags[0].related_information)
    assert list(client.diagnostics[cell_uris[0]]) == [] and list(client.diagnostics[cell_uris[2]]) == []

    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=cell_uris[1]), position=diags[0].range.start))
    assert hover and "GG201" in hover.contents.value
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=cell_uris[1]), range=diags[0].range, context=lsp.CodeActionContext(diagnostics=diags))
    )
    fix = [a for a in actions if a.is_preferred][0]
    change = fix.edit.document_changes[0]
    assert change.text_document.uri == cell_uris[1] and change.edits[0].range.start.line == 1
    # The diagnostic attached to each action is the published one: its related location stays in
    # the cell it belongs to (not shifted into the requesting cell, where a line can even go negative).
    for a in actions:
        for d in a.diagnostics:
            assert (d.range, d.related_information) == (diags[0].range, diags[0].related_information), a.title


async def test_notebook_cell_indented_as_a_whole_keeps_its_columns(client: LanguageClient):
    # IPython runs a cell whose lines all start with the same indent (its leading-indent cleanup strips it): the cell is
    # analyzed, and diagnostics, hovers and fixes use the cell's own columns
    nb_uri = "file:///tmp/indented.ipynb"
    cells = [
        "import torch\n",
        " x = torch.tensor([1.0, 2.0], requires_grad=True)\n z = (x * 2).detach()\n",
        "loss = (z ** 2).sum()\nloss.backward()\n",
    ]
    cell_uris = [f"vscode-notebook-cell:/tmp/indented.ipynb#C{i}" for i in range(len(cells))]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=nb_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=u) for u in cell_uris],
            ),
            cell_text_documents=[lsp.TextDocumentItem(uri=u, language_id="python", version=1, text=c) for u, c in zip(cell_uris, cells)],
        )
    )
    for _ in range(200):
        if all(u in client.diagnostics for u in cell_uris):
            break
        await asyncio.sleep(0.05)
    diags = list(client.diagnostics[cell_uris[1]])
    assert [d.code for d in diags] == ["GG201"], diags
    line = cells[1].splitlines()[1]
    assert diags[0].range.start.line == 1
    assert line[diags[0].range.start.character:diags[0].range.end.character].startswith(("(x * 2)", ".detach()", "z = ")), (line, diags[0].range)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=cell_uris[1]), position=diags[0].range.start))
    assert hover and "GG201" in hover.contents.value
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=cell_uris[1]), range=diags[0].range, context=lsp.CodeActionContext(diagnostics=diags))
    )
    fix = [a for a in actions if a.is_preferred][0]
    (edit,) = fix.edit.document_changes[0].edits
    lines = cells[1].splitlines(True)
    r = edit.range
    assert r.start.line == r.end.line == 1
    fixed = lines[1][: r.start.character] + edit.new_text + lines[1][r.end.character:]
    assert fixed == " z = (x * 2)\n", fixed
