"""Protocol abuse over real stdio JSON-RPC: every bad message gets the JSON-RPC error the spec asks for
(or is ignored, for notifications), and the NEXT request is still served correctly."""
from __future__ import annotations

import time

import pytest

from gradguard.analyze import analyze

from ._rpc import RpcServer
from seeds import DETACH_SEED

BUGGY = DETACH_SEED
URI = "file:///tmp/gg_proto.py"


def _hover(s, uri, line, ch):
    return s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}})


def _actions(s, uri, line, ch, line2=None, ch2=None):
    rng = {"start": {"line": line, "character": ch}, "end": {"line": line if line2 is None else line2, "character": ch if ch2 is None else ch2}}
    return s.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": []}})


def _codes(diags) -> list:
    return sorted((d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"]) for d in diags)


def _expected(text) -> list:
    res = analyze(text, URI[len("file://"):])
    src = res.source
    return sorted((f.code, f.start.line - 1, src.to_lsp_col(f.start)) for f in res.findings)


def _served(s) -> None:
    """The next real request is answered correctly."""
    r = _hover(s, URI, 6, 10)
    assert "result" in r and r["result"] and "GG201" in r["result"]["contents"]["value"], r


@pytest.fixture(scope="module")
def srv():
    s = RpcServer()
    s.initialize()
    m = s.mark()
    s.open(URI, BUGGY)
    s.diagnostics_after(URI, m)
    yield s
    rc = s.stop()
    assert rc == 0, s.stderr[-2000:]


def _no_popups(s, start):
    pops = [m for m in s.messages[start:] if m.get("method") == "window/showMessage" and m["params"]["type"] == 1]
    assert not pops, pops


def test_malformed_json_gets_parse_error(srv):
    for body in [b'{"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "par', b"{", b"\xff\xfe garbage", b"nul\x00l", b'{"a": 1}}']:
        m = srv.mark()
        srv.send_body(body)
        err = srv.wait_for(lambda x: "error" in x, 10, m)
        assert err["id"] is None and err["error"]["code"] in (-32700, -32600), err
        _no_popups(srv, m)
    _served(srv)


def test_not_json_rpc_gets_invalid_request(srv):
    for body in [b"[1, 2, 3]", b'"hello"', b'{"id": 5}', b"42", b"null", b'{"jsonrpc": "2.0", "id": "bogus-7"}']:
        m = srv.mark()
        srv.send_body(body)
        err = srv.wait_for(lambda x: "error" in x, 10, m)
        assert err["error"]["code"] == -32600, (body, err)
    _served(srv)


def test_unknown_methods(srv):
    r = srv.request("gradguard/noSuchThing", {"x": 1})
    assert r["error"]["code"] == -32601
    r = srv.request("$/noSuchRequest")
    assert r["error"]["code"] == -32601
    m = srv.mark()
    srv.notify("gradguard/noSuchNotification", {"x": 1})
    srv.notify("$/noSuchNotification")
    srv.notify("$/setTrace", {"value": "verbose"})
    _served(srv)
    assert not [x for x in srv.messages[m:] if "error" in x or x.get("method") == "window/showMessage"]


def test_invalid_params_get_invalid_params_error(srv):
    bad = [
        {"textDocument": {"uri": URI}, "position": {"line": -1, "character": -5}},
        {"textDocument": {"uri": URI}},
        {"textDocument": {"uri": 5}, "position": "x"},
        {"position": {"line": 0, "character": 0}},
        [],
    ]
    for params in bad:
        r = srv.request("textDocument/hover", params)
        assert r["error"]["code"] == -32602, (params, r)
    r = srv.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": {"start": {"line": 0}}, "context": {}})
    assert r["error"]["code"] == -32602
    _served(srv)


def test_bad_notifications_are_ignored(srv):
    m = srv.mark()
    srv.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": "x"}, "contentChanges": 5})
    srv.notify("textDocument/didOpen", {"textDocument": {"uri": 7}})
    srv.notify("textDocument/didChange", {"textDocument": {"uri": "file:///never-opened.py", "version": 2}, "contentChanges": [{"text": "x = ("}]})
    srv.notify("textDocument/didClose", {"textDocument": {"uri": "file:///never-opened.py"}})
    srv.notify("textDocument/didSave", {"textDocument": {"uri": "file:///never-opened.py"}})
    _served(srv)
    _no_popups(srv, m)
    assert not [x for x in srv.messages[m:] if "error" in x]


def test_unopened_and_closed_documents(srv):
    other = "file:///tmp/gg_never.py"
    assert _hover(srv, other, 0, 0)["result"] is None
    assert _actions(srv, other, 0, 0)["result"] in (None, [])
    tmp = "file:///tmp/gg_closed.py"
    m = srv.mark()
    srv.open(tmp, BUGGY)
    srv.diagnostics_after(tmp, m)
    m = srv.mark()
    srv.close(tmp)
    assert srv.diagnostics_after(tmp, m)["diagnostics"] == []
    assert _hover(srv, tmp, 6, 10)["result"] is None
    assert _actions(srv, tmp, 6, 10)["result"] in (None, [])
    _served(srv)


def test_positions_out_of_range(srv):
    for line, ch in [(10**6, 0), (0, 10**6), (10**6, 10**6), (2**31 - 1, 2**31 - 1), (10, 0), (11, 5)]:
        r = _hover(srv, URI, line, ch)
        assert "result" in r, r
        r = _actions(srv, URI, line, ch, 10**6, 10**6)
        assert "result" in r, r
    r = _actions(srv, URI, 9, 0, 2, 0)  # end before start
    assert "result" in r
    _served(srv)


def test_stale_versions_and_incremental_edits_at_end():
    s = RpcServer()
    try:
        s.initialize()
        uri = "file:///tmp/gg_edits.py"
        text = "import torch\n"
        m = s.mark()
        s.open(uri, text, version=5)
        s.diagnostics_after(uri, m)
        # insert at the very end (line past the last newline), then at a position beyond the end
        edits = [
            ({"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}}, "x = torch.ones(2, requires_grad=True)\n"),
            ({"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 0}}, "z = x.detach()"),
            ({"start": {"line": 2, "character": 14}, "end": {"line": 2, "character": 14}}, "\n(z * 2).sum().backward()\n"),
        ]
        version = 5
        for rng, new in edits:
            version += 1
            s.change(uri, version, [{"range": rng, "text": new}])
        text = "import torch\nx = torch.ones(2, requires_grad=True)\nz = x.detach()\n(z * 2).sum().backward()\n"
        m = s.mark()
        _hover(s, uri, 0, 0)  # sync point
        d = s.diagnostics_after(uri, 0, version=version)
        assert _codes(d["diagnostics"]) == _expected(text)
        # a stale version (lower than the current one) must not crash; the text still follows the edits
        m = s.mark()
        s.change(uri, 3, [{"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}}, "text": "y = ("}])
        d = s.diagnostics_after(uri, m)
        assert [x["code"] for x in d["diagnostics"]] == ["GG001"]
        # edits past the end of the document are clamped, not crashes
        m = s.mark()
        s.change(uri, 9, [{"range": {"start": {"line": 99, "character": 99}, "end": {"line": 120, "character": 0}}, "text": ")\n"}])
        d = s.diagnostics_after(uri, m)
        assert "GG001" not in [x["code"] for x in d["diagnostics"]]
        assert s.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 6}}).get("result") is not None
    finally:
        assert s.stop() == 0


def test_cancel_request():
    s = RpcServer()
    try:
        s.initialize()
        m = s.mark()
        s.open(URI, BUGGY)
        s.diagnostics_after(URI, m)
        ids = []
        for _ in range(20):
            rid = s.request_async("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": {"start": {"line": 6, "character": 0}, "end": {"line": 6, "character": 20}}, "context": {"diagnostics": []}})
            s.notify("$/cancelRequest", {"id": rid})
            ids.append(rid)
        for rid in ids:
            r = s.response(rid)
            assert "result" in r or r["error"]["code"] == -32800, r
        s.notify("$/cancelRequest", {"id": 424242})  # unknown id: ignored
        s.notify("$/cancelRequest", {"id": ids[0]})  # already answered: ignored
        _served(s)
    finally:
        assert s.stop() == 0


def _slow_text(lines: int = 40_000) -> str:
    return "import torch\n" + "".join(f"x{i} = torch.ones({i % 5}, requires_grad=True).detach() * 2\n" for i in range(lines))


def test_shutdown_and_exit_mid_analysis():
    s = RpcServer(env={"GRADGUARD_TIME_BUDGET": "60"})
    s.initialize()
    s.open("file:///tmp/gg_big.py", _slow_text())
    time.sleep(0.5)  # analysis is running now
    t = time.monotonic()
    r = s.request("shutdown", timeout=15)
    assert "result" in r and r["result"] is None
    r2 = s.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}, timeout=10)
    assert r2["error"]["code"] == -32600  # requests after shutdown are invalid
    s.notify("exit")
    rc = s.proc.wait(15)
    assert rc == 0
    assert time.monotonic() - t < 15, "exit waited for the analysis"


def test_exit_without_shutdown_mid_analysis():
    s = RpcServer(env={"GRADGUARD_TIME_BUDGET": "60"})
    s.initialize()
    s.open("file:///tmp/gg_big.py", _slow_text())
    time.sleep(0.5)
    t = time.monotonic()
    s.notify("exit")
    assert s.proc.wait(15) == 1
    assert time.monotonic() - t < 15


def test_eof_on_stdin_stops_the_server():
    s = RpcServer()
    s.initialize()
    s.open(URI, BUGGY)
    s.proc.stdin.close()
    assert s.proc.wait(15) is not None


def test_time_bound_in_server_then_next_document_served():
    """A document too slow to analyze gets one GG003 note; the worker is free again right after."""
    s = RpcServer(env={"GRADGUARD_TIME_BUDGET": "0.5"})
    try:
        s.initialize()
        big = "file:///tmp/gg_slow.py"
        m = s.mark()
        s.open(big, _slow_text(30_000))
        d = s.diagnostics_after(big, m, timeout=60)["diagnostics"]
        assert [x["code"] for x in d] == ["GG003"] and "analysis skipped" in d[0]["message"] and d[0]["severity"] == 3
        t = time.monotonic()
        m = s.mark()
        s.open(URI, BUGGY)
        d = s.diagnostics_after(URI, m, timeout=30)["diagnostics"]
        assert "GG201" in [x["code"] for x in d]
        assert time.monotonic() - t < 15
        _served(s)
    finally:
        assert s.stop() == 0


def test_before_initialize_and_odd_settings():
    s = RpcServer()
    try:
        r = s.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
        assert r["error"]["code"] == -32002
        s.open(URI, BUGGY)  # dropped: not initialized yet
        s.initialize(initializationOptions=[1, "x"])
        m = s.mark()
        s.open(URI, BUGGY)
        assert "GG201" in [d["code"] for d in s.diagnostics_after(URI, m)["diagnostics"]]
        weird = [None, [], "x", 5, {"gradguard": None}, {"gradguard": {"select": 5, "ignore": "GG201", "logLevel": 7, "severity": [1], "enable": "no"}},
                 {"gradguard": {"select": [None, 5, {}], "ignore": [[]], "severity": {"GG201": "bogus"}}}, {"gradguard": {"perFileIgnores": {"*": 5}}}]
        for settings in weird:
            s.notify("workspace/didChangeConfiguration", {"settings": settings})
            r = s.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
            assert "result" in r, (settings, r)
        s.notify("workspace/didChangeConfiguration", {"settings": {"gradguard": {}}})
        _served(s)
        assert not [x for x in s.messages if x.get("method") == "window/showMessage" and x["params"]["type"] == 1]
    finally:
        assert s.stop() == 0
