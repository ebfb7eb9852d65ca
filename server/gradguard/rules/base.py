"""The rule contract. One rule = one module: its code, docs, runnable examples and check live together.

Examples are whole programs: ``main()`` returns ``{name: tensor_or_module}`` (and optionally a second dict
of facts), exactly like the dev corpus; ``expect`` says what real torch does with them. The generic test
module checks every example statically (bad ones are flagged on ``lines``, good ones are not) and, under real
torch, checks that bad ones lose gradients or raise, good ones train, and the fixes restore gradients.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Optional

from gradguard.core.facts import FileFacts
from gradguard.core.model import Applicability, Finding, Fix, Related, Severity
from gradguard.core.source import Pos

DOCS_URL = "https://github.com/gradguard/gradguard/blob/main/docs/rules/{code}.md"


@dataclass(frozen=True)
class Example:
    code: str
    expect: dict  # error: substring | grad_none/grad_zero/grad_ok: [names] | facts: {k: v}
    bad: bool = True
    lines: tuple = ()  # for bad examples: lines a finding must land on
    fixed_expect: Optional[dict] = None  # what the program does after the fix (default: trains, no error)
    fixable: bool = True  # False: the rule has fixes, but none is sound for this example
    name: str = ""


class Rule:
    code: str = ""
    name: str = ""
    summary: str = ""
    severity: Severity = Severity.WARNING
    fix_applicability: Optional[Applicability] = None  # None: the rule offers no fix
    docs: str = ""  # markdown: What it does / Why is this bad? / Example / Use instead / Fix safety
    examples: tuple = ()
    # Cheap pre-filter: the rule can only fire when the text contains one of these substrings
    # (empty: always run). Keeps whole families of rules, and the flow engine, off files they cannot match.
    needs: tuple = ()

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code)

    def check(self, facts: FileFacts) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    # helpers for subclasses -------------------------------------------------------------------
    def finding(
        self,
        facts: FileFacts,
        node: ast.AST,
        message: str,
        *,
        severity: Optional[Severity] = None,
        related: Iterable[tuple] = (),
        fixes: Iterable[Callable[[], Optional[Fix]]] = (),
        explanation: str = "",
        end_node: Optional[ast.AST] = None,
        method_span: bool = False,
    ) -> Finding:
        rel = []
        for rnode, msg in related:
            if rnode is None:
                continue
            rel.append(Related(facts.start(rnode), facts.end(rnode), msg))
        start = facts.method_start(node) if method_span else facts.start(node)
        end = facts.end(end_node or node)
        if end.line != start.line:  # keep squiggles to the first line of multi-line constructs
            end = Pos(start.line, len(facts.source.line(start.line)))
        return Finding(
            code=self.code,
            message=message,
            start=start,
            end=end,
            severity=severity or self.severity,
            related=rel,
            fix_builders=list(fixes),
            explanation=explanation,
        )


def doc_sections(rule: Rule) -> str:
    """The rule's page: title, summary, then its own docs."""
    fix = {
        None: "No automatic fix: the right change depends on intent.",
        Applicability.SAFE: "Safe fix available.",
        Applicability.UNSAFE: "Unsafe fix available (applied with --unsafe-fixes or as an editor quick fix).",
    }[rule.fix_applicability]
    return f"# {rule.code} {rule.name}\n\n{rule.summary}\n\nDefault severity: {rule.severity.value}. {fix}\n\n{rule.docs.strip()}\n"
