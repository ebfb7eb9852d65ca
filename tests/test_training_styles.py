"""Six training bugs in seven training styles (tests/styles.py): each bug is found on its line in every
style, each clean program stays quiet, and every program does under real torch what its expectation says."""
import os

import pytest

from gradguard.analyze import analyze
from gradguard.core.model import Severity
from styles import PROGRAMS, expect_for
from torchrun import loses_gradient_or_raises, run_programs

HERE = os.path.dirname(os.path.abspath(__file__))
SHIMS = os.path.join(HERE, "corpus", "shims")
CODES = {
    "detach_in_forward": {"GG201"},
    "raw_tensor_weight": {"GG301"},
    "plain_list_of_layers": {"GG302"},
    "module_requires_grad_attr": {"GG601"},
    "no_grad_forward": {"GG501"},
    "no_zero_grad": {"GG802"},
}
IDS = [f"{b}-{s}" for b, s in PROGRAMS]


@pytest.mark.parametrize("key", list(PROGRAMS), ids=IDS)
def test_found_where_the_bug_is(key):
    bug, style = key
    src, line = PROGRAMS[key]
    res = analyze(src, f"{bug}_{style}.py")
    loud = [(f.code, f.start.line) for f in res.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
    if line is None:
        assert not loud, f"false alarm on the clean {style} program: {loud}"
    else:
        assert any(code in CODES[bug] and ln == line for code, ln in loud), f"{bug} in {style}: want {CODES[bug]} on line {line}, got {loud}"


@pytest.fixture(scope="module")
def observed():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = SHIMS + (os.pathsep + old if old else "")
    try:
        return dict(zip(PROGRAMS, run_programs([src for src, _ in PROGRAMS.values()])))
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.parametrize("key", list(PROGRAMS), ids=IDS)
def test_torch_agrees(key, observed):
    problems = loses_gradient_or_raises(observed[key], expect_for(key[0]))
    assert not problems, problems
