"""Building fix edits. Small textual edits are computed from ``ast`` positions; structural rewrites
parse only the smallest enclosing statement with libcst (imported lazily, never on the keystroke path)
so the user's formatting and comments are kept."""
from __future__ import annotations

import ast
import re
import textwrap
from typing import Callable, Optional

from gradguard.core.facts import FileFacts
from gradguard.core.flow import inplace_flag as core_inplace_flag
from gradguard.core.model import Applicability, Edit, Fix
from gradguard.core.source import Pos
from gradguard.core.torchapi import INPLACE_MODULES


def replace_node(facts: FileFacts, node: ast.AST, text: str) -> Edit:
    return Edit(facts.start(node), facts.end(node), text)


def delete_between(facts: FileFacts, start: Pos, end: Pos) -> Edit:
    return Edit(start, end, "")


def delete_method_call(facts: FileFacts, call: ast.Call, also_following: tuple = ()) -> Optional[Edit]:
    """``x.detach()`` -> ``x``; with ``also_following=("requires_grad_",)`` also drops a chained call."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        value, attr = call.func.value, call.func.attr
        end_node: ast.AST = call
    elif isinstance(call, ast.Attribute):  # x.data
        value, attr = call.value, call.attr
        end_node = call
    else:
        return None
    # start at the dot, after any closing parentheses that ast leaves out of ``value``
    after = facts.end(value)
    seg = facts.source.segment(after, facts.end(end_node))
    m = re.search(r"\.\s*" + re.escape(attr) + r"\b", seg)
    if m is None:
        return None
    start = facts.source.pos_at(facts.source.offset(after) + m.start())
    parent = facts.parent(end_node)
    if isinstance(parent, ast.Attribute) and parent.attr in also_following:
        outer = facts.parent(parent)
        if isinstance(outer, ast.Call) and outer.func is parent:
            end_node = outer
    return Edit(start, facts.end(end_node), "")


def line_indent(facts: FileFacts, line: int) -> str:
    text = facts.source.line(line)
    return text[: len(text) - len(text.lstrip())]


def newline(facts: FileFacts) -> str:
    first = facts.source.lines[0] if facts.source.lines else "\n"
    return "\r\n" if first.endswith("\r\n") else "\n"


def insert_before_stmt(facts: FileFacts, stmt: ast.stmt, code: str) -> Edit:
    indent = line_indent(facts, stmt.lineno)
    pos = Pos(stmt.lineno, 0)
    return Edit(pos, pos, indent + code + newline(facts))


def insert_after_stmt(facts: FileFacts, stmt: ast.stmt, code: str) -> Edit:
    indent = line_indent(facts, stmt.lineno)
    end = stmt.end_lineno or stmt.lineno
    pos = Pos(end + 1, 0)
    if end >= len(facts.source.lines):
        last = facts.source.line(end)
        p = Pos(end, len(last))
        return Edit(p, p, newline(facts) + indent + code)
    return Edit(pos, pos, indent + code + newline(facts))


def keyword_edit(facts: FileFacts, call: ast.Call, name: str, value: str) -> Optional[Edit]:
    """The edit that makes ``call`` pass ``name=value``: the existing keyword's value replaced, or the keyword appended;
    None when the call's text cannot take it (``**kwargs``)."""
    kw = next((k for k in call.keywords if k.arg == name), None)
    if kw is not None:
        return replace_node(facts, kw.value, value)
    text = facts.text(call)
    if any(k.arg is None for k in call.keywords) or not text.endswith(")"):
        return None
    inner = text[:-1].rstrip()
    sep = " " if inner.endswith((",", "(")) else ", "
    return replace_node(facts, call, f"{inner}{sep}{name}={value})")


def alias_for(facts: FileFacts, qualified: str) -> Optional[str]:
    """The local spelling of ``torch`` / ``torch.nn`` in this file (``torch.nn`` may be ``nn`` or ``tnn``)."""
    best = None
    for local, q in facts.imports.aliases.items():
        if q == qualified:
            return local
        if qualified.startswith(q + ".") and (best is None or len(q) > len(best[1])):
            best = (local, q)
    if best:
        return best[0] + qualified[len(best[1]) :]
    return None


def ensure_import(facts: FileFacts, qualified: str) -> tuple:
    """(spelling, extra edits): reuse the file's alias style, or add ``from torch import nn`` / ``import torch``."""
    spelled = alias_for(facts, qualified)
    if spelled:
        return spelled, []
    # place after the last top-level import
    last = None
    for st in facts.tree.body:
        if isinstance(st, (ast.Import, ast.ImportFrom)):
            last = st
    if qualified == "torch.nn":
        line = "from torch import nn"
        name = "nn"
    else:
        line = f"import {qualified}"
        name = qualified
    if last is not None:
        return name, [insert_after_stmt(facts, last, line)]
    return name, [Edit(Pos(1, 0), Pos(1, 0), line + newline(facts))]


def rewrite_statement(facts: FileFacts, stmt: ast.stmt, transform: Callable) -> Optional[Edit]:
    """Parse just ``stmt`` with libcst, apply ``transform(module) -> module``, and return one edit
    replacing the statement's lines. Comments and formatting inside the statement are kept."""
    import libcst as cst  # lazy: libcst costs ~100 µs a line to parse

    start_line = stmt.lineno
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        start_line = min(d.lineno for d in decorators)  # decorators belong to the statement
    end_line = stmt.end_lineno or stmt.lineno
    lines = facts.source.lines[start_line - 1 : end_line]
    original = "".join(lines)
    indent = line_indent(facts, start_line)
    dedented = textwrap.dedent(original)
    if not dedented.endswith(("\n", "\r")):
        dedented += "\n"
    try:
        module = cst.parse_module(dedented)
        new_module = transform(module)
    except Exception:
        return None
    if new_module is None:
        return None
    code = new_module.code
    if code == dedented:
        return None
    new_text = "".join((indent + ln if ln.strip() else ln) for ln in code.splitlines(keepends=True))
    if not original.endswith(("\n", "\r")):
        new_text = new_text.rstrip("\r\n")
    return Edit(Pos(start_line, 0), Pos(end_line, len(lines[-1])) if not original.endswith(("\n", "\r")) else Pos(end_line + 1, 0), new_text)


def fix(message: str, *edits: Optional[Edit], unsafe: bool = False, preferred: bool = True) -> Optional[Fix]:
    real = tuple(e for e in edits if e is not None)
    if not real:
        return None
    return Fix(message, real, Applicability.UNSAFE if unsafe else Applicability.SAFE, preferred)


def inplace_flag(call: ast.Call, short: str):
    """The ``inplace=True`` keyword (or the positional ``True`` in its place) of the constructor call of an in-place
    capable torch layer ``short`` (``nn.ReLU(inplace=True)``, ``nn.Dropout(p, True)``), else None."""
    return core_inplace_flag(call, INPLACE_MODULES.get(short))


def drop_inplace(facts, call: ast.Call, flag):
    """The layer built out of place: ``nn.ReLU(inplace=True)`` -> ``nn.ReLU()`` (the same values, one more tensor)."""
    parts = [facts.text(a) for a in call.args if a is not flag]
    parts += [f"{k.arg}={facts.text(k.value)}" if k.arg else f"**{facts.text(k.value)}" for k in call.keywords if k is not flag]
    return fix(f"Make `{facts.text(call.func)}` out of place (drop `inplace=True`)", replace_node(facts, call, f"{facts.text(call.func)}({', '.join(parts)})"))
