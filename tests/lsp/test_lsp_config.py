"""Configuration over LSP, one way in: settings pushed by the client (initializationOptions, then
workspace/didChangeConfiguration), with one entry per workspace folder of a multi-root workspace."""
from __future__ import annotations

import logging
import sys

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from waiting import notified, until

BUG = """import torch


def main():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 2).detach()
    loss = (z ** 2).sum()
    out = loss.backward()
    return out
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gradguard", "serve"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("multi")
    a, b = root / "a", root / "b"
    a.mkdir()
    b.mkdir()
    lsp_client.folders = (a.as_uri(), b.as_uri(), root.as_uri())  # type: ignore[attr-defined]
    # the shape the VS Code client sends (client/src/settings.ts serverPayload): settings for every
    # document, and per folder
    settings = {
        "severity": {"GG101": "hint"},
        "folders": {a.as_uri(): {"ignore": ["GG201"]}, b.as_uri() + "/": {"select": ["GG2"], "severity": {"GG201": "error"}}},
    }
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[lsp.WorkspaceFolder(uri=a.as_uri(), name="a"), lsp.WorkspaceFolder(uri=b.as_uri(), name="b")],
            initialization_options={"settings": settings},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _open(client, uri, text=BUG):
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await until(lambda: uri in client.diagnostics)
    return {d.code: d for d in client.diagnostics[uri]}


async def test_each_workspace_folder_gets_its_own_settings(client: LanguageClient):
    a, b, root = client.folders  # type: ignore[attr-defined]
    in_a = await _open(client, f"{a}/train.py")
    in_b = await _open(client, f"{b}/sub/train.py")
    outside = await _open(client, f"{root}/other.py")
    # folder a: ignore GG201; a folder's settings are complete (VS Code resolves user < workspace < folder),
    # so the severity given for every document does not apply there
    assert "GG201" not in in_a and in_a["GG101"].severity != lsp.DiagnosticSeverity.Hint
    assert set(in_b) == {"GG201"} and in_b["GG201"].severity == lsp.DiagnosticSeverity.Error  # folder b: select GG2
    assert outside["GG101"].severity == lsp.DiagnosticSeverity.Hint and "GG201" in outside  # the settings for every document

    # a push replaces the settings, folders included
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"gradguard": {"folders": {a: {"select": ["GG1"]}, b: {}}}})
    )
    await until(lambda: [d.code for d in client.diagnostics[f"{a}/train.py"]] == ["GG101"] and "GG101" in [d.code for d in client.diagnostics[f"{b}/sub/train.py"]])
    assert [d.code for d in client.diagnostics[f"{a}/train.py"]] == ["GG101"]
    assert {d.code for d in client.diagnostics[f"{b}/sub/train.py"]} == {"GG101", "GG201"}
    assert [d.severity for d in client.diagnostics[f"{root}/other.py"] if d.code == "GG101"] == [in_a["GG101"].severity]  # the rule's own severity again


async def test_invalid_folder_settings_are_named_and_defaults_keep_working(client: LanguageClient):
    a, _, _ = client.folders  # type: ignore[attr-defined]
    uri = f"{a}/train.py"
    await _open(client, uri)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"gradguard": {"folders": {a: {"select": ["GG9999"]}}}}))
    msg = await notified(client, lsp.WINDOW_SHOW_MESSAGE)
    await until(lambda: "GG201" in [d.code for d in client.diagnostics[uri]])
    assert msg is not None and "GG9999" in msg.message and a in msg.message, msg
    assert {"GG101", "GG201"} <= {d.code for d in client.diagnostics[uri]}


def test_log_level_setting_reaches_the_server_logger():
    from gradguard.lsp.server import GradguardServer

    ls = GradguardServer()
    logger = logging.getLogger("gradguard")
    saved = logger.level
    try:
        ls.set_settings({"logLevel": "debug"})
        assert logger.level == logging.DEBUG
        ls.set_settings({"logLevel": "error", "folders": {"file:///x": {"logLevel": "debug"}}})
        assert logger.level == logging.ERROR
        ls.set_settings({})
        assert logger.level == logging.WARNING
    finally:
        logger.setLevel(saved)
