"""The analysis core on half-written, mutated and hostile input: never raises, never hangs, and says
clearly when it cannot analyze (GG001 syntax error, GG003 skipped)."""
from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradguard.analyze import INTERNAL_CODE, SYNTAX_CODE, analyze

from ._checks import check_fixes, check_partial_sound, check_result, parses
from ._corpus import MUTATIONS, deep_nesting_cases, example_texts, mutate, sample_corpus
from .conftest import scale


def _cut_points(text: str, rng: random.Random, n: int) -> list:
    """Random cuts, plus cuts that land mid-identifier, mid-string and right after an opening bracket."""
    cuts = {rng.randrange(len(text) + 1) for _ in range(n)}
    for needle in ("'", '"', "(", "[", "def ", "torch.", ".backward", "\"\"\"", "lambda", ":\n"):
        i = text.find(needle, rng.randrange(max(len(text) // 2, 1)))
        if i >= 0:
            cuts.add(i + 1)
            cuts.add(i + len(needle) // 2 + 1)
    return sorted(cuts)


def test_every_prefix_of_examples(request):
    """Every prefix, at every character, of a few rules' examples (the code people type)."""
    examples = example_texts()
    n = scale(request, 6, len(examples))
    rng = random.Random(7)
    rng.shuffle(examples)
    checked = 0
    for name, text in examples[:n]:
        full = {(f.code, f.start, f.end) for f in analyze(text, "ex.py").findings}
        step = 1 if request.config.getoption("--long-fuzz") else 7
        for cut in range(0, len(text) + 1, step):
            prefix = text[:cut]
            res = analyze(prefix, "ex.py")
            check_result(prefix, res)
            assert (res.syntax_error is None) == parses(prefix), (name, cut)
            if res.syntax_error is not None and parses(text):
                check_partial_sound(res, full)
            checked += 1
    assert checked > 50


def test_prefixes_of_corpus_files(request):
    files = sample_corpus(scale(request, 4, 60), seed=11, max_bytes=12_000)
    rng = random.Random(3)
    for path, text in files:
        whole = analyze(text, path)
        full = {(f.code, f.start, f.end) for f in whole.findings}
        for cut in _cut_points(text, rng, scale(request, 8, 40)):
            prefix = text[:cut]
            res = analyze(prefix, path)
            check_result(prefix, res)
            if res.syntax_error is not None and whole.syntax_error is None:
                check_partial_sound(res, full)
            if not parses(prefix):
                f = res.syntax_error
                assert f is not None and f.code == SYNTAX_CODE and ("syntax error" in f.message or "cannot parse" in f.message)


def test_mutated_corpus_files(request):
    files = sample_corpus(scale(request, 5, 150), seed=23, max_bytes=15_000)
    rng = random.Random(5)
    n = 0
    for path, text in files:
        for _ in range(scale(request, 4, 12)):
            m = mutate(text, rng, rounds=rng.randrange(1, 4))
            res = analyze(m, path)
            check_result(m, res)
            n += 1
    assert n


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_mutation_on_examples(mutation):
    rng = random.Random(mutation.__name__)
    for name, text in example_texts()[:: max(1, len(example_texts()) // 8)]:
        m = mutation(text, rng)
        res = analyze(m, "ex.py")
        check_result(m, res)


@pytest.mark.parametrize("name", sorted(deep_nesting_cases()))
def test_deep_nesting(name):
    text = deep_nesting_cases()[name]
    t = time.perf_counter()
    res = analyze(text, "deep.py")
    check_result(text, res, allow_skip=True)
    assert time.perf_counter() - t < 30


def test_time_budget_gives_gg003_not_a_hang():
    """A 100k-line file: bounded by the time budget (plus one parse), with a clear GG003."""
    text = "import torch\n" + "".join(f"x{i} = torch.ones({i % 7}, requires_grad=True).detach() * 2\n" for i in range(100_000))
    t = time.perf_counter()
    res = analyze(text, "big.py", time_budget=0.5)
    took = time.perf_counter() - t
    skipped = [f for f in res.findings if f.code == INTERNAL_CODE]
    assert skipped and "analysis skipped" in skipped[0].message and skipped[0].severity.value == "information"
    assert len(res.findings) == 1
    assert took < 40, took  # one uninterruptible ast.parse of 4 MB on a loaded machine


def test_budget_does_not_leak_into_later_work():
    """The timer must never fire after analyze() returned (a stray exception in the caller)."""
    src = "import torch\nx = torch.ones(1, requires_grad=True)\ny = x.detach()\n(y * 2).sum().backward()\n"
    for _ in range(300):
        analyze(src, "x.py", time_budget=0.001)
    time.sleep(0.05)
    res = analyze(src, "x.py")
    unbounded = analyze(src, "x.py", time_budget=0)
    # a stray timer would have skipped (GG003) or cut short this analysis: it must equal an unbounded one
    assert not [f for f in res.findings if f.code == INTERNAL_CODE], res.findings
    assert [(f.code, f.start, f.end) for f in res.findings] == [(f.code, f.start, f.end) for f in unbounded.findings]


def test_huge_line_and_size_limit():
    text = "import torch\nx = [" + "1," * 300_000 + "]\n"
    res = analyze(text, "wide.py", time_budget=5)
    check_result(text, res, allow_skip=True)
    big = "x = 1\n" * 1_000_000
    res = analyze(big, "huge.py")
    assert [f.code for f in res.findings] == [INTERNAL_CODE]


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffimport torch\nx = torch.ones(1)\n",
        "import torch\r\nx = torch.ones(1)\ry = x\n",
        "\x0cimport torch\n\x0c\nx = 1\n",
        "x = '\ud800'\n",
        "x = 1\x00\n",
        "\x00",
        "",
        "\n\n\n",
        "\r",
        "é = 1\n😀",
        "# -*- coding: latin-1 -*-\nx = 'é'\n",
        "\t\tx = 1\n",
        "x = (\n",
        '"""',
        "if True:\n\tx = 1\n        y = 2\n",
        "\u2028x = 1\n",
        "x = 1\x85y = 2\n",
    ],
)
def test_odd_texts(text):
    res = analyze(text, "odd.py")
    check_result(text, res)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

python_ish = st.lists(
    st.sampled_from(
        [
            "import torch\n", "x = torch.ones(2, requires_grad=True)\n", "y = x.detach()\n", "loss = (y * 2).sum()\n", "loss.backward()\n",
            "def f(a):\n", "    return a\n", "class M(torch.nn.Module):\n", "    def __init__(self):\n", "        super().__init__()\n",
            "        self.w = torch.zeros(3)\n", "    def forward(self, x):\n", "        return x @ self.w\n", "with torch.no_grad():\n", "    ",
            "(", ")", "[", "]", "'", '"', "\\", "#", ":", "\t", "\r", "\r\n", "\x0c", "\x00", "é", "😀", "\ufeff", "lambda", "yield", "async ",
            "await ", "f'{", "}", "@", "*", "**", "=", "==", ".", ",", "x", "torch.nn.Linear(2, 2)", "opt.step()\n", "opt.zero_grad()\n",
        ]
    ),
    max_size=40,
).map("".join)


@SETTINGS
@given(python_ish)
def test_hypothesis_python_ish(text):
    res = analyze(text, "h.py")
    check_result(text, res)


@SETTINGS
@given(st.text(max_size=300))
def test_hypothesis_any_text(text):
    res = analyze(text, "h.py")
    check_result(text, res)


@pytest.mark.slow
def test_long_mutation_campaign(request):
    files = sample_corpus(400, seed=99, max_bytes=40_000)
    rng = random.Random(99)
    for path, text in files:
        for _ in range(5):
            m = mutate(text, rng, rounds=rng.randrange(1, 5))
            res = analyze(m, path)
            check_result(m, res)
            if res.syntax_error is None:
                check_fixes(m, res)


def test_leading_bom_is_not_a_syntax_error():
    """Editors may keep a BOM in the buffer; Python accepts it. Same findings, line 1 shifted by one."""
    from gradguard.core.source import Pos

    t = "import torch; x = torch.ones(2, requires_grad=True); z = x.detach(); (z * 2).sum().backward()\n"
    plain = analyze(t, "b.py")
    bom = analyze("\ufeff" + t, "b.py")
    assert bom.syntax_error is None
    assert [(f.code, f.start, f.end) for f in bom.findings] == [(f.code, Pos(f.start.line, f.start.col + 1), Pos(f.end.line, f.end.col + 1)) for f in plain.findings]
    assert plain.findings


def test_tiny_budget_from_a_fresh_process():
    """Budgets that expire during the very first analysis (imports, lazy caches) leave nothing broken."""
    import subprocess
    import sys

    code = (
        "from gradguard.analyze import analyze\n"
        "src = 'import torch\\nx = torch.ones(1, requires_grad=True)\\ny = x.detach()\\n(y * 2).sum().backward()\\n'\n"
        "for b in (0.0001, 0.001, 0.003, 0.01, 0.03):\n"
        "    [analyze(src, 'x.py', time_budget=b) for _ in range(20)]\n"
        "print(sorted({f.code for f in analyze(src, 'x.py').findings}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert r.stdout.strip() == "['GG201']"


def test_findings_on_the_parsable_part_are_kept():
    """Typing at the end of a file: prefix-sound findings above the half-written statement stay."""
    head = (
        "import torch\n\n\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.layers = [torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)]\n\n    def forward(self, x):\n        return self.layers[1](self.layers[0](x))\n\n\n"
        "x = torch.ones(3, dtype=torch.long, requires_grad=True)\n"
    )
    from gradguard.analyze import PREFIX_SOUND

    whole = analyze(head, "p.py")
    assert {f.code for f in whole.findings} >= {"GG302", "GG404"}
    for tail in ["net = Net(\n", "loss = net(x).sum(", "def train(:\n", "for i in range(3):\n    opt.step(", "'" * 3 + "unterminated"]:
        res = analyze(head + tail, "p.py")
        check_result(head + tail, res)
        assert [f.code for f in res.findings if f.code != "GG001"] == [f.code for f in whole.findings if f.code in PREFIX_SOUND], tail
        assert res.syntax_error is not None
