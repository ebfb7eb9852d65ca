"""Every rule's own examples, checked two ways: statically (bad ones flagged on their lines, good ones
silent) and under real CPU torch (bad ones lose gradients or raise, good ones train, fixes restore)."""
from __future__ import annotations

import ast
import os

import pytest

from gradguard.analyze import analyze
from gradguard.core.edits import apply_edits
from gradguard.core.model import Severity
from gradguard.rules import ALL_RULES

SHIMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "shims")
CASES = [(rule, ex) for rule in ALL_RULES for ex in rule.examples]
IDS = [f"{rule.code}-{'bad' if ex.bad else 'good'}-{ex.name or i}" for i, (rule, ex) in enumerate(CASES)]


def test_every_rule_has_bad_and_good_examples():
    for rule in ALL_RULES:
        assert any(ex.bad for ex in rule.examples), f"{rule.code} has no bad example"
        assert any(not ex.bad for ex in rule.examples), f"{rule.code} has no good look-alike"
        assert rule.docs.count("## ") >= 4, f"{rule.code} docs are incomplete"


@pytest.mark.parametrize("rule,ex", CASES, ids=IDS)
def test_static(rule, ex):
    res = analyze(ex.code, f"{rule.code}_example.py")
    assert res.syntax_error is None
    if ex.bad:
        mine = [f for f in res.findings if f.code == rule.code]
        assert mine, f"{rule.code} not reported on its bad example {ex.name}; got {[(f.code, f.start.line, f.message) for f in res.findings]}"
        lines = {f.start.line for f in mine}
        for line in ex.lines:
            assert line in lines, f"{rule.code} not reported on line {line}; got {[(f.code, f.start.line, f.message) for f in res.findings]}"
        if rule.fix_applicability is not None and ex.fixable:
            assert any(f.fix for f in mine), f"{rule.code} offers no fix on its bad example {ex.name}"
    else:
        loud = [f for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
        assert not loud, f"false alarm on good example: {[(f.code, f.start.line, f.message) for f in loud]}"


def _fixed_source(rule, ex):
    res = analyze(ex.code, "example.py")
    edits = [e for f in res.findings if f.code == rule.code and f.fix for e in f.fix.edits]
    if not edits:
        return None
    fixed = apply_edits(res.source, edits)
    ast.parse(fixed)  # a fix never yields unparsable code
    return fixed


@pytest.fixture(scope="module")
def observations():
    from torchrun import run_programs

    sources, keys = [], []
    for rule, ex in CASES:
        sources.append(ex.code)
        keys.append((rule.code, ex.name, "orig"))
        if ex.bad and rule.fix_applicability is not None and ex.fixable:
            fixed = _fixed_source(rule, ex)
            if fixed is not None:
                sources.append(fixed)
                keys.append((rule.code, ex.name, "fixed"))
    # (examples in a framework's style run with the framework shims of tests/corpus/shims, which keep its behaviour)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = SHIMS + (os.pathsep + old if old else "")
    try:
        return dict(zip(keys, run_programs(sources)))
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.parametrize("rule,ex", CASES, ids=IDS)
def test_runtime_proof(rule, ex, observations):
    from torchrun import loses_gradient_or_raises, restored

    obs = observations[(rule.code, ex.name, "orig")]
    assert not str(obs.get("error") or "").startswith("harness:"), obs
    problems = loses_gradient_or_raises(obs, ex.expect)
    assert not problems, f"{rule.code} {ex.name}: real torch disagrees: {problems}"
    if ex.bad and rule.fix_applicability is not None and ex.fixable:
        fixed = observations.get((rule.code, ex.name, "fixed"))
        assert fixed is not None, f"{rule.code} {ex.name}: no fix applied"
        if ex.fixed_expect is not None:
            problems = loses_gradient_or_raises(fixed, ex.fixed_expect)
        else:
            problems = restored(fixed, ex.expect)
        assert not problems, f"{rule.code} {ex.name}: the fix does not restore gradients: {problems}"
