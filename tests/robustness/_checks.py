"""Invariants every analysis result must satisfy, whatever the input."""
from __future__ import annotations

import ast
import warnings

from gradguard.analyze import INTERNAL_CODE, SYNTAX_CODE


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def check_result(text: str, res, *, allow_skip: bool = False) -> None:
    src = res.source
    assert src.text == text
    nlines = max(len(src.lines), 1)
    for f in res.findings:
        for p in [f.start, f.end] + [q for r in f.related for q in (r.start, r.end)]:
            assert 1 <= p.line <= nlines + 1, (f, nlines)
            assert 0 <= p.col <= len(src.line(p.line)), (f, p, src.line(p.line))
            for enc in ("utf-16", "utf-8", "utf-32"):
                assert src.to_lsp_col(p, enc) >= 0
        assert f.start <= f.end, f
        if f.code == INTERNAL_CODE:
            assert "internal error" not in f.message, f"rule crashed: {f.message}"
            if not allow_skip:
                assert "nested too deeply" in f.message, f.message
    syntax = [f for f in res.findings if f.code == SYNTAX_CODE]
    if res.syntax_error is not None:
        # a file that does not parse: one clear syntax finding and nothing stale next to it
        assert syntax == [res.syntax_error]
        from gradguard.analyze import PREFIX_SOUND

        for f in res.findings:
            if f.code in (SYNTAX_CODE, INTERNAL_CODE):
                continue
            # findings on the parsable part: only prefix-sound rules, only before the error, no fixes
            assert getattr(f, "partial", False) and f.code in PREFIX_SOUND, f
            assert f.end.line < res.syntax_error.start.line, (f, res.syntax_error)
            assert not f.fixes
    else:
        assert not syntax


def check_fixes(text: str, res) -> int:
    """Every offered fix applies to unparsable-free code. Returns how many fixes were checked."""
    from gradguard.core.edits import apply_edits

    n = 0
    for f in res.findings:
        for fx in f.fixes:
            new = apply_edits(res.source, fx.edits)
            assert parses(new), f"{f.code} fix {fx.message!r} yields unparsable code"
            n += 1
    return n


def check_partial_sound(prefix_res, full_keys: set) -> int:
    """Findings reported on the parsable part of a prefix must also be findings of the whole file."""
    n = 0
    for f in prefix_res.findings:
        if getattr(f, "partial", False):
            assert (f.code, f.start, f.end) in full_keys, f"{f.code} at {f.start} on a prefix is not a finding of the whole file"
            n += 1
    return n
