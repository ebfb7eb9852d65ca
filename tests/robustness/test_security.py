"""The server and the CLI never import or execute analyzed code, never touch the network, and their logs
never contain file contents."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ._rpc import ROOT, RpcServer

TOKEN = "SECRET_CONTENT_TOKEN_8c1f"


def _evil(marker_dir: str) -> str:
    m1 = os.path.join(marker_dir, "marker_system")
    m2 = os.path.join(marker_dir, "marker_open")
    m3 = os.path.join(marker_dir, "marker_import")
    return f'''import os
import torch
os.system("touch {m1}")
open("{m2}", "w").write("{TOKEN}")
__import__("subprocess").run(["touch", "{m3}"])

class Evil(torch.nn.Module):
    def __init__(self):
        super().__init__()
        os.system("touch {m1}")
        self.w = torch.zeros(3, requires_grad=True)

    def forward(self, x):
        return x @ self.w


def main():
    x = torch.ones(3, requires_grad=True)
    y = x.detach()  # {TOKEN}
    (y * 2).sum().backward()
    return x.grad
'''


SITECUSTOMIZE = '''
import os, socket
_log = os.environ["GG_NET_LOG"]
def _deny(*a, **k):
    with open(_log, "a") as f:
        f.write("network: %r\\n" % (a[:2],))
    raise OSError("network disabled by the test")
socket.socket.connect = _deny
socket.socket.connect_ex = _deny
socket.getaddrinfo = _deny
socket.create_connection = _deny
'''


def _env(tmp_path) -> dict:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": os.pathsep.join([str(site), os.path.join(ROOT, "server")]), "GG_NET_LOG": str(tmp_path / "net.log")}


def test_server_never_executes_code_nor_networks_nor_logs_contents(tmp_path):
    work = tmp_path / "ws"
    work.mkdir()
    path = work / "evil.py"
    text = _evil(str(tmp_path))
    path.write_text(text)
    (work / "pyproject.toml").write_text('[tool.gradguard]\nselect = ["GG"]\n')
    (work / "conftest.py").write_text(f'open("{tmp_path / "marker_conftest"}", "w")\n')
    (work / "setup.py").write_text(f'open("{tmp_path / "marker_setup"}", "w")\n')
    uri = path.as_uri()
    s = RpcServer(env=_env(tmp_path), cwd=str(work))
    try:
        s.initialize(root=work.as_uri(), initializationOptions={"settings": {"gradguard": {"logLevel": "debug"}}})
        s.notify("workspace/didChangeConfiguration", {"settings": {"gradguard": {"logLevel": "debug"}}})
        m = s.mark()
        s.open(uri, text)
        diags = s.diagnostics_after(uri, m)["diagnostics"]
        assert any(d["code"] == "GG201" for d in diags)
        lines = text.splitlines()
        for ln, line in enumerate(lines):
            for ch in range(0, len(line) + 1, 3):
                s.request_async("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": ln, "character": ch}})
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": len(lines), "character": 0}}
        acts = s.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": diags}}, timeout=60)
        assert acts.get("result")
        s.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        # provoke error paths whose logs could echo the params (the document's text)
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": "bad"}, "contentChanges": [{"text": text}]})
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri + ".unopened", "version": 2}, "contentChanges": [{"text": text}]})
        s.notify("textDocument/didOpen", {"textDocument": {"uri": uri + "2", "languageId": "python", "version": "x", "text": text}})
        s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": -1, "character": 0}, "extra": text})
        s.send_body(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"text": text}}}).encode()[:-3])
        s.request("workspace/executeCommand", {"command": "gradguard.nonexistent", "arguments": [text]})
        m = s.mark()
        s.change_full(uri, text + "\nx = (\n", 2)
        s.diagnostics_after(uri, m)
        s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 20, "character": 10}}, timeout=60)
    finally:
        s.stop()
    for name in ("marker_system", "marker_open", "marker_import", "marker_conftest", "marker_setup"):
        assert not (tmp_path / name).exists(), f"analyzed code was executed: {name}"
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()
    assert TOKEN not in s.stderr, "file contents in the server's log"
    logs = [m for m in s.messages if m.get("method") in ("window/logMessage", "window/showMessage", "$/logTrace")]
    assert TOKEN not in json.dumps(logs)


def test_cli_never_executes_code_nor_networks(tmp_path):
    work = tmp_path / "ws"
    work.mkdir()
    text = _evil(str(tmp_path))
    (work / "evil.py").write_text(text)
    (work / "conftest.py").write_text(f'open("{tmp_path / "marker_conftest"}", "w")\n')
    env = dict(os.environ)
    env.update(_env(tmp_path))
    for args in (["check", "--no-cache", "."], ["check", "--no-cache", "--diff", "."], ["check", "--no-cache", "--fix", "--unsafe-fixes", "."], ["check", "--output-format", "sarif", "."]):
        r = subprocess.run([sys.executable, "-m", "gradguard", *args], cwd=str(work), env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1), r.stderr
        assert "Traceback" not in r.stderr
    for name in ("marker_system", "marker_open", "marker_import", "marker_conftest"):
        assert not (tmp_path / name).exists(), f"analyzed code was executed: {name}"
    assert not (tmp_path / "net.log").exists()
