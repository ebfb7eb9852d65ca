"""The packaged .vsix runs its bundled server on a bare system Python.

Unzips the vsix and starts `python3 -S -m gradguard serve` on an interpreter that is not the
project venv, with nothing but PYTHONPATH=<extension>/bundled/libs, exactly the way the
VS Code client launches it with importStrategy "useBundled"; then drives a whole LSP session
over raw JSON-RPC (standard library only on both sides).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from editor_support import SEED_LINE, bare_system_python, other_pythons
from lsp_stdio import StdioLspClient, apply_text_edits, path_to_uri


def bare_env(libs: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(libs),
        "PYTHONNOUSERSITE": "1",
        "LANG": "C.UTF-8",
    }


def test_vsix_contents(unzipped_vsix: Path) -> None:
    ext = unzipped_vsix
    manifest = json.loads((ext / "package.json").read_text())
    assert manifest["name"] == "gradguard" and manifest["publisher"] == "gradguard"
    assert manifest["main"] == "./dist/extension.js"
    assert "extensionDependencies" not in manifest
    assert (ext / "dist" / "extension.js").is_file()
    assert (ext / "bundled" / "libs" / "gradguard" / "__main__.py").is_file()
    assert (ext / "bundled" / "libs" / "gradguard" / "lsp").is_dir()
    bundle = json.loads((ext / "bundled" / "bundle.json").read_text())
    assert set(bundle["packages"]) >= {"gradguard", "pygls", "lsprotocol", "libcst", "jedi"}
    # The compiled part of libcst is there for every Python the manifest claims.
    for v in bundle["pythons"]:
        tag = v.replace(".", "")
        assert list((ext / "bundled" / "libs" / "libcst").glob(f"native.cpython-{tag}-*.so")), v
    system = subprocess.run([bare_system_python(), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert system in bundle["pythons"], (system, bundle["pythons"])
    assert bundle["packages"]["pygls"].startswith("2.")
    # Nothing that has no business in the extension.
    names = {p.name for p in ext.iterdir()}
    assert names <= {"package.json", "readme.md", "dist", "bundled", "LICENSE.txt", "changelog.md"}, names
    assert {p.name for p in (ext / "dist").iterdir()} == {"extension.js", "mermaid.min.js"}  # mermaid: the flow view, offline
    assert {p.name for p in (ext / "bundled").iterdir()} == {"libs", "bundle.json"}
    assert not list(ext.rglob("__pycache__"))


def test_bundle_imports_on_bare_python(unzipped_vsix: Path) -> None:
    python = bare_system_python()
    libs = unzipped_vsix / "bundled" / "libs"
    # Without the bundle the interpreter really is bare (no pygls): the test proves something.
    bare = subprocess.run([python, "-S", "-c", "import pygls"], env={**bare_env(libs), "PYTHONPATH": ""}, capture_output=True)
    assert bare.returncode != 0, f"{python} has pygls installed; not a bare interpreter"
    out = subprocess.run(
        [python, "-S", "-c", "import gradguard, pygls, libcst, lsprotocol; print(gradguard.__file__); print(pygls.__file__)"],
        env=bare_env(libs),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in out:
        assert Path(f).resolve().is_relative_to(libs.resolve()), f


PYTHONS = other_pythons()
SUPPORTED = ["3.9", "3.10", "3.11", "3.12", "3.13"]


@pytest.mark.parametrize("version", ["system"] + SUPPORTED)
def test_full_lsp_session_on_bare_python(version: str, unzipped_vsix: Path, seed_file: Path) -> None:
    if version == "system":
        python = bare_system_python()
    elif version in PYTHONS:
        python = PYTHONS[version]
    else:
        pytest.skip(f"no Python {version} interpreter on this machine (looked in /usr/bin, /usr/local/bin, pyenv)")
    libs = unzipped_vsix / "bundled" / "libs"
    client = StdioLspClient([python, "-S", "-m", "gradguard", "serve"], env=bare_env(libs), cwd=str(seed_file.parent))
    try:
        init = client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "gradguard-vsix-test"},
                "rootUri": path_to_uri(str(seed_file.parent)),
                "workspaceFolders": [{"uri": path_to_uri(str(seed_file.parent)), "name": "ws"}],
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {"relatedInformation": True},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "codeAction": {
                            "codeActionLiteralSupport": {
                                "codeActionKind": {"valueSet": ["", "quickfix", "source", "source.fixAll"]}
                            }
                        },
                        "synchronization": {"didSave": True},
                    },
                    "workspace": {"configuration": True, "workspaceFolders": True},
                },
                "initializationOptions": {"settings": {"enable": True, "select": [], "ignore": [], "severity": {}, "logLevel": "info"}},
            },
        )
        caps = init["capabilities"]
        assert caps.get("hoverProvider"), caps
        assert caps.get("codeActionProvider"), caps
        assert init.get("serverInfo", {}).get("name", "").lower().startswith("gradguard")
        client.notify("initialized", {})

        uri = path_to_uri(str(seed_file))
        text = seed_file.read_text()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        params = client.wait_for_notification(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri and any(d.get("code") == "GG201" for d in p["diagnostics"])
        )
        diag = next(d for d in params["diagnostics"] if d.get("code") == "GG201")
        assert diag["source"] == "gradguard"
        assert diag["range"]["start"]["line"] == SEED_LINE
        assert 1 <= diag.get("severity", 2) <= 4

        col = text.splitlines()[SEED_LINE].index("detach")
        hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": SEED_LINE, "character": col}})
        assert hover is not None, "no hover on the flagged .detach()"
        contents = hover["contents"]
        value = contents["value"] if isinstance(contents, dict) else json.dumps(contents)
        assert "GG201" in value

        actions = client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": diag["range"],
                "context": {"diagnostics": [diag], "only": ["quickfix"]},
            },
        )
        fixes = [a for a in actions or [] if a.get("kind", "").startswith("quickfix") and a.get("edit")]
        assert fixes, f"no quickfix with an edit: {actions}"
        edit = fixes[0]["edit"]
        edits = edit.get("changes", {}).get(uri)
        if edits is None:
            edits = [e for dc in edit.get("documentChanges", []) if dc["textDocument"]["uri"] == uri for e in dc["edits"]]
        fixed = apply_text_edits(text, edits)
        assert ".detach()" not in fixed
        assert "z = y\n" in fixed

        # The client applies the fix: the diagnostic must go away.
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]},
        )
        client.wait_for_notification(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri and not any(d.get("code") == "GG201" for d in p["diagnostics"])
        )
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

        assert client.request("shutdown", None) is None
        client.notify("exit", None)
        code = client.close(timeout=10)
        assert code == 0, f"server exit code {code}; stderr:\n{client.stderr_text()}"
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
            client.close()
