"""The one entry point the CLI, the language server and the tests share: text in, findings out."""
from __future__ import annotations

import ast
import contextlib
import ctypes
import gc
import hashlib
import os
import re
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Optional

from gradguard.config import Config
from gradguard.core import suppress
from gradguard.core.edits import checked
from gradguard.core.facts import FileFacts
from gradguard.core.model import Finding, Severity
from gradguard.core.source import Pos, SourceText

SYNTAX_CODE = "GG001"
UNUSED_SUPPRESSION_CODE = "GG002"
INTERNAL_CODE = "GG003"
MAX_BYTES = 5_000_000  # larger files are skipped with a clear message
TIME_BUDGET_S = float(os.environ.get("GRADGUARD_TIME_BUDGET", "") or 10.0)  # per file; past it: GG003


@dataclass
class Analysis:
    source: SourceText
    findings: list = field(default_factory=list)
    facts: Optional[FileFacts] = None
    syntax_error: Optional[Finding] = None
    seconds: float = 0.0
    # cross-file (a workspace given): findings this file's program places in other files, by path, and the
    # files the program was linked from (path -> content digest): what these findings depend on
    foreign: dict = field(default_factory=dict)
    depends_on: dict = field(default_factory=dict)
    linked: Optional[object] = None  # core.workspace.Linked


class AnalysisTimeout(BaseException):
    """Raised inside the analyzing thread when its time budget is spent (BaseException: rules' ``except
    Exception`` must not swallow it)."""


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = True


@contextlib.contextmanager
def _gc_paused():
    """The cyclic GC rescans the whole heap as the AST's millions of objects are allocated, which makes
    analysis cost grow faster than file size; nothing an analysis allocates needs it until the end."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def analyze(text: str, path: Optional[str] = None, config: Optional[Config] = None, time_budget: Optional[float] = None, workspace=None, pause=None) -> Analysis:
    """``workspace`` (a ``core.workspace.WorkspaceIndex``): analyze the file as one program with the
    definitions it imports from the workspace; findings inside those land in ``Analysis.foreign``.
    ``pause`` (a callable, for background work): called before linking and before each rule; it may block (the
    server's background analysis waits there while a document the user is editing is analyzed)."""
    with _gc_paused():
        return _analyze_budgeted(text, path, config, time_budget, workspace, pause)


def _analyze_budgeted(text: str, path: Optional[str], config: Optional[Config], time_budget: Optional[float], workspace=None, pause=None) -> Analysis:
    """Analyze one file's text. Never raises for any input: problems become findings.

    ``time_budget`` (seconds; default ``TIME_BUDGET_S``, env ``GRADGUARD_TIME_BUDGET``; 0 = unbounded): past
    it the analysis is abandoned and the result is one GG003 "analysis skipped" information finding."""
    budget = TIME_BUDGET_S if time_budget is None else time_budget
    if not budget or budget <= 0:
        return _analyze(text, path, config, workspace=workspace, pause=pause)
    t0 = time.perf_counter()
    from gradguard.rules import ALL_RULES  # noqa: F401  (imported outside the budget: never interrupt an import)

    result = _run_bounded(lambda: _analyze(text, path, config, workspace=workspace, pause=pause), budget)
    if result is None:
        source = SourceText(text, path)
        result = Analysis(source)
        result.findings = [
            Finding(INTERNAL_CODE, f"analysis skipped: it took longer than {budget:g} s (file too large or too complex)", Pos(1, 0), Pos(1, len(source.line(1))), Severity.INFORMATION)
        ]
        result.seconds = time.perf_counter() - t0
    return result


def _async_raise(tid: int, exc) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(0))


def _run_bounded(fn, budget: float):
    """``fn()`` in this thread, interrupted by ``AnalysisTimeout`` after ``budget`` seconds (None then)."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _run_bounded_by_signal(fn, budget)  # no timer thread to start per file (CLI workers)
    tid = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _async_raise(tid, AnalysisTimeout)

    timer = threading.Timer(budget, fire)
    timer.daemon = True
    result = None
    try:
        timer.start()
        result = fn()
    except AnalysisTimeout:
        result = None
    finally:
        while True:  # the exception may land anywhere until ``done`` is set; then clear a pending one
            try:
                timer.cancel()
                with lock:
                    state["done"] = True
                    if state["fired"]:
                        _async_raise(tid, None)
                break
            except AnalysisTimeout:
                continue
    return result


def _run_bounded_by_signal(fn, budget: float):
    def on_alarm(signum, frame):
        raise AnalysisTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except AnalysisTimeout:
        return None
    finally:
        signal.signal(signal.SIGALRM, previous)


# Rules whose findings in a complete prefix of a file stay true whatever follows (a pattern in one statement,
# or in a class complete before the cut). Only these are reported on the parsable part of a file that does
# not parse; the "only gradient path" and loop rules wait for the whole file. (Not GG913: where it reports a
# non-static Function depends on whether code further down calls an instance of it.)
PREFIX_SOUND = frozenset({"GG101", "GG302", "GG404", "GG405", "GG601", "GG602", "GG603", "GG911"})


def _analyze(text: str, path: Optional[str] = None, config: Optional[Config] = None, only: Optional[frozenset] = None, workspace=None, pause=None) -> Analysis:
    t0 = time.perf_counter()
    config = config or Config()
    source = SourceText(text, path)
    result = Analysis(source)
    if not config.enable:
        return result
    if len(text) > MAX_BYTES:
        result.findings.append(
            Finding(INTERNAL_CODE, f"analysis skipped: file is larger than {MAX_BYTES // 1_000_000} MB", Pos(1, 0), Pos(1, len(source.line(1))), Severity.INFORMATION)
        )
        return result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a leading BOM (editors may keep it in the buffer; Python accepts it in files) parses as a form
            # feed: one character either way, so every position stays the same (see SourceText.char_col)
            tree = ast.parse("\x0c" + text[1:] if text.startswith("\ufeff") else text, filename=path or "<unknown>", type_comments=False)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        result.syntax_error = _syntax_finding(source, exc)
        if only is None:  # findings on the complete top-level statements before the error
            result.findings.extend(_prefix_findings(source, exc, path, config))
        result.findings.append(result.syntax_error)
        result.seconds = time.perf_counter() - t0
        return result
    linked = None
    if workspace is not None and path and only is None:
        workspace.note(path, text, tree)
        if pause is not None:
            pause()
        linked, tree = _link(workspace, path, text, tree)
    program = SourceText(linked.text, path) if linked is not None else source
    facts = FileFacts(program, tree)
    if linked is not None:
        facts.own_lines = linked.own_lines
    result.facts = facts
    result.linked = linked
    from gradguard.rules import ALL_RULES

    findings: list[Finding] = []
    text = program.text
    if "torch" in text:
        present: dict = {}  # needs token -> is it in the text (rules share tokens: each is searched once)
        for rule in ALL_RULES:
            if not config.enabled(rule.code, path) or (only is not None and rule.code not in only):
                continue
            if rule.needs:
                for t in rule.needs:
                    got = present.get(t)
                    if got is None:
                        got = present[t] = t in text
                    if got:
                        break
                else:
                    continue  # none of the rule's tokens is in the text
            if pause is not None:
                pause()
            try:
                for f in rule.check(facts):
                    f.severity = config.severity_for(f.code, f.severity)
                    f.fix_builders = [checked(program, b) for b in f.fix_builders]
                    findings.append(f)
            except RecursionError:
                findings.append(Finding(INTERNAL_CODE, f"{rule.code} skipped: the code is nested too deeply to analyze", Pos(1, 0), Pos(1, 0), Severity.INFORMATION))
            except Exception as exc:  # a rule's bug must not cost the user the other rules' findings
                findings.append(Finding(INTERNAL_CODE, f"{rule.code} skipped: internal error ({type(exc).__name__}); please report it", Pos(1, 0), Pos(1, 0), Severity.INFORMATION))
    sups = suppress.scan(program)
    if sups:
        findings = [f for f in findings if not suppress.is_suppressed(sups, f.code, f.start.line)]
        if config.enabled(UNUSED_SUPPRESSION_CODE, path):
            for s in sups:
                unused = sorted(c for c in s.codes if c.startswith("GG") and c not in s.used)
                if unused and not s.file_level and (linked is None or s.line <= linked.own_lines):
                    findings.append(
                        Finding(
                            UNUSED_SUPPRESSION_CODE,
                            f"unused suppression for {', '.join(unused)}: nothing to silence on this line",
                            Pos(s.line, s.col),
                            Pos(s.line, s.end_col),
                            config.severity_for(UNUSED_SUPPRESSION_CODE, Severity.HINT),
                        )
                    )
    # one finding per code and place (a cut may starve roots of several losses)
    seen = set()
    unique = []
    # the same place reported twice (a cut starving roots of several losses): keep one, the same one on every run
    # (roots come from sets ordered by memory addresses; the message decides, not the order they were found in)
    for f in sorted(findings, key=lambda f: (*f.sort_key(), f.end, f.message)):
        key = (f.code, f.start, f.end)
        if key in seen:
            continue
        seen.add(key)
        unique.append(f)
    if linked is not None:
        from gradguard.core.crossfile import split_findings

        unique, result.foreign = split_findings(linked, unique, path or "", config)
        result.depends_on = dict(linked.files)
    result.findings = unique
    result.seconds = time.perf_counter() - t0
    return result


def program_inputs(text: str, path: str, config: Optional[Config], workspace) -> Optional[str]:
    """A digest of everything the analysis of ``path`` with ``workspace`` reads: its text, its configuration and
    the program linked from the definitions it imports (text and where each copied line comes from). The
    analysis is a function of these, so an equal digest means equal findings, here and in other files (the
    server skips re-analyzing a closed importer whose program a save did not change). Parses and links only,
    about a third of an analysis; None when the text does not parse (analyze it to report that)."""
    if (config is None or config.enable) and len(text) <= MAX_BYTES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse("\x0c" + text[1:] if text.startswith("\ufeff") else text, filename=path, type_comments=False)
            linked = workspace.link(path, text, tree)
        except (SyntaxError, ValueError, MemoryError, RecursionError, OSError):
            return None
    else:
        linked = None
    return inputs_digest(text, path, config, linked)


def analyzed_inputs(analysis: Analysis, path: str, config: Optional[Config]) -> Optional[str]:
    """``program_inputs`` of what ``analysis`` (by ``analyze`` with a workspace) read, without parsing again;
    None when it did not parse."""
    if analysis.syntax_error is not None:
        return None
    return inputs_digest(analysis.source.text, path, config, analysis.linked)


def inputs_digest(text: str, path: str, config: Optional[Config], linked) -> str:
    h = hashlib.sha1(repr((path, config)).encode("utf-8", "surrogatepass"))
    h.update(text.encode("utf-8", "surrogatepass"))
    if linked is not None:
        h.update(b"\0linked\0")
        h.update(linked.text.encode("utf-8", "surrogatepass"))
        meta = (
            linked.own_lines,
            linked.origin,
            sorted(linked.library),
            sorted(linked.changed_lines),
            sorted((p, sorted(m.items())) for p, m in linked.renames.items()),
            sorted(linked.chains.items()),
            sorted((p, sorted(m)) for p, m in linked.rebound.items()),
        )
        h.update(repr(meta).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _link(workspace, path: str, text: str, tree: ast.Module) -> tuple:
    """(Linked or None, the tree to analyze): the file with the definitions it imports from the workspace."""
    try:
        linked = workspace.link(path, text, tree)
        if linked is None:
            return None, tree
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return linked, linked.program_tree(tree)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OSError):
        return None, tree  # a program that cannot be built or parsed: the file alone


def _prefix_findings(source: SourceText, exc: BaseException, path: Optional[str], config: Config) -> list:
    """PREFIX_SOUND findings on the text before the top-level statement holding a syntax error (one more
    parse and only those rules: cheap). Their fixes are not offered while the file does not parse."""
    lines = source.lines
    if not isinstance(exc, SyntaxError) or not exc.lineno or not lines:
        return []
    cut = min(exc.lineno, len(lines))
    while cut > 1 and (lines[cut - 1][:1] in (" ", "\t", "\r", "\n", "#", ")", "]", "}", "\x0c") or lines[cut - 2].startswith("@")):
        cut -= 1
    prefix = "".join(lines[: cut - 1])
    if "torch" not in prefix:
        return []
    sub = _analyze(prefix, path, config, only=PREFIX_SOUND)
    if sub.syntax_error is not None:
        return []
    out = []
    for f in sub.findings:
        if f.code in PREFIX_SOUND and f.end.line < cut:
            f.fix_builders = []
            f._fixes = []
            f.partial = True  # not a Finding field: an ad-hoc marker, read with getattr
            out.append(f)
    return out


# PEP 695 (Python 3.12): ``type Alias = ...``, ``type Alias[T] = ...``, ``class Box[T]:``, ``def first[T](xs: list[T]) -> T:``
_NEWER_SYNTAX = re.compile(r"\s*(?:type\s+[A-Za-z_]\w*\s*(?:\[.*\])?\s*=|(?:async\s+)?def\s+[A-Za-z_]\w*\s*\[|class\s+[A-Za-z_]\w*\s*\[)")


def _syntax_finding(source: SourceText, exc: BaseException) -> Finding:
    if isinstance(exc, SyntaxError):
        line = exc.lineno or 1
        line = max(1, min(line, max(len(source.lines), 1)))
        # SyntaxError.offset is 1-based in characters for str input
        col = max((exc.offset or 1) - 1, 0)
        col = min(col, len(source.line(line)))
        msg = f"syntax error: {exc.msg}"
        end = Pos(line, len(source.line(line))) if col >= len(source.line(line)) else Pos(line, col + 1)
        if end.col <= col:
            end = Pos(line, col)
        if sys.version_info < (3, 12) and _NEWER_SYNTAX.match(source.line(line)):
            # (valid Python 3.12: a ``type`` alias or type parameters, PEP 695; the code is fine, this interpreter is old)
            here = f"{sys.version_info.major}.{sys.version_info.minor}"
            return Finding(SYNTAX_CODE, f"this line is Python 3.12 syntax (PEP 695 type parameters or a `type` alias), which the Python {here} running "
                           "gradguard cannot parse: gradient checks paused for this file (run gradguard with Python 3.12 or later)", Pos(line, col), end, Severity.INFORMATION)
        return Finding(SYNTAX_CODE, msg + " (gradient checks paused until the file parses)", Pos(line, col), end, Severity.ERROR)
    if isinstance(exc, ValueError):
        return Finding(SYNTAX_CODE, f"cannot parse: {exc}", Pos(1, 0), Pos(1, 0), Severity.ERROR)
    return Finding(SYNTAX_CODE, "cannot parse: the file is too deeply nested", Pos(1, 0), Pos(1, 0), Severity.ERROR)
