"""A tiny raw JSON-RPC client for ``python -m gradguard serve`` over stdio.
Waits are bounded generously (120 s): they return as soon as the awaited message arrives, so the bound only
keeps a loaded machine from failing a test; pytest-timeout stops a real hang.


Unlike pytest-lsp it lets a test send anything: broken frames, malformed JSON, unknown methods, requests
without ``initialize``... Responses and notifications are read on a thread into a list; helpers wait for them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RpcServer:
    def __init__(self, env: Optional[dict] = None, cwd: Optional[str] = None) -> None:
        e = dict(os.environ)
        e.setdefault("PYTHONPATH", os.path.join(ROOT, "server"))
        if env:
            e.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gradguard", "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=cwd or ROOT
        )
        self.messages: list = []
        self.cond = threading.Condition()
        self.stderr_chunks: list = []
        self.next_id = 1
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._err.start()

    # -- io -----------------------------------------------------------------------------------
    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.decode("ascii", "replace").partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            body = out.read(n)
            try:
                msg = json.loads(body)
            except ValueError:
                msg = {"_unparsable": body}
            with self.cond:
                self.messages.append(msg)
                self.cond.notify_all()

    def _read_err(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.stderr_chunks.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj: Any) -> None:
        body = json.dumps(obj).encode("utf-8")
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send_body(self, body: bytes) -> None:
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    # -- json-rpc -----------------------------------------------------------------------------
    def request_async(self, method: str, params: Any = None) -> int:
        rid = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return rid

    def response(self, rid, timeout: float = 120.0) -> dict:
        return self.wait_for(lambda m: m.get("id") == rid and ("result" in m or "error" in m), timeout)

    def request(self, method: str, params: Any = None, timeout: float = 120.0) -> dict:
        return self.response(self.request_async(method, params), timeout)

    def notify(self, method: str, params: Any = None) -> None:
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 120.0, start: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.messages[start:]:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching message in {timeout} s; server alive={self.proc.poll() is None}; stderr:\n{self.stderr[-3000:]}")
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"server exited with {self.proc.returncode}; stderr:\n{self.stderr[-3000:]}")
                self.cond.wait(min(left, 0.2))

    def mark(self) -> int:
        with self.cond:
            return len(self.messages)

    def diagnostics_after(self, uri: str, start: int, version=None, timeout: float = 120.0) -> dict:
        def ok(m):
            if m.get("method") != "textDocument/publishDiagnostics" or m["params"]["uri"] != uri:
                return False
            return version is None or m["params"].get("version") == version

        return self.wait_for(ok, timeout, start)["params"]

    def last_diagnostics(self, uri: str) -> Optional[dict]:
        with self.cond:
            for m in reversed(self.messages):
                if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                    return m["params"]
        return None

    # -- lifecycle ----------------------------------------------------------------------------
    def initialize(self, capabilities: Optional[dict] = None, root: Optional[str] = None, **extra) -> dict:
        caps = capabilities if capabilities is not None else {
            "workspace": {"workspaceEdit": {"documentChanges": True}},
            "textDocument": {"publishDiagnostics": {"versionSupport": True}},
        }
        params = {"processId": os.getpid(), "rootUri": root, "capabilities": caps}
        params.update(extra)
        res = self.request("initialize", params)
        self.notify("initialized", {})
        return res

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}})

    def change_full(self, uri: str, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})

    def change(self, uri: str, version: int, changes: list) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes})

    def close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            try:
                rid = self.request_async("shutdown")
                self.response(rid, timeout)
                self.notify("exit")
            except Exception:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass
        return self.proc.returncode

    def rss_kb(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1
