"""Load: thousands of rapid incremental edits across 50 open documents. The last diagnostics published for
each document match a fresh ``analyze()`` of its final text, and the server's memory stays bounded.

Default size: env GRADGUARD_LOAD_EDITS (default 1500); the full 10,000 edits run with --long-fuzz."""
from __future__ import annotations

import os
import random
import time

import pytest

from gradguard.analyze import analyze

from ._corpus import example_texts, sample_corpus
from ._lsputil import units_of
from ._rpc import RpcServer

SNIPPETS = ["x", " ", "\n", "(", ")", "é", "😀", ".detach()", "torch.", "# c", "'", ":", "\n    ", "loss.backward()\n", "𝔵"]


def _pos(text: str, off: int, enc: str = "utf-16") -> dict:
    before = text[:off]
    line = before.count("\n")
    start = before.rfind("\n") + 1
    return {"line": line, "character": units_of(text[start:], off - start, enc)}


def _run(n_edits: int, n_docs: int = 50, seed: int = 0, enc: str = "utf-16") -> None:
    rng = random.Random(seed)
    seeds = [t for _, t in example_texts()] + [t for _, t in sample_corpus(20, seed=5, max_bytes=8_000)]
    s = RpcServer()
    try:
        caps = {"general": {"positionEncodings": [enc]}, "workspace": {"workspaceEdit": {"documentChanges": True}}}
        assert s.initialize(caps)["result"]["capabilities"]["positionEncoding"] == enc
        docs = {}
        for i in range(n_docs):
            uri = f"file:///tmp/gg_load/doc{i}.py"
            text = seeds[i % len(seeds)].replace("\r", "")
            docs[uri] = [text, 1]
            s.open(uri, text, 1)
        time.sleep(1.0)
        rss0 = s.rss_kb()
        uris = list(docs)
        for k in range(n_edits):
            uri = rng.choice(uris[: 5 + k % n_docs])  # some documents much busier than others
            text, v = docs[uri]
            a = rng.randrange(len(text) + 1)
            b = min(len(text), a + rng.choice([0, 0, 0, 1, 2, 5, 30]))
            new = rng.choice(SNIPPETS) if rng.random() < 0.8 else ""
            change = {"range": {"start": _pos(text, a, enc), "end": _pos(text, b, enc)}, "text": new}
            text = text[:a] + new + text[b:]
            v += 1
            docs[uri] = [text, v]
            s.change(uri, v, [change])
            if k % 500 == 499:  # a few requests mixed in
                s.request_async("textDocument/hover", {"textDocument": {"uri": uri}, "position": _pos(text, a, enc)})
        deadline = time.monotonic() + 120 + n_edits / 50
        pending = set(uris)
        while pending and time.monotonic() < deadline:
            for uri in list(pending):
                last = s.last_diagnostics(uri)
                if last and last.get("version") == docs[uri][1]:
                    pending.discard(uri)
            time.sleep(0.2)
        assert not pending, f"{len(pending)} documents never got diagnostics for their final version"
        rss1 = s.rss_kb()
        mismatched = []
        for uri in uris:
            text, v = docs[uri]
            res = analyze(text, uri[len("file://"):])
            src = res.source
            want = sorted((f.code, f.start.line - 1, src.to_lsp_col(f.start, enc), f.end.line - 1, src.to_lsp_col(f.end, enc)) for f in res.findings)
            got = sorted((d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"], d["range"]["end"]["line"], d["range"]["end"]["character"]) for d in s.last_diagnostics(uri)["diagnostics"])
            # the server's own text model must agree with ours: same findings at the same places
            if got != want:
                mismatched.append((uri, got, want))
        assert not mismatched, mismatched[:2]
        assert rss1 < 800_000, f"RSS {rss1} kB"
        assert rss1 - rss0 < 300_000, f"RSS grew from {rss0} to {rss1} kB"
        assert s.alive()
    finally:
        s.stop()


def test_rapid_edits_default():
    _run(int(os.environ.get("GRADGUARD_LOAD_EDITS", "1500")))


def test_rapid_edits_utf8_client():
    _run(int(os.environ.get("GRADGUARD_LOAD_EDITS", "1500")) // 3, n_docs=10, seed=2, enc="utf-8")


@pytest.mark.slow
def test_rapid_edits_full():
    _run(10_000, seed=1)
