"""Random protocol traffic: a few hundred random requests and notifications (real methods, params that are
valid, half-valid or garbage) in one session; the server stays up, every request gets exactly one answer,
and afterwards it still analyzes and answers correctly."""
from __future__ import annotations

import random

import pytest

from ._rpc import RpcServer
from .conftest import scale
from .test_lsp_protocol import BUGGY, URI, _served

METHODS = [
    "textDocument/hover", "textDocument/codeAction", "textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
    "textDocument/didSave", "workspace/didChangeConfiguration", "notebookDocument/didOpen", "notebookDocument/didChange",
    "notebookDocument/didClose", "$/cancelRequest", "$/setTrace", "workspace/executeCommand", "textDocument/completion",
    "codeAction/resolve", "workspace/didChangeWatchedFiles", "textDocument/diagnostic", "gradguard/unknown",
]
REQUESTS = {"textDocument/hover", "textDocument/codeAction", "workspace/executeCommand", "textDocument/completion", "codeAction/resolve", "textDocument/diagnostic", "gradguard/unknown"}


def _garbage(rng: random.Random, depth: int = 0):
    kinds = ["int", "str", "none", "bool", "list", "dict", "bigint", "neg"]
    k = rng.choice(kinds if depth < 3 else kinds[:4])
    return {
        "int": lambda: rng.randrange(100),
        "bigint": lambda: 2**40,
        "neg": lambda: -rng.randrange(1, 5),
        "str": lambda: rng.choice(["", "x", "file:///tmp/r.py", URI, "é😀\ud800", "\x00"]),
        "none": lambda: None,
        "bool": lambda: rng.random() < 0.5,
        "list": lambda: [_garbage(rng, depth + 1) for _ in range(rng.randrange(3))],
        "dict": lambda: {rng.choice(["uri", "text", "line", "character", "range", "version"]): _garbage(rng, depth + 1) for _ in range(rng.randrange(3))},
    }[k]()


def _pos(rng):
    return {"line": rng.choice([0, 1, 5, 6, 10, 11, 500]), "character": rng.choice([0, 3, 10, 99, 10**6])}


def _params(method: str, rng: random.Random, uris: list, versions: dict):
    if rng.random() < 0.25:
        return _garbage(rng)
    uri = rng.choice(uris)
    doc = {"uri": uri}
    rng_ = {"start": _pos(rng), "end": _pos(rng)}
    if method == "textDocument/hover":
        return {"textDocument": doc, "position": _pos(rng)}
    if method == "textDocument/codeAction":
        only = rng.choice([None, ["quickfix"], ["source.fixAll"], ["source"], ["refactor"], [""], ["source.fixAll.gradguard"]])
        ctx = {"diagnostics": []}
        if only is not None:
            ctx["only"] = only
        return {"textDocument": doc, "range": rng_, "context": ctx}
    if method == "textDocument/didOpen":
        versions[uri] = 1
        return {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": rng.choice([BUGGY, "", "x = (", BUGGY[: rng.randrange(len(BUGGY))], "é😀\n" * 3])}}
    if method == "textDocument/didChange":
        versions[uri] = versions.get(uri, 1) + rng.choice([1, 1, 1, 0, -1])
        ch = {"text": rng.choice(["", "x", "\n", "😀", "(", "import torch\n"])}
        if rng.random() < 0.8:
            ch["range"] = rng_
        return {"textDocument": {"uri": uri, "version": versions[uri]}, "contentChanges": [ch] * rng.randrange(0, 3)}
    if method in ("textDocument/didClose", "textDocument/didSave"):
        return {"textDocument": doc}
    if method == "workspace/didChangeConfiguration":
        return {"settings": rng.choice([{}, {"gradguard": {"select": ["GG2"]}}, {"gradguard": {"ignore": ["GG201"]}}, {"gradguard": {"enable": False}}, {"gradguard": {"enable": True}}, None])}
    if method.startswith("notebookDocument/"):
        nb = {"uri": "file:///tmp/r.ipynb", "notebookType": "jupyter-notebook", "version": rng.randrange(5), "cells": [{"kind": 2, "document": "nbcell:r1"}]}
        if method.endswith("didOpen"):
            return {"notebookDocument": nb, "cellTextDocuments": [{"uri": "nbcell:r1", "languageId": "python", "version": 1, "text": BUGGY}]}
        if method.endswith("didClose"):
            return {"notebookDocument": {"uri": nb["uri"]}, "cellTextDocuments": [{"uri": "nbcell:r1"}]}
        return {"notebookDocument": {"uri": nb["uri"], "version": nb["version"]}, "change": {"cells": {"textContent": [{"document": {"uri": "nbcell:r1", "version": 2}, "changes": [{"text": "x = 1\n"}]}]}}}
    if method == "$/cancelRequest":
        return {"id": rng.randrange(1, 400)}
    if method == "$/setTrace":
        return {"value": rng.choice(["off", "messages", "verbose", "bogus"])}
    return _garbage(rng)


@pytest.mark.parametrize("seed", range(2))
def test_random_traffic(request, seed):
    rng = random.Random(seed)
    n = scale(request, 250, 3000)
    s = RpcServer()
    try:
        s.initialize()
        uris = [URI, "file:///tmp/r2.py", "nbcell:r1", "untitled:Untitled-1", "file:///tmp/space%20name.py"]
        versions: dict = {}
        ids = []
        for _ in range(n):
            method = rng.choice(METHODS)
            params = _params(method, rng, uris, versions)
            if method in REQUESTS:
                ids.append(s.request_async(method, params))
            else:
                s.notify(method, params)
        for rid in ids:
            r = s.response(rid, timeout=60)
            assert "result" in r or r["error"]["code"] in (-32600, -32601, -32602, -32603, -32800), r
            if "error" in r and r["error"]["code"] == -32603:
                raise AssertionError(f"internal error answering a request: {r['error']['message']}")
        assert s.alive()
        s.notify("workspace/didChangeConfiguration", {"settings": {"gradguard": {"enable": True}}})
        m = s.mark()
        s.open(URI, BUGGY, version=1000)
        s.diagnostics_after(URI, m, version=1000)
        _served(s)
    finally:
        assert s.stop() == 0
