"""A minimal LSP client over stdio (raw JSON-RPC with Content-Length framing).

Standard library only, so that the server side of a test can run on a bare interpreter and the
client side does not depend on the project's packages either.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from typing import Any, Callable, Optional


class LspError(RuntimeError):
    pass


class StdioLspClient:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: Optional[str] = None) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self._next_id = 0
        self._responses: dict[int, "queue.Queue[dict[str, Any]]"] = {}
        self._lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        self._note_cv = threading.Condition()
        self.server_requests: list[dict[str, Any]] = []
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._err_reader.start()

    # -- transport -------------------------------------------------------------------------
    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = out.readline()
                if not line:
                    self._closed()
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.decode("ascii").partition(":")
                headers[k.strip().lower()] = v.strip()
            body = out.read(int(headers["content-length"]))
            msg = json.loads(body.decode("utf-8"))
            self._dispatch(msg)

    def _closed(self) -> None:
        with self._note_cv:
            self._note_cv.notify_all()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "id" in msg and "method" in msg:
            # A request from the server: answer like a plain editor would.
            self.server_requests.append(msg)
            result: Any = None
            if msg["method"] == "workspace/configuration":
                result = [None for _ in msg.get("params", {}).get("items", [])]
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
        elif "id" in msg:
            with self._lock:
                q = self._responses.get(msg["id"])
            if q is not None:
                q.put(msg)
        else:
            with self._note_cv:
                self.notifications.append(msg)
                self._note_cv.notify_all()

    # -- API -------------------------------------------------------------------------------
    def request(self, method: str, params: Any, timeout: float = 30.0) -> Any:
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            q: "queue.Queue[dict[str, Any]]" = queue.Queue()
            self._responses[rid] = q
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        try:
            msg = q.get(timeout=timeout)
        except queue.Empty:
            raise LspError(f"no response to {method} within {timeout}s; stderr:\n" + self.stderr_text()) from None
        if "error" in msg:
            raise LspError(f"{method} failed: {msg['error']}")
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self._send(msg)

    def wait_for_notification(
        self, method: str, pred: Callable[[dict[str, Any]], bool] = lambda p: True, timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._note_cv:
            while True:
                for note in self.notifications[seen:]:
                    if note.get("method") == method and pred(note.get("params", {})):
                        return note["params"]
                seen = len(self.notifications)
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise LspError(
                        f"no {method} matching within {timeout}s (server exit code {self.proc.poll()}); "
                        f"notifications: {[n.get('method') for n in self.notifications]}; stderr:\n" + self.stderr_text()
                    )
                self._note_cv.wait(min(left, 0.5))

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines[-60:])

    def close(self, timeout: float = 10.0) -> Optional[int]:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass


def path_to_uri(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


def apply_text_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Applies LSP TextEdits (UTF-16 positions; ASCII test files) to text."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(pos: dict[str, int]) -> int:
        line = pos["line"]
        if line >= len(lines):
            return len(text)
        return starts[line] + pos["character"]

    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        a, b = offset(e["range"]["start"]), offset(e["range"]["end"])
        text = text[:a] + e["newText"] + text[b:]
    return text
