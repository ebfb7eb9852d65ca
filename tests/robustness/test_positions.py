"""UTF-16 (default) / UTF-8 / UTF-32 positions on lines with non-ASCII and non-BMP characters before the
finding: diagnostics, hovers and quick-fix edits, with ``positionEncoding`` negotiated."""
from __future__ import annotations

import pytest

from gradguard.analyze import analyze
from gradguard.core.edits import apply_edits

from ._checks import parses
from ._lsputil import apply, char_col, units_of
from ._rpc import RpcServer

TEXT = """import torch


def main():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x + 2
    s = "é😀𝔵 中文"; z = y.detach(); t = "😀😀"
    w = z * 3
    loss = ((w - 10) ** 2).sum()
    loss.backward()
    return x.grad
"""
URI = "file:///tmp/gg_unicode.py"


@pytest.mark.parametrize(
    "offered,expected",
    [(None, "utf-16"), (["utf-16"], "utf-16"), (["utf-8", "utf-16"], "utf-8"), (["utf-32", "utf-8"], "utf-32"), (["utf-7", "latin-1"], "utf-16")],
)
def test_positions_in_negotiated_encoding(offered, expected):
    caps = {"workspace": {"workspaceEdit": {"documentChanges": True}}, "textDocument": {"publishDiagnostics": {"versionSupport": True}}}
    if offered is not None:
        caps["general"] = {"positionEncodings": offered}
    s = RpcServer()
    try:
        init = s.initialize(caps)
        enc = init["result"]["capabilities"].get("positionEncoding", "utf-16")
        assert enc == expected
        m = s.mark()
        s.open(URI, TEXT, version=3)
        diags = s.diagnostics_after(URI, m)["diagnostics"]
        res = analyze(TEXT, "/tmp/gg_unicode.py")
        src = res.source
        want = sorted((f.code, f.start.line - 1, units_of(src.line(f.start.line), f.start.col, enc), units_of(src.line(f.end.line), f.end.col, enc)) for f in res.findings)
        got = sorted((d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"], d["range"]["end"]["character"]) for d in diags)
        assert got == want
        gg = [d for d in diags if d["code"] == "GG201"]
        assert gg and gg[0]["range"]["start"]["line"] == 6
        # the range covers exactly the detach call in the client's units
        line = TEXT.splitlines()[6]
        a, b = (char_col(line, gg[0]["range"][k]["character"], enc) for k in ("start", "end"))
        assert "detach" in line[a:b] and line[a:b] in "z = y.detach()", line[a:b]
        # hover inside the finding, at its last unit
        h = s.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 6, "character": gg[0]["range"]["end"]["character"] - 1}})["result"]
        assert h and "GG201" in h["contents"]["value"]
        assert h["range"] == gg[0]["range"]
        # hovering just before the finding (on the emoji string) does not show it
        h2 = s.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 6, "character": units_of(line, line.index("😀😀"), enc)}})["result"]
        assert not h2 or "GG201" not in h2["contents"]["value"]
        # quick fix: exact version, edits in the client's units give the core's fixed text
        acts = s.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": gg[0]["range"], "context": {"diagnostics": [gg[0]]}})["result"]
        fixes = [a for a in acts if a.get("kind") == "quickfix" and "noqa" not in a["title"] and "Ignore" not in a["title"]]
        assert fixes
        core = next(f for f in res.findings if f.code == "GG201")
        for a, fx in zip(fixes, core.fixes):
            dc = a["edit"]["documentChanges"][0]
            assert dc["textDocument"] == {"uri": URI, "version": 3}
            new = apply(TEXT, dc["edits"], enc)
            assert new == apply_edits(src, fx.edits)
            assert parses(new)
        noqa = [a for a in acts if "Ignore" in a["title"]]
        for a in noqa:
            new = apply(TEXT, a["edit"]["documentChanges"][0]["edits"], enc)
            assert "# noqa: GG201" in new.splitlines()[6] and new.splitlines()[6].startswith(line)
    finally:
        s.stop()


def test_converters_round_trip():
    from gradguard.core.source import Pos, SourceText

    text = "a = 'é😀𝔵\U0010ffff中'; b = 1\r\nc = '\ud800'\n\x0cd = 2\rlast"
    src = SourceText(text)
    for line in range(1, len(src.lines) + 1):
        ln = src.line(line)
        for col in range(len(ln) + 1):
            for enc in ("utf-16", "utf-8", "utf-32"):
                u = src.to_lsp_col(Pos(line, col), enc)
                assert u == units_of(ln, col, enc)
                assert src.from_lsp(line - 1, u, enc) == Pos(line, col)


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(list("ab \t\r\n\x0c\x85\u2028é中😀𝔵\U0010ffff\ufeff\ud800\udfff\x00")), max_size=60))
def test_converters_round_trip_hypothesis(text):
    from gradguard.core.source import Pos, SourceText

    src = SourceText(text)
    assert "".join(src.lines) == text
    for line in range(1, len(src.lines) + 1):
        ln = src.line(line)
        for col in range(len(ln) + 1):
            for enc in ("utf-16", "utf-8", "utf-32"):
                u = src.to_lsp_col(Pos(line, col), enc)
                assert u == units_of(ln, col, enc)
                assert src.from_lsp(line - 1, u, enc) == Pos(line, col)
            assert src.pos_at(src.offset(Pos(line, col))) == Pos(line, col) or col == len(ln)
