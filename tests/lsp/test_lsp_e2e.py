"""The language server end to end over stdio with pytest-lsp: diagnostics, hover, code action applied,
diagnostic cleared, syntax errors mid-typing, close."""
from __future__ import annotations

import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from waiting import notified, until
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from seeds import DETACH_SEED

SEED = DETACH_SEED
URI = "file:///tmp/gg_seed.py"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code"), root_uri="file:///tmp"))
    yield
    await lsp_client.shutdown_session()


def _apply(text: str, edits: list) -> str:
    lines = text.splitlines(keepends=True)

    def off(p):
        return sum(len(l) for l in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: off(e.range.start), reverse=True):
        text = text[: off(e.range.start)] + e.new_text + text[off(e.range.end) :]
        lines = text.splitlines(keepends=True)
    return text


async def _open(client, uri, text, version=1):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    await notified(client)
    return client.diagnostics[uri]


async def _change(client, uri, text, version):
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)])
    )
    await notified(client)
    return client.diagnostics[uri]


async def test_diagnostic_hover_fix_and_clear(client: LanguageClient):
    diags = await _open(client, URI, SEED)
    gg = [d for d in diags if d.code == "GG201"]
    assert len(gg) == 1
    d = gg[0]
    assert d.source == "gradguard" and d.range.start.line == 6
    assert d.code_description and "GG201" in d.code_description.href
    assert d.related_information and any(r.location.range.start.line == 9 for r in d.related_information)

    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=URI), position=lsp.Position(line=6, character=12)))
    assert hover is not None and "GG201" in hover.contents.value and "backward()" in hover.contents.value
    assert "Remove `.detach()`" in hover.contents.value

    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=URI), range=d.range, context=lsp.CodeActionContext(diagnostics=[d]))
    )
    fixes = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix and a.is_preferred]
    assert fixes, actions
    change = fixes[0].edit.document_changes[0]
    assert change.text_document.version == 1
    new_text = _apply(SEED, change.edits)
    assert "z = y\n" in new_text and "detach" not in new_text
    diags = await _change(client, URI, new_text, 2)
    assert not [x for x in diags if x.code == "GG201"]

    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=URI)))
    await notified(client)
    assert list(client.diagnostics[URI]) == []


async def test_syntax_error_mid_typing_replaces_stale_findings(client: LanguageClient):
    uri = "file:///tmp/gg_typing.py"
    diags = await _open(client, uri, SEED)
    assert any(d.code == "GG201" for d in diags)
    broken = SEED.replace("    w = z * 3\n", "    w = z * (3\n")
    diags = await _change(client, uri, broken, 2)
    assert [d.code for d in diags] == ["GG001"], diags
    assert diags[0].severity == lsp.DiagnosticSeverity.Error
    diags = await _change(client, uri, SEED, 3)
    assert any(d.code == "GG201" for d in diags)


async def test_hover_on_tensor_name_says_where_it_is_cut(client: LanguageClient):
    uri = "file:///tmp/gg_hover.py"
    await _open(client, uri, SEED)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=7, character=4)))
    assert hover is not None
    assert "cut at line 7" in hover.contents.value, hover.contents.value


async def test_noqa_action_silences(client: LanguageClient):
    uri = "file:///tmp/gg_noqa.py"
    diags = await _open(client, uri, SEED)
    d = [x for x in diags if x.code == "GG201"][0]
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=d.range, context=lsp.CodeActionContext(diagnostics=[d]))
    )
    ignore = [a for a in actions if a.title.startswith("Ignore GG201")]
    assert ignore
    new_text = _apply(SEED, ignore[0].edit.document_changes[0].edits)
    assert "z = y.detach()  # noqa: GG201" in new_text
    diags = await _change(client, uri, new_text, 2)
    assert not [x for x in diags if x.code == "GG201"]


async def test_hover_resolves_imported_class_across_files(client: LanguageClient, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text("import torch.nn as nn\n\n\nclass Backbone(nn.Module):\n    pass\n\n\nclass Plain:\n    pass\n")
    (pkg / "mid.py").write_text("from pkg.base import Backbone\n\n\nclass Encoder(Backbone):\n    pass\n")
    main = tmp_path / "main.py"
    text = "import torch\nfrom pkg.mid import Encoder\nfrom pkg.base import Plain\n\n\nclass Model(Encoder):\n    pass\n\n\nclass Other(Plain):\n    pass\n"
    main.write_text(text)
    uri = main.as_uri()
    await _open(client, uri, text)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=5, character=14)))
    assert hover is not None and "pkg.mid.Encoder" in hover.contents.value and "an `nn.Module` subclass" in hover.contents.value
    assert "pkg.base.Backbone" in hover.contents.value
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=9, character=13)))
    assert hover is not None and "not an `nn.Module`" in hover.contents.value


async def test_percent_encoded_uri_gets_diagnostics(client: LanguageClient):
    uri = "file:///tmp/with%20space/gg%3Dseed.py"
    diags = await _open(client, uri, SEED)
    assert [d.code for d in diags if d.code == "GG201"] == ["GG201"]
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=6, character=12)))
    assert hover is not None and "GG201" in hover.contents.value
