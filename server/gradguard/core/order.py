"""Statement order: where a node sits in the source, and whether two nodes can both run."""
from __future__ import annotations

import ast


def position(node: ast.AST) -> tuple:
    """(line, column) of ``node``: compares nodes by where they start in the source."""
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def mutually_exclusive(facts, a: ast.AST, b: ast.AST) -> bool:
    """Are ``a`` and ``b`` in different branches of the same ``if`` / ``try``?"""
    def chain(n):
        out = {}
        child = n
        cur = facts.parent(n)
        while cur is not None:
            out[id(cur)] = (cur, child)
            child = cur
            cur = facts.parent(cur)
        return out

    ca, cb = chain(a), chain(b)
    for key, (node, child_a) in ca.items():
        if key in cb and isinstance(node, (ast.If, ast.Try, ast.IfExp)):
            child_b = cb[key][1]

            def branch(node, child):
                for field in ("body", "orelse", "handlers", "finalbody"):
                    v = getattr(node, field, None)
                    if v is child or (isinstance(v, list) and child in v):
                        return field
                return "test"

            fa, fb = branch(node, child_a), branch(node, child_b)
            if fa != fb and "test" not in (fa, fb) and "finalbody" not in (fa, fb):
                return True
            return False
    return False
