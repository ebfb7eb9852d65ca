"""SemanticModel: scopes and bindings of one file, so "what does this name hold here" is answered once.

Every function (and the module) is a scope; a name's bindings in a scope are every way it gets a value
there: assignments (tuple-to-tuple assignments element by element), annotated and augmented assignments,
parameters, loop / with / comprehension / except / match targets, walrus, imports, ``def`` / ``class``,
``del``, ``global`` / ``nonlocal``. Class bodies and comprehensions are scopes of their own (Python's
rules): a comprehension's targets do not bind in the enclosing function, a walrus inside one does.
Scopes are built on first query. Nothing here imports or runs the analyzed code.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional, Union

from gradguard.core.astindex import walk_nodes
from gradguard.core.imports import Imports

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
ScopeNode = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef]

# binding kinds whose value is an expression of the program
VALUE_KINDS = ("assign", "annassign")


@dataclass(frozen=True)
class Binding:
    name: str
    kind: str  # assign annassign augassign param for with comprehension walrus import def class except match del global
    node: ast.AST  # the statement (or argument) that binds
    value: Optional[ast.AST] = None  # for assign / annassign: the expression bound to this name (element-wise)
    whole: bool = True  # False when the name is one target of several (``a, b = f()``, ``x = y = ...`` is whole)


@dataclass
class Scope:
    node: ast.AST
    bindings: dict = field(default_factory=dict)  # name -> list[Binding], in source order
    imports: dict = field(default_factory=dict)  # local name -> qualified name, for imports in this scope


class SemanticModel:
    def __init__(self, tree: ast.Module, imports: Imports) -> None:
        self.tree = tree
        self.file_imports = imports
        self._scopes: dict[int, Scope] = {}

    # -- queries ----------------------------------------------------------------------------------
    def scope(self, node: ast.AST) -> Scope:
        """The scope of a module, function, lambda or class node (built on first use)."""
        s = self._scopes.get(id(node))
        if s is None:
            s = _build(node)
            self._scopes[id(node)] = s
        return s

    def bindings(self, scope_node: ast.AST, name: str) -> list:
        return self.scope(scope_node).bindings.get(name, [])

    def is_parameter(self, scope_node: ast.AST, name: str) -> bool:
        return any(b.kind == "param" for b in self.bindings(scope_node, name))

    def assigned_values(self, scope_node: ast.AST, name: str) -> Optional[list]:
        """Every expression ``name`` is assigned in the scope, when plain assignments (tuple-to-tuple element
        by element) are its only bindings; None when it is also bound another way (a parameter, a loop or
        with target, unpacking of a call, an augmented assignment, global...)."""
        out = []
        for b in self.bindings(scope_node, name):
            if b.kind not in VALUE_KINDS or b.value is None:
                return None
            out.append(b.value)
        return out

    def single_value(self, scope_node: Optional[ast.AST], name: str, outer: bool = True) -> Optional[ast.AST]:
        """The one expression ``name`` is assigned in ``scope_node`` (plain assignments its only bindings); when the
        scope never binds ``name`` (``outer``), the one it is assigned at module level. None otherwise (several values,
        another kind of binding, none)."""
        scope = scope_node if scope_node is not None else self.tree
        values = self.assigned_values(scope, name)
        if values is None:
            return None
        if not values and outer and scope is not self.tree:
            values = self.assigned_values(self.tree, name)
        return values[0] if values and len(values) == 1 else None

    def bound_class(self, scope_node: Optional[ast.AST], name: str, classes) -> Optional[str]:
        """The class of ``classes`` (names) whose instance ``name`` holds: its one value is ``Cls(...)``."""
        v = self.single_value(scope_node, name)
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in classes:
            return v.func.id
        return None

    def reaching(self, scope_node: ast.AST, name: str, use: ast.AST, parents) -> list:
        """The bindings of ``name`` that can hold when ``use`` runs: those before it in the source, and those
        after it inside a loop that also contains it (the next iteration). ``parents``: a node's parent
        (``FileFacts.parent``), or a dict from a node's id to its parent (``FileFacts.parents``)."""
        parent_of = _parent_function(parents)
        pos = (getattr(use, "lineno", 0), getattr(use, "col_offset", 0))
        loops = []
        cur = parent_of(use)
        while cur is not None and cur is not scope_node:
            if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)):
                loops.append(cur)
            cur = parent_of(cur)
        out = []
        for b in self.bindings(scope_node, name):
            bpos = (getattr(b.node, "lineno", 0), getattr(b.node, "col_offset", 0))
            if b.kind == "param" or bpos < pos or any(lp.lineno <= bpos[0] <= (lp.end_lineno or lp.lineno) for lp in loops):
                out.append(b)
        return out

    def reaching_defs(self, scope_node: ast.AST, name: str, use: ast.AST, parents) -> list:
        """``reaching`` without the bindings a later one always overwrites before ``use`` runs: the last binding
        before ``use`` in a statement list that also holds ``use`` (the same block or an enclosing one) runs on
        every path to it, so the bindings before it do not reach, nor (when it is inside the loop) those after
        ``use`` in a loop around both."""
        got = self.reaching(scope_node, name, use, parents)
        parent_of = _parent_function(parents)
        pos = (getattr(use, "lineno", 0), getattr(use, "col_offset", 0))
        chain = []  # use's ancestors up to the scope, innermost first
        cur: Optional[ast.AST] = use
        while cur is not None and cur is not scope_node:
            chain.append(cur)
            cur = parent_of(cur)
        on_path = {id(n) for n in chain}
        killer = None
        for b in got:
            node = b.node
            if b.kind not in ("assign", "annassign", "augassign") or not isinstance(node, ast.stmt) or (node.lineno, node.col_offset) >= pos:
                continue
            parent = parent_of(node)
            if parent is None or (id(parent) not in on_path and parent is not scope_node):
                continue
            step = next((c for c in chain if parent_of(c) is parent), None)  # use's ancestor under parent
            if step is None:
                continue
            if any(isinstance(lst, list) and any(x is node for x in lst) and any(x is step for x in lst) for lst in (getattr(parent, f, None) for f in ("body", "orelse", "finalbody"))):
                if killer is None or (node.lineno, node.col_offset) > (killer.lineno, killer.col_offset):
                    killer = node
        if killer is None:
            return got
        kpos = (killer.lineno, killer.col_offset)
        loops_with_killer = [c for c in chain if isinstance(c, (ast.For, ast.AsyncFor, ast.While)) and c.lineno < killer.lineno <= (c.end_lineno or c.lineno)]
        out = []
        for b in got:
            bpos = (getattr(b.node, "lineno", 0), getattr(b.node, "col_offset", 0))
            if b.kind == "param" or bpos < kpos:
                continue  # overwritten by the killer on every path
            if bpos > pos and any(lp.lineno <= bpos[0] <= (lp.end_lineno or lp.lineno) for lp in loops_with_killer):
                continue  # the next iteration runs the killer again before ``use``
            out.append(b)
        return out

    def plain_assignments(self, scope_node: ast.AST, name: str) -> Optional[list]:
        """The ``name = <expr>`` / ``name: T = <expr>`` statements of the scope, or None when ``name`` is
        bound any other way (including as one target of a tuple assignment)."""
        out = []
        for b in self.bindings(scope_node, name):
            if b.kind not in VALUE_KINDS or not b.whole or b.value is None:
                return None
            out.append(b.node)
        return out

    def qualname(self, scope_node: ast.AST, expr: ast.AST) -> Optional[str]:
        """``expr`` (a Name/Attribute chain) resolved through the imports visible in the scope: its own
        (function-local ``import torch.nn as nn``) first, then the module's (not another function's)."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        base = self.scope(scope_node).imports.get(expr.id) or self.scope(self.tree).imports.get(expr.id)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])


def _build(node: ast.AST) -> Scope:
    scope = Scope(node)
    add = _Adder(scope)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, *([a.vararg] if a.vararg else []), *([a.kwarg] if a.kwarg else [])]:
            add(p.arg, "param", p)
    body = node.body if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else [node.body]  # type: ignore[attr-defined]
    for st in body:
        _visit(st, add, scope)
    return scope


class _Adder:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def __call__(self, name: str, kind: str, node: ast.AST, value: Optional[ast.AST] = None, whole: bool = True) -> None:
        self.scope.bindings.setdefault(name, []).append(Binding(name, kind, node, value, whole))


def _targets(target: ast.AST, add, kind: str, node: ast.AST, value: Optional[ast.AST], whole: bool = True) -> None:
    if isinstance(target, ast.Name):
        add(target.id, kind, node, value, whole)
    elif isinstance(target, (ast.Tuple, ast.List)):
        elems = value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) else None
        for i, t in enumerate(target.elts):
            if elems is not None and not any(isinstance(e, ast.Starred) for e in target.elts):
                _targets(t, add, kind, node, elems[i], whole=False)
            else:
                _targets(t.value if isinstance(t, ast.Starred) else t, add, "unpack" if kind in VALUE_KINDS else kind, node, None, False)
    elif isinstance(target, ast.Starred):
        _targets(target.value, add, "unpack", node, None, False)
    # attributes and subscripts bind no name


def _visit(node: ast.AST, add, scope: Scope) -> None:
    """Record the bindings ``node`` makes in ``scope``; do not enter nested scopes."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        add(node.name, "def", node)
        for d in node.decorator_list:
            _visit_expr(d, add)
        return
    if isinstance(node, ast.ClassDef):
        add(node.name, "class", node)
        return
    if isinstance(node, ast.Assign):
        for t in node.targets:
            _targets(t, add, "assign", node, node.value)
        _visit_expr(node.value, add)
        return
    if isinstance(node, ast.AnnAssign):
        if node.value is not None:
            _targets(node.target, add, "annassign", node, node.value)
            _visit_expr(node.value, add)
        return
    if isinstance(node, ast.AugAssign):
        if isinstance(node.target, ast.Name):
            add(node.target.id, "augassign", node)
        _visit_expr(node.value, add)
        return
    if isinstance(node, (ast.For, ast.AsyncFor)):
        _targets(node.target, add, "for", node, None, False)
        _visit_expr(node.iter, add)
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            _visit_expr(item.context_expr, add)
            if item.optional_vars is not None:
                _targets(item.optional_vars, add, "with", node, None, False)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for a in node.names:
            if a.name == "*":
                continue
            local = a.asname or a.name.split(".")[0]
            add(local, "import", node)
            if isinstance(node, ast.Import):
                scope.imports[local] = a.name if a.asname else a.name.split(".")[0]
            elif node.module and node.level == 0:
                scope.imports[local] = f"{node.module}.{a.name}"
        return
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        for n in node.names:
            add(n, "global", node)
        return
    elif isinstance(node, ast.Delete):
        for t in node.targets:
            if isinstance(t, ast.Name):
                add(t.id, "del", node)
        return
    elif isinstance(node, ast.ExceptHandler):
        if node.name:
            add(node.name, "except", node)
    elif hasattr(ast, "MatchAs") and isinstance(node, ast.match_case):
        for sub in walk_nodes(node.pattern):
            nm = getattr(sub, "name", None)
            if isinstance(nm, str):
                add(nm, "match", node)
    elif isinstance(node, ast.expr):
        _visit_expr(node, add)
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.stmt, ast.ExceptHandler)) or type(child).__name__ == "match_case":
            _visit(child, add, scope)
        elif isinstance(child, ast.expr):
            _visit_expr(child, add)


def _visit_expr(expr: ast.AST, add) -> None:
    """Walrus targets bind in the enclosing function, also from inside a comprehension; lambdas and
    comprehension targets are scopes of their own."""
    stack = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
            add(n.target.id, "walrus", n, n.value)
        if isinstance(n, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(n))



def _parent_function(parents):
    """A node -> its parent function from ``FileFacts.parent`` (as is) or a dict from a node's id to its parent."""
    return parents if callable(parents) else (lambda node: parents.get(id(node)))
