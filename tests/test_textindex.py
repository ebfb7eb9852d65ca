"""TextIndex (core/astindex.py) answers "does this regex match the source lines of that scope?" from one pass
per pattern over the whole file. It must give exactly what searching the scope's own text gives, including
for matches that straddle a scope's first or last line, alternations split into branches and word lists."""
import ast
import glob
import os
import pathlib
import re

from gradguard.core.astindex import TextIndex, statements_of_type
from gradguard.core.facts import BACKWARD_SYNTAX, INPLACE_SYNTAX, FileFacts
from gradguard.core.source import SourceText

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PATTERNS = [
    INPLACE_SYNTAX,
    BACKWARD_SYNTAX,
    re.compile(r"\w\.\w+\s*=\s*[\w.]+\("),
    re.compile(r"\.\w+\s*=\s*[\w.]+\("),
    re.compile(r"\.[a-z]\w*[a-z0-9]_\(|[-+*/]="),
    re.compile(r"\b(?:exp|exp2|expm1|sigmoid|tanh|softmax|log_softmax|relu|sqrt|rsqrt)\b"),
    re.compile(r"\b(?:exp|sigmoid|tanh|softmax|sqrt)\("),
    re.compile(r"requires_grad|Parameter|parameters\(|\.grad\b"),
    re.compile(r"\.(?:append|extend|insert)\(|\.\w+\s*\+="),
    re.compile(r"\bforward\s*\("),
    re.compile(r"\b(?:c|forward|sigmoid)\s*\("),  # calls of names: found with str.find (``_call_hits``)
    re.compile(r"\b(?:a|exp)\("),
    re.compile(r"\.data\b|(?:add|addcmul|copy|mul)_\("),  # a branch of literal strings: found with str.find
    re.compile(r"\bcheckpoint(?:_sequential)?\("),  # a leading ``\b`` then a literal: found with str.find (``_anchor``)
    re.compile(r"[-+*/@%&|^]=|\]\s*=[^=]"),  # a class of literal characters then a literal, in a branch
    re.compile(r"^def", re.MULTILINE),  # not range-safe: searched per scope
    re.compile(r"(?<=x)y"),  # a lookbehind: not range-safe
]

EDGE = '''import torch

def a(x):
    y = x]
def b(x):
    = 1
    return x

def c(w):
    w.add_(1)
    return w.exp()
x]
= 2
def d():
    return sigmoid
c
(1) + x.data.add_(1).addcmul_(2) + xc(2) + c_(3) + é c(4) + cé(5) + c\u00a0(6) + exp (7) + exp(8) + a\u2028(9)
'''


def _scopes(tree):
    return [tree, *statements_of_type(tree, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _check(text: str) -> int:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    src = SourceText(text)
    ti = TextIndex(src.text, src.lines)
    scopes = _scopes(tree) if tree is not None else []
    n = 0
    for pat in PATTERNS:
        assert ti.anywhere(pat) == (pat.search(src.text) is not None), pat.pattern
        for sc in scopes:
            body = src.text if isinstance(sc, ast.Module) else "".join(src.lines[sc.lineno - 1 : sc.end_lineno])
            assert ti.body(sc) == body
            assert ti.search(pat, sc) == (pat.search(body) is not None), (pat.pattern, getattr(sc, "lineno", 0))
            n += 1
    return n


def test_straddling_matches_and_edges():
    # (not parseable on purpose) scopes cut by hand, so that matches straddle their first or last line
    src = SourceText(EDGE)
    ti = TextIndex(src.text, src.lines)
    for pat in PATTERNS:
        for lo in range(1, len(src.lines) + 1):
            for hi in range(lo, len(src.lines) + 1):
                node = ast.Pass(lineno=lo, end_lineno=hi, col_offset=0, end_col_offset=0)
                body = "".join(src.lines[lo - 1 : hi])
                assert ti.search(pat, node) == (pat.search(body) is not None), (pat.pattern, lo, hi)


def test_same_answers_as_searching_each_scope_on_the_corpus():
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "dev", "*.py")))[:120]
    assert files
    n = sum(_check(open(p, encoding="utf-8").read()) for p in files)
    assert n > 1000


def test_nodes_near_finds_every_leaf_creation_call():
    from gradguard.core.torchapi import PARAMETER_CTORS
    from gradguard.rules._leafs import leaf_creation_calls

    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "dev", "*.py"))):
        text = open(p, encoding="utf-8").read()
        tree = ast.parse(text)
        facts = FileFacts(SourceText(text, p), tree)
        near = {id(c) for c in leaf_creation_calls(facts)}
        for c in ast.walk(tree):
            if not isinstance(c, ast.Call):
                continue
            q = facts.imports.qualname(c.func) or ""
            if q in PARAMETER_CTORS or any(k.arg == "requires_grad" for k in c.keywords) or (isinstance(c.func, ast.Attribute) and c.func.attr == "requires_grad_"):
                assert id(c) in near, (p, c.lineno)
        stored = any(isinstance(n, ast.Attribute) and n.attr == "requires_grad" and isinstance(n.ctx, ast.Store) for n in ast.walk(tree))
        assert facts.stores_attribute("requires_grad") == stored, p


def test_walk_nodes_is_ast_walk():
    """``walk_nodes`` replaces ``ast.walk`` everywhere: the same nodes in the same order, from every node."""
    from gradguard.core.astindex import caches_released, index_of, walk_nodes

    paths = sorted(glob.glob(os.path.join(ROOT, "server", "gradguard", "**", "*.py"), recursive=True))[:25]
    paths += sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "dev", "*.py")))[:25]
    assert len(paths) >= 40
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in [tree, *statements_of_type(tree, (ast.FunctionDef, ast.ClassDef))]:
            assert list(walk_nodes(node)) == list(ast.walk(node)), p
        # the caches an analysis keeps on nodes are dropped on leaving ``caches_released``
        with caches_released():
            index_of(tree)
            assert any(k.startswith("_gg") for k in tree.__dict__)
        assert not any(k.startswith("_gg") for k in tree.__dict__)


def test_anywhere_word_lists_and_split_gates():
    """``anywhere`` stops at a word list's first occurrence: the same answer as collecting every match; GG805's
    one-shot gate searched branch by branch answers as the whole alternation does."""
    from gradguard.rules.gg702_inplace_on_saved_tensor import _SAVES_INPUT_RE, _SAVES_OUTPUT_RE
    from gradguard.rules.gg805_parameters_generator_consumed import _ONE_SHOT_HINT, _ONE_SHOT_PARTS

    assert "|".join(p.pattern for p in (_ONE_SHOT_PARTS[2], _ONE_SHOT_PARTS[0], _ONE_SHOT_PARTS[1])) == _ONE_SHOT_HINT.pattern
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "dev", "*.py")))[:120]
    files += sorted(glob.glob(os.path.join(ROOT, "server", "gradguard", "**", "*.py"), recursive=True))[:40]
    texts = [open(p, encoding="utf-8").read() for p in files] + ["", "max", "xmax", "max_", "a.max(", "comment mm"]
    seen = set()
    for text in texts:
        for pat in (_SAVES_INPUT_RE, _SAVES_OUTPUT_RE, re.compile(r"\b(?:requires_grad|requires_grad_|Parameter)\b")):
            fresh = TextIndex(text, SourceText(text).lines)
            got = fresh.anywhere(pat)
            assert got == (pat.search(text) is not None), (text[:80], pat.pattern)
            seen.add(got)
        assert any(p.search(text) for p in _ONE_SHOT_PARTS) == (_ONE_SHOT_HINT.search(text) is not None)
    assert seen == {True, False}


def test_analysis_leaves_no_cyclic_garbage():
    """The CLI frees each file's trees by reference counting (its workers run without the cyclic GC): an analysis
    must leave no reference cycle behind once ``caches_released`` dropped the caches kept on nodes."""
    import gc
    import threading
    from collections import Counter

    from gradguard.analyze import analyze
    from gradguard.core.astindex import caches_released

    # every dev case (a recursive closure, or an ``ast.dump`` call, in one rule's path leaves a cycle on the cases that
    # reach it only: the first 40 did not show one that later cases did)
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "dev", "*.py")))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for p in files:
            # (collected first, so that what is counted is what this analysis leaves: an object another thread of the
            # session released meanwhile, such as a finished server's last analysis, is not this file's)
            text = open(p, encoding="utf-8").read()
            gc.collect()
            with caches_released():
                analyze(text, p)
            # (what the collector finds is kept for the message: which objects, and which other threads were running,
            # say whether the cycle is the analysis's or another thread's of the test session)
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                n = gc.collect()
                kinds = Counter(type(o).__name__ for o in gc.garbage).most_common(6) if n else []
                del gc.garbage[:]
            finally:
                gc.set_debug(0)
            assert n == 0, (p, kinds, sorted(t.name for t in threading.enumerate() if t is not threading.main_thread()))
    finally:
        if was:
            gc.enable()


def test_analysis_keeps_no_tree_alive():
    """Nothing module-level keeps an analyzed tree alive: after the analyses return, the session holds no more AST
    nodes than before. (A table of loops kept across files held earlier files' trees, with the walks cached on
    their nodes, and released them as cyclic garbage in whichever later analysis filled it.)"""
    import gc

    from gradguard.analyze import analyze
    from gradguard.core.astindex import caches_released

    files = sorted(glob.glob(os.path.join(ROOT, "tests", "corpus", "*", "*.py")))[::9][:80]

    def live_nodes() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if issubclass(type(o), ast.AST))  # (type(): isinstance reads __class__, which some objects warn on)

    analyze(pathlib.Path(files[0]).read_text(encoding="utf-8"), files[0])  # (module-level tables of constants are built once)
    before = live_nodes()
    for p in files:
        text = pathlib.Path(p).read_text(encoding="utf-8")
        analyze(text, p)  # as the server runs it: the caches stay on the tree, which the collector frees
        with caches_released():
            analyze(text, p)  # as the CLI runs it
    after = live_nodes()
    assert after <= before, (before, after)


def test_anchored_spans_are_finditer():
    """A pattern found where its literal is (``_anchor``) gives every match ``finditer`` gives, on real files and on
    overlapping, boundary and non-ASCII text."""
    from gradguard.core.astindex import _anchor, _anchored_spans

    texts = ["checkpoint(checkpoint(xcheckpoint( checkpoint_sequential(", "a+=b-=c==d*=*= /= ^=&=|=@=", "", "=", "+=", "\u00e9checkpoint( checkpoint\u00e9("]
    for f in sorted(glob.glob(os.path.join(ROOT, "server", "gradguard", "core", "*.py")))[:6]:
        with open(f, encoding="utf-8") as fh:
            texts.append(fh.read())
    sources = [r"\bcheckpoint(?:_sequential)?\(", r"[-+*/@%&|^]=", r"[-+*/]=", r"\bab?c", r"\ba\.b+", r"[ab]=+", r"[-x]\(?y", r"[]a]=", r"\b\w+", r"[^a]=", r"[a-c]="]
    anchored = 0
    for src in sources:
        c = re.compile(src)
        a = _anchor(c)
        if a is None:
            continue
        anchored += 1
        for t in texts:
            assert _anchored_spans(c, a, t) == [m.span() for m in c.finditer(t)], (src, t[:40])
    assert anchored >= 5
    assert _anchor(re.compile(r"\b\w+")) is None and _anchor(re.compile(r"[^a]=")) is None and _anchor(re.compile(r"[a-c]=")) is None
    assert _anchor(re.compile(r"requires_grad")) is None  # starts with its literal: the regex engine finds it itself
