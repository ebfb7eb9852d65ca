"""Hover text: findings explained, and what a tensor-valued name carries at that point."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.analyze import Analysis
from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import UNKNOWN, Val
from gradguard.core.model import Finding
from gradguard.core.source import Pos
from gradguard.rules import RULES_BY_CODE
from gradguard.rules.base import DOCS_URL


def finding_markdown(f: Finding, analysis: Optional[Analysis] = None) -> str:
    """What the editor does not already show: VS Code prints the diagnostic's message and related
    locations above the hover, so the hover leaves them out and adds the run-time effect, the flow (for
    cuts that starve parameters), why it matters and the fix."""
    rule = RULES_BY_CODE.get(f.code)
    title = f"**{f.code}** {rule.name}" if rule else f"**{f.code}**"
    parts = [f"{title} ({f.severity.value})"]
    if f.explanation:
        expl = f.explanation.strip()
        # some explanations already open with "At run time": do not print it twice
        parts += ["", expl if expl.lower().startswith("at run time") else "**At run time:** " + expl]
    if analysis is not None:
        from gradguard.lsp.flow import starvation_flow_markdown

        flow = starvation_flow_markdown(analysis, f)
        if flow:
            parts += ["", flow]
    if rule and rule.summary:
        parts += ["", "**Why:** " + rule.summary]
    fixes = f.fixes
    if fixes:
        parts += ["", "**Fix:** " + "; or ".join(f"{x.message} ({x.applicability.value})" for x in fixes)]
    elif rule is not None:
        parts += ["", "**Fix:** no automatic fix; see the rule page. Silence an intentional case with `# noqa: " + f.code + "`."]
    parts += ["", f"[{f.code} documentation]({DOCS_URL.format(code=f.code)})"]
    return "\n".join(parts)


def findings_at(analysis: Analysis, pos: Pos, findings: Optional[list] = None) -> list:
    """Findings under ``pos``: of ``findings`` (a document's own and those other files place in it) or the
    analysis' own."""
    out = []
    for f in analysis.findings if findings is None else findings:
        if f.start <= pos <= f.end or (f.start.line == pos.line and f.start.line == f.end.line and f.start.col <= pos.col <= f.end.col):
            out.append(f)
    return out


def name_markdown(analysis: Analysis, pos: Pos) -> Optional[str]:
    facts = analysis.facts
    if facts is None or "torch" not in analysis.source.text:
        return None
    target = None
    for node in walk_nodes(facts.tree):
        if isinstance(node, ast.Name) and node.lineno == pos.line:
            start = facts.start(node)
            end = facts.end(node)
            if start.col <= pos.col <= end.col:
                target = node
                break
    if target is None:
        return None
    fn = facts.enclosing(target, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    fl = facts.flow.flow(fn)
    best: Optional[tuple] = None
    for node in walk_nodes(fn):
        if isinstance(node, ast.Name) and node.id == target.id and isinstance(node.ctx, ast.Store) and id(node) in fl.assigned:
            if (node.lineno, node.col_offset) <= (target.lineno, target.col_offset):
                if best is None or (node.lineno, node.col_offset) > (best[0].lineno, best[0].col_offset):
                    best = (node, fl.assigned[id(node)])
    if best is None:
        return None
    return describe_value(target.id, best[1], best[0].lineno)


def describe_value(name: str, v: Val, line: int) -> Optional[str]:
    live = sorted(r for r in v.live if r != UNKNOWN and not r.startswith("arg:") and not r.startswith("<"))
    cuts: dict = {}
    for r, c in v.cut:
        if r == UNKNOWN or r.startswith("arg:") or any(r == lv or r.startswith(lv + ".") or lv.startswith(r + ".") for lv in v.live):
            continue
        cuts.setdefault((c.node.lineno, c.detail), set()).add(r)
    if not live and not cuts and v.kind not in ("tensor", "module"):
        return None
    lines = [f"**`{name}`** (as assigned on line {line})"]
    if v.kind == "module":
        lines.append("a module: calling it records gradient for its parameters")
    elif live:
        lines.append("carries gradient from " + ", ".join(f"`{r}`" for r in live[:6]))
    elif v.leaf:
        lines.append("a leaf tensor that requires grad")
    else:
        lines.append("carries no gradient here")
    for (ln, detail), roots in sorted(cuts.items()):
        lines.append(f"- gradient from {', '.join(f'`{r}`' for r in sorted(roots)[:4])} is cut at line {ln} (`{detail}`)")
    return "\n\n".join(lines[:2]) + ("\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")
