"""The one entry point the CLI, the language server and the tests share: text in, findings out."""
from __future__ import annotations

import ast
import ctypes
import os
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


class AnalysisTimeout(BaseException):
    """Raised inside the analyzing thread when its time budget is spent (BaseException: rules' ``except
    Exception`` must not swallow it)."""


def analyze(text: str, path: Optional[str] = None, config: Optional[Config] = None, time_budget: Optional[float] = None) -> Analysis:
    """Analyze one file's text. Never raises for any input: problems become findings.

    ``time_budget`` (seconds; default ``TIME_BUDGET_S``, env ``GRADGUARD_TIME_BUDGET``; 0 = unbounded): past
    it the analysis is abandoned and the result is one GG003 "analysis skipped" information finding."""
    budget = TIME_BUDGET_S if time_budget is None else time_budget
    if not budget or budget <= 0:
        return _analyze(text, path, config)
    t0 = time.perf_counter()
    result = _run_bounded(lambda: _analyze(text, path, config), budget)
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


def _analyze(text: str, path: Optional[str] = None, config: Optional[Config] = None) -> Analysis:
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
        result.findings.append(result.syntax_error)
        result.seconds = time.perf_counter() - t0
        return result
    facts = FileFacts(source, tree)
    result.facts = facts
    from gradguard.rules import ALL_RULES

    findings: list[Finding] = []
    if "torch" in text:
        for rule in ALL_RULES:
            if not config.enabled(rule.code, path):
                continue
            if rule.needs and not any(token in text for token in rule.needs):
                continue
            try:
                for f in rule.check(facts):
                    f.severity = config.severity_for(f.code, f.severity)
                    f.fix_builders = [checked(source, b) for b in f.fix_builders]
                    findings.append(f)
            except RecursionError:
                findings.append(Finding(INTERNAL_CODE, f"{rule.code} skipped: the code is nested too deeply to analyze", Pos(1, 0), Pos(1, 0), Severity.INFORMATION))
            except Exception as exc:  # a rule's bug must not cost the user the other rules' findings
                findings.append(Finding(INTERNAL_CODE, f"{rule.code} skipped: internal error ({type(exc).__name__}); please report it", Pos(1, 0), Pos(1, 0), Severity.INFORMATION))
    sups = suppress.scan(source)
    if sups:
        findings = [f for f in findings if not suppress.is_suppressed(sups, f.code, f.start.line)]
        if config.enabled(UNUSED_SUPPRESSION_CODE, path):
            for s in sups:
                unused = sorted(c for c in s.codes if c.startswith("GG") and c not in s.used)
                if unused and not s.file_level:
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
    for f in sorted(findings, key=Finding.sort_key):
        key = (f.code, f.start, f.end)
        if key in seen:
            continue
        seen.add(key)
        unique.append(f)
    result.findings = unique
    result.seconds = time.perf_counter() - t0
    return result


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
        return Finding(SYNTAX_CODE, msg + " (gradient checks paused until the file parses)", Pos(line, col), end, Severity.ERROR)
    if isinstance(exc, ValueError):
        return Finding(SYNTAX_CODE, f"cannot parse: {exc}", Pos(1, 0), Pos(1, 0), Severity.ERROR)
    return Finding(SYNTAX_CODE, "cannot parse: the file is too deeply nested", Pos(1, 0), Pos(1, 0), Severity.ERROR)
