"""Edits are safe: a quick fix names the exact document version it was computed for, a fix computed for
one version is never expressed against another text, and no offered fix (nor the noqa action, nor fix-all)
ever turns parsable code into unparsable code."""
from __future__ import annotations

import random

import pytest

from gradguard.analyze import analyze
from gradguard.core.edits import apply_edits

from ._checks import check_fixes, parses
from ._corpus import example_texts, sample_corpus
from ._lsputil import apply
from ._rpc import RpcServer
from .conftest import scale
from seeds import DETACH_SEED

BUGGY = DETACH_SEED
URI = "file:///tmp/gg_edits_safe.py"


def _noqa_ok(text: str, res) -> int:
    from gradguard.lsp.server import _noqa_edit

    n = 0
    for f in res.findings:
        if f.code in ("GG001", "GG002", "GG003"):
            continue
        edit = _noqa_edit(res.source, f)
        if edit is None:  # no comment can end this line: not offered
            continue
        new = apply_edits(res.source, [edit])
        assert parses(new), f"noqa edit for {f.code} on line {f.start.line} breaks the code"
        again = analyze(new, "x.py")
        assert f.code not in [g.code for g in again.findings if g.start.line == f.start.line], f"noqa for {f.code} does not silence it"
        n += 1
    return n


def test_fixes_of_rule_examples_parse():
    n = noqa = 0
    for name, text in example_texts():
        res = analyze(text, "ex.py")
        if res.syntax_error is None:
            n += check_fixes(text, res)
            noqa += _noqa_ok(text, res)
    assert n > 5
    assert noqa > 5  # the "Ignore on this line" edits were really checked


def test_fixes_on_corpus_files_parse(request):
    files = sample_corpus(scale(request, 12, 400), seed=41, max_bytes=20_000)
    analyzed = 0
    for path, text in files:
        res = analyze(text, path)
        if res.syntax_error is None:
            analyzed += 1
            check_fixes(text, res)  # asserts every offered fix parses
            _noqa_ok(text, res)  # asserts every offered noqa edit parses and silences
    assert analyzed > 0, "no corpus file parsed: nothing was checked"


@pytest.mark.parametrize(
    "text",
    [
        "import torch\nx = torch.ones(2, requires_grad=True)\nz = x.detach() \\\n    * 2\n(z * 2).sum().backward()\n",
        'import torch\nx = torch.ones(2, requires_grad=True)\nz = (x.detach(), """\nabc""")[0]\n(z * 2).sum().backward()\n',
        "import torch\nx = torch.ones(2, requires_grad=True)\nz = x.detach(); w = 1\n(z * 2).sum().backward()\n",
        "import torch\nx = torch.ones(2, requires_grad=True)\nz = x.detach()  # noqa: E501\n(z * 2).sum().backward()\n",
        "import torch\nx = torch.ones(2, requires_grad=True)\nz = x.detach()  # a comment\r\n(z * 2).sum().backward()\r\n",
    ],
)
def test_noqa_and_fixes_on_awkward_lines(text):
    res = analyze(text, "awk.py")
    assert res.syntax_error is None
    assert [(f.code, f.start.line) for f in res.findings] == [("GG201", 3)]  # the awkward line is really flagged
    assert check_fixes(text, res) >= 1
    awkward = text.split("\n")[2].rstrip("\r").endswith("\\") or '"""' in text
    assert _noqa_ok(text, res) == (0 if awkward else 1)  # offered (and checked) unless no comment can end the line


def _edit_of(action):
    dc = action["edit"]["documentChanges"]
    assert len(dc) == 1
    return dc[0]


def test_fix_carries_the_version_it_was_computed_for():
    s = RpcServer()
    try:
        s.initialize()
        m = s.mark()
        s.open(URI, BUGGY, version=1)
        d1 = s.diagnostics_after(URI, m, version=1)["diagnostics"]
        gg = next(d for d in d1 if d["code"] == "GG201")
        # the user inserts lines above, and asks for fixes with the OLD diagnostic right away
        text2 = "# header\n# more\n" + BUGGY
        s.change(URI, 2, [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# header\n# more\n"}])
        acts = s.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": gg["range"], "context": {"diagnostics": [gg]}})["result"] or []
        for a in acts:
            e = _edit_of(a)
            assert e["textDocument"]["version"] == 2, "a fix must name the version it was computed for"
            new = apply(text2, e["edits"], "utf-16")
            assert parses(new)
        # and the current diagnostic's fix, applied to version 2, removes the finding
        d2 = s.diagnostics_after(URI, m, version=2)["diagnostics"]
        gg2 = next(d for d in d2 if d["code"] == "GG201")
        assert gg2["range"]["start"]["line"] == gg["range"]["start"]["line"] + 2
        acts = s.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": gg2["range"], "context": {"diagnostics": [gg2]}})["result"]
        pref = [a for a in acts if a.get("isPreferred")]
        assert pref
        e = _edit_of(pref[0])
        assert e["textDocument"]["version"] == 2
        fixed = apply(text2, e["edits"], "utf-16")
        assert "GG201" not in [f.code for f in analyze(fixed, "/tmp/gg_edits_safe.py").findings]
        # fix-all names the version too, and its text parses
        fa = s.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": [], "only": ["source.fixAll"]}})["result"]
        assert fa
        e = _edit_of(fa[0])
        assert e["textDocument"]["version"] == 2 and parses(apply(text2, e["edits"], "utf-16"))
    finally:
        s.stop()


def test_rapid_edits_then_code_action_uses_the_newest_text():
    """Interleave edits and code-action requests without waiting: every answer is for the version current
    when the request arrived, and its edits apply cleanly to that version's text."""
    s = RpcServer()
    rng = random.Random(1)
    try:
        s.initialize()
        s.open(URI, BUGGY, version=1)
        text = BUGGY
        pending = []
        for v in range(2, 40):
            line = rng.randrange(0, 3)
            ins = rng.choice(["# c\n", "\n", "pass\n"])
            lines = text.splitlines(True)
            text = "".join(lines[:line]) + ins + "".join(lines[line:])
            s.change(URI, v, [{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": ins}])
            det = text.splitlines().index("    z = y.detach()")
            rid = s.request_async("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": {"start": {"line": det, "character": 8}, "end": {"line": det, "character": 18}}, "context": {"diagnostics": []}})
            pending.append((rid, v, text))
        for rid, v, t in pending:
            acts = s.response(rid)["result"]
            assert acts, v
            for a in acts:
                e = _edit_of(a)
                assert e["textDocument"]["version"] == v
                assert parses(apply(t, e["edits"], "utf-16"))
    finally:
        s.stop()


@pytest.mark.parametrize("eol,final", [("\n", True), ("\r\n", True), ("\n", False), ("\r", True)])
def test_fix_all_through_lsp_gives_exactly_the_fixed_text(eol, final):
    from gradguard.config import Config
    from gradguard.runner import _fix_text

    text = BUGGY.replace("\n", eol)
    if not final:
        text = text.rstrip("\r\n")
    want = _fix_text(text, "/tmp/gg_fixall.py", Config(), "safe")
    assert want != text
    uri = "file:///tmp/gg_fixall.py"
    s = RpcServer()
    try:
        s.initialize()
        m = s.mark()
        s.open(uri, text, version=4)
        s.diagnostics_after(uri, m)
        fa = s.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": [], "only": ["source.fixAll"]}})["result"]
        e = _edit_of(fa[0])
        assert e["textDocument"]["version"] == 4
        assert apply(text, e["edits"], "utf-16") == want
    finally:
        s.stop()


def _variants(text: str, rng: random.Random) -> list:
    """Parsable variants of an example: other line endings, unicode before findings, extra nesting."""
    out = [text.replace("\n", "\r\n"), text.replace("\n", "\r")]
    lines = text.splitlines(True)
    uni = []
    for ln in lines:
        body = ln.lstrip(" ")
        ind = ln[: len(ln) - len(body)]
        if body.strip() and not body.startswith(("#", ")", "]", "}", "else", "elif", "except", "finally", "@")) and not ln.rstrip().endswith(("(", ",", "\\")) and rng.random() < 0.5:
            uni.append(f"{ind}_s = 'é😀𝔵'; {body}")
        else:
            uni.append(ln)
    out.append("".join(uni))
    out.append("# 😀 header\n\n" + text + "\n# tail 😀")
    out.append("if True:\n" + "".join("    " + ln if ln.strip() else ln for ln in lines))
    return [v for v in out if parses(v)]


def test_fixes_on_varied_examples_parse(request):
    rng = random.Random(13)
    n = noqa = 0
    for name, text in example_texts():
        for v in _variants(text, rng):
            res = analyze(v, "ex.py")
            assert res.syntax_error is None
            n += check_fixes(v, res)
            noqa += _noqa_ok(v, res)
    assert n > 20
    assert noqa > 20
