"""One pass over a parsed tree, shared by everything that used to call ``ast.walk`` on it.

``ast.walk`` re-discovers children through ``iter_fields``/``iter_child_nodes`` generators on every
call, and an analysis used to walk the whole tree several times (imports, classes, functions, parents,
rules). ``index_of(tree)`` does it once (cached on the tree object) and answers:

* ``of_type(types)`` — the nodes ``isinstance`` of ``types``, in exactly ``ast.walk`` order;
* ``walk(node)`` — ``ast.walk(node)`` for any node of the tree, same order, from cached child lists;
* ``parents`` — ``id(child) -> parent``.
"""
from __future__ import annotations

import ast
from array import array
from collections import deque
from collections.abc import Iterator
from heapq import merge
from typing import Optional

_AST = ast.AST
_ATTR = "_gg_index"
_NO_KIDS: tuple = ()


class TreeIndex:
    __slots__ = ("nodes", "kids", "by_type", "_parents")
    _parents: Optional[dict]

    def __init__(self, tree: ast.AST) -> None:
        nodes = [tree]
        kids: dict = {}
        by_type: dict = {}
        append = nodes.append
        i = 0
        while i < len(nodes):
            node = nodes[i]
            t = type(node)
            lst = by_type.get(t)
            if lst is None:
                by_type[t] = array("l", (i,))  # compact: kept for the life of the tree
            else:
                lst.append(i)
            ks = []
            for name in node._fields:
                v = getattr(node, name, None)
                if type(v) is list:
                    for x in v:
                        if isinstance(x, _AST):
                            ks.append(x)
                            append(x)
                elif isinstance(v, _AST):
                    ks.append(v)
                    append(v)
            kids[id(node)] = tuple(ks) if ks else _NO_KIDS
            i += 1
        self.nodes = nodes  # ast.walk (breadth-first) order
        self.kids = kids
        self.by_type = by_type
        self._parents = None

    def of_type(self, types) -> list:
        """``[n for n in ast.walk(tree) if isinstance(n, types)]``, without walking."""
        if not isinstance(types, tuple):
            types = (types,)
        hits = [idx for t, idx in self.by_type.items() if issubclass(t, types)]
        nodes = self.nodes
        if not hits:
            return []
        if len(hits) == 1:
            return [nodes[i] for i in hits[0]]
        return [nodes[i] for i in merge(*hits)]

    def walk(self, node: ast.AST) -> Iterator[ast.AST]:
        """``ast.walk(node)`` (same order) for a node of this tree."""
        kids = self.kids
        if id(node) not in kids:  # not from this tree (or a node created later): plain walk
            yield from ast.walk(node)
            return
        todo = deque((node,))
        pop = todo.popleft
        extend = todo.extend
        while todo:
            n = pop()
            extend(kids[id(n)])
            yield n

    @property
    def parents(self) -> dict:
        if self._parents is None:
            out: dict = {}
            kids = self.kids
            for node in self.nodes:
                for k in kids[id(node)]:
                    out[id(k)] = node
            self._parents = out
        return self._parents


def index_of(tree: ast.AST) -> TreeIndex:
    """The index of ``tree``, built on first use and kept on the tree object itself."""
    idx = tree.__dict__.get(_ATTR)
    if idx is None:
        idx = TreeIndex(tree)
        setattr(tree, _ATTR, idx)
    return idx


# --- statements only ------------------------------------------------------------------------------
# Imports, classes and functions are statements, and statements only nest through these fields (an
# ExceptHandler / match_case sits between a Try / Match and its body). Walking just them is several
# times cheaper than indexing every expression node, and keeps ``ast.walk``'s relative order.
_STMT_FIELDS = frozenset(("body", "handlers", "orelse", "finalbody", "cases"))
_STMTS_ATTR = "_gg_statements"


def statements(tree: ast.AST) -> list:
    """Every statement of ``tree`` in ``ast.walk`` order (cached on the tree)."""
    out = tree.__dict__.get(_STMTS_ATTR)
    if out is not None:
        return out
    out = []
    todo = deque((tree,))
    pop = todo.popleft
    stmt = ast.stmt
    while todo:
        n = pop()
        if isinstance(n, stmt):
            out.append(n)
        for name in n._fields:
            if name in _STMT_FIELDS:
                v = getattr(n, name, None)
                if v:
                    todo.extend(v)
    setattr(tree, _STMTS_ATTR, out)
    return out


def forget_index(tree: ast.AST) -> None:
    """Drop what is cached on ``tree`` (after the tree was changed): every ``_gg_*`` attribute."""
    for key in [k for k in tree.__dict__ if k.startswith("_gg")]:
        del tree.__dict__[key]


def statements_of_type(tree: ast.AST, types) -> list:
    """``[n for n in ast.walk(tree) if isinstance(n, types)]`` for statement types, without indexing."""
    return [n for n in statements(tree) if isinstance(n, types)]
