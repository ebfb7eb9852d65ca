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
import os
import re
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from heapq import merge
from itertools import accumulate
from typing import Optional

_AST = ast.AST
_ATTR = "_gg_index"
_NO_KIDS: tuple = ()

# Every cache kept on a node refers back to that node (an index holds its root, a statement list starts with
# the statement it is cached on), so an analyzed tree is cyclic garbage that only the cyclic GC frees, at the
# cost of traversing every node. A caller that is done with its trees (the CLI, one file after another) keeps
# the list of nodes that got a cache and drops those caches (``caches_released``): the trees
# are then freed by reference counting as soon as the last reference goes.
_tracked: Optional[list] = None


@contextmanager
def caches_released():
    """Within: remember the nodes that get a cache; on leaving, drop those caches (the trees analyzed inside are
    then freed by reference counting). For a caller done with its trees when the block ends."""
    global _tracked
    outer = _tracked
    mine: list = [] if outer is None else outer
    _tracked = mine
    try:
        yield
    finally:
        if outer is None:
            _tracked = None
            for node in mine:
                forget_index(node)
            mine.clear()


def _cache(node: ast.AST, key: str, value) -> None:
    setattr(node, key, value)
    if _tracked is not None:
        _tracked.append(node)


def node_cache(node: ast.AST, key: str, compute):
    """What ``compute()`` gives for ``node``, computed once and kept on the node (``key`` starts with ``_gg``, so
    that ``forget_index`` drops it and ``caches_released`` releases it with the tree)."""
    got = node.__dict__.get(key, _MISSING)
    if got is _MISSING:
        got = compute()
        _cache(node, key, got)
    return got


_MISSING = object()


# Fields that never hold a node (identifiers, constants, flags): reading them finds nothing to walk. Skipping them
# keeps every walk's order (the other fields are read in ``_fields`` order).
_LEAF_FIELDS = frozenset(
    {
        ("Name", "id"), ("Attribute", "attr"), ("Constant", "value"), ("Constant", "kind"), ("arg", "arg"), ("arg", "type_comment"),
        ("keyword", "arg"), ("alias", "name"), ("alias", "asname"), ("FunctionDef", "name"), ("FunctionDef", "type_comment"),
        ("AsyncFunctionDef", "name"), ("AsyncFunctionDef", "type_comment"), ("ClassDef", "name"), ("ImportFrom", "module"),
        ("ImportFrom", "level"), ("Global", "names"), ("Nonlocal", "names"), ("ExceptHandler", "name"), ("AnnAssign", "simple"),
        ("comprehension", "is_async"), ("FormattedValue", "conversion"), ("Assign", "type_comment"), ("For", "type_comment"),
        ("AsyncFor", "type_comment"), ("With", "type_comment"), ("AsyncWith", "type_comment"), ("MatchAs", "name"),
        ("MatchStar", "name"), ("MatchMapping", "rest"), ("MatchClass", "kwd_attrs"), ("MatchSingleton", "value"),
    }
)
_node_fields: dict = {}


def node_fields(cls: type[ast.AST]) -> tuple:
    """The fields of ``cls`` (an AST class) that may hold a node or a list of nodes, in ``_fields`` order."""
    got = _node_fields.get(cls)
    if got is None:
        got = _node_fields[cls] = tuple(f for f in cls._fields if (cls.__name__, f) not in _LEAF_FIELDS)
    return got


# A complete walk of a node is kept on it (``walk_nodes``), valid while the trees are not changed: linking changes
# its trees before analysis and then calls ``forget_index``, which starts a new epoch (every walk kept before is
# then stale, whichever tree it is of).
_WALK_ATTR = "_gg_walk"
_epoch = 0


def walk_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk(node)``: the same nodes in the same (breadth-first) order, faster (children read from ``_fields``
    directly instead of through ``iter_child_nodes``' generators, and a walk that ran to its end is kept on ``node``:
    rules walk the same functions again and again)."""
    got = node.__dict__.get(_WALK_ATTR)
    if got is not None and got[0] == _epoch:
        return iter(got[1])
    return _walk(node)


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    epoch = _epoch
    out = [node]  # the queue, and when the walk ends, the walk
    append = out.append
    fields = _node_fields
    i = 0
    while i < len(out):
        n = out[i]
        i += 1
        cls = n.__class__
        names = fields.get(cls)
        if names is None:
            names = node_fields(cls)
        for name in names:
            v = getattr(n, name, None)
            if v.__class__ is list:
                for x in v:
                    if isinstance(x, _AST):
                        append(x)
            elif isinstance(v, _AST):
                append(v)
        yield n
    if epoch == _epoch:
        _cache(node, _WALK_ATTR, (epoch, out))


class TreeIndex:
    __slots__ = ("nodes", "kids", "by_type", "_parents")
    _parents: Optional[dict]

    def __init__(self, tree: ast.AST) -> None:
        nodes = [tree]
        kids: dict = {}
        by_type: dict = {}
        append = nodes.append
        fields = _node_fields
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
            names = fields.get(t)
            if names is None:
                names = node_fields(t)
            for name in names:
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
            yield from walk_nodes(node)
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
        _cache(tree, _ATTR, idx)
    return idx


def built_index(tree: ast.AST) -> Optional[TreeIndex]:
    """The index of ``tree`` if something built it already, else None (never builds it)."""
    return tree.__dict__.get(_ATTR)


def child_nodes(node: ast.AST) -> tuple:
    """``tuple(ast.iter_child_nodes(node))``, read from ``_fields`` directly (what ``TreeIndex`` keeps per node)."""
    ks = []
    for name in node_fields(node.__class__):
        v = getattr(node, name, None)
        if type(v) is list:
            for x in v:
                if isinstance(x, _AST):
                    ks.append(x)
        elif isinstance(v, _AST):
            ks.append(v)
    return tuple(ks) if ks else _NO_KIDS


# --- statements only ------------------------------------------------------------------------------
# Imports, classes and functions are statements, and statements only nest through these fields (an
# ExceptHandler / match_case sits between a Try / Match and its body). Walking just them is several
# times cheaper than indexing every expression node, and keeps ``ast.walk``'s relative order.
_STMT_FIELDS = frozenset(("body", "handlers", "orelse", "finalbody", "cases"))
_STMTS_ATTR = "_gg_statements"
_STMT_FIELDS_OF: dict = {}  # node class -> its fields in _STMT_FIELDS, in ``_fields`` order


def _stmt_fields(cls: type) -> tuple:
    got = _STMT_FIELDS_OF[cls] = tuple(name for name in getattr(cls, "_fields", ()) if name in _STMT_FIELDS)
    return got


def statements(tree: ast.AST) -> list:
    """Every statement of ``tree`` in ``ast.walk`` order (cached on the tree)."""
    out = tree.__dict__.get(_STMTS_ATTR)
    if out is not None:
        return out
    out = []
    todo = deque((tree,))
    pop = todo.popleft
    fields_of = _STMT_FIELDS_OF
    stmt = ast.stmt
    while todo:
        n = pop()
        if isinstance(n, stmt):
            out.append(n)
        names = fields_of.get(n.__class__)
        if names is None:
            names = _stmt_fields(n.__class__)
        for name in names:
            v = getattr(n, name, None)
            if v:
                todo.extend(v)
    _cache(tree, _STMTS_ATTR, out)
    return out


def new_epoch() -> None:
    """Every complete walk kept so far is stale (a tree is about to change)."""
    global _epoch
    _epoch += 1


def forget_index(tree: ast.AST) -> None:
    """Drop what is cached on ``tree`` (after the tree was changed): every ``_gg_*`` attribute, and every complete
    walk kept on any node (see ``walk_nodes``)."""
    global _epoch
    _epoch += 1
    for key in [k for k in tree.__dict__ if k.startswith("_gg")]:
        del tree.__dict__[key]


_BLOCKS_ATTR = "_gg_statement_nodes"


def statement_nodes(tree: ast.AST) -> list:
    """The tree, its statements, and the except clauses and match cases between them, in ``ast.walk``
    order (cached on the tree): every node that can own a statement list."""
    out = tree.__dict__.get(_BLOCKS_ATTR)
    if out is not None:
        return out
    out = []
    todo = deque((tree,))
    pop = todo.popleft
    fields_of = _STMT_FIELDS_OF
    while todo:
        n = pop()
        out.append(n)
        names = fields_of.get(n.__class__)
        if names is None:
            names = _stmt_fields(n.__class__)
        for name in names:
            v = getattr(n, name, None)
            if v:
                todo.extend(v)
    _cache(tree, _BLOCKS_ATTR, out)
    return out


def own_expressions(st: ast.stmt) -> list:
    """The expressions of a statement, without its nested statements (an except clause's type and a case's
    pattern and guard count as the statement's own)."""
    out: list = []
    for name, value in ast.iter_fields(st):
        for v in value if isinstance(value, list) else (value,):
            if not isinstance(v, ast.AST) or isinstance(v, ast.stmt):
                continue
            if name in _STMT_FIELDS:  # an ExceptHandler / match_case: its fields but its body
                out.extend(x for n2, x2 in ast.iter_fields(v) if n2 != "body" for x in (x2 if isinstance(x2, list) else (x2,)) if isinstance(x, ast.AST))
            else:
                out.append(v)
    return out


def statements_on_lines(tree: ast.AST, lines: list, from_decorators: bool = False) -> list:
    """``[st for st in statements(tree) if one of the sorted 1-based ``lines`` is within st's lines]`` (from its first
    decorator on, with ``from_decorators``). A statement's nested statements (and their decorators) lie within its
    lines, so the walk (breadth-first, as ``statements``) does not enter one whose lines hold none: for rare lines, a
    few statements are visited instead of all."""
    out = []
    n = len(lines)
    todo = deque((tree,))
    pop = todo.popleft
    fields_of = _STMT_FIELDS_OF
    stmt = ast.stmt
    while todo:
        node = pop()
        if isinstance(node, stmt):
            first = node.lineno
            if from_decorators:
                decorators = getattr(node, "decorator_list", None)
                if decorators:
                    first = min(first, *(d.lineno for d in decorators))
            i = bisect_left(lines, first)
            if i == n or lines[i] > (node.end_lineno or node.lineno):
                continue
            out.append(node)
        names = fields_of.get(node.__class__)
        if names is None:
            names = _stmt_fields(node.__class__)
        for name in names:
            v = getattr(node, name, None)
            if v:
                todo.extend(v)
    return out


_STMT_TYPES_ATTR = "_gg_statements_of_type"


def statements_of_type(tree: ast.AST, types) -> list:
    """``[n for n in ast.walk(tree) if isinstance(n, types)]`` for statement types, without indexing (a new list each
    call; the filtering is done once per tree and ``types``, cached beside ``statements``)."""
    cache = tree.__dict__.get(_STMT_TYPES_ATTR)
    if cache is None:
        cache = {}
        _cache(tree, _STMT_TYPES_ATTR, cache)
    got = cache.get(types)
    if got is None:
        got = cache[types] = [n for n in statements(tree) if isinstance(n, types)]
    return list(got)


# --- parents without indexing every expression ------------------------------------------------------
# Context and operator nodes (``ast.Load()``, ``ast.Add()``) are shared by every place that uses them: their
# "parent" is whichever place a whole-tree walk saw last, so they are left to the whole-tree index.
_SHARED = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_MATCH_CASE: tuple = (ast.match_case,) if hasattr(ast, "match_case") else ()  # (Python 3.10+)
_OWNERS = (ast.stmt, ast.excepthandler, *_MATCH_CASE)


class NearParents:
    """``index_of(tree).parents.get(id(node))`` for most nodes without indexing the whole tree: a statement's parent
    comes from the statement walk; an expression's from the statements whose span holds its position, innermost
    first, each indexed alone (only its own expressions, not its nested statements) when first asked. ``find``
    answers only what it found in those indexes, which is exact (each node has one parent); for anything else
    (a node without a position or outside every span, a shared context/operator node) the caller asks the
    whole-tree index."""

    __slots__ = ("tree", "_stmt_parent", "_known", "_done")

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        self._stmt_parent: Optional[dict] = None
        self._known: dict = {}  # id(node) -> parent, for the expressions of the statements indexed so far
        self._done: set = set()  # ids of the statements whose own expressions are in ``_known``

    def find(self, node: ast.AST) -> tuple:
        """``(True, parent)`` when found, ``(False, None)`` when the whole-tree index must answer."""
        if node is self.tree:
            return True, None
        if isinstance(node, _SHARED):
            return False, None
        if isinstance(node, _OWNERS):
            sp = self._stmt_parents()
            key = id(node)
            return (True, sp[key]) if key in sp else (False, None)
        key = id(node)
        known = self._known
        if key in known:
            return True, known[key]
        pos = (getattr(node, "lineno", None), getattr(node, "col_offset", None))
        if pos[0] is None or pos[1] is None:
            return False, None
        for owner in reversed(self._owners_at(pos)):
            if id(owner) not in self._done:
                self._index_owner(owner)
                if key in known:
                    return True, known[key]
        return False, None

    def _stmt_parents(self) -> dict:
        sp = self._stmt_parent
        if sp is None:
            sp = self._stmt_parent = {}
            for n in statement_nodes(self.tree):
                for name in n._fields:
                    if name in _STMT_FIELDS:
                        for k in getattr(n, name, None) or ():
                            sp[id(k)] = n
        return sp

    def _owners_at(self, pos: tuple) -> list:
        """The statements (and except clauses, match cases) whose span holds ``pos``, outermost first."""
        out: list = []
        level = getattr(self.tree, "body", None) or []
        while level:
            nxt = None
            for st in level:
                span = _span(st)
                if span is not None and span[0] <= pos <= span[1]:
                    nxt = st
                    break
            if nxt is None:
                break
            out.append(nxt)
            level = [k for name in nxt._fields if name in _STMT_FIELDS for k in (getattr(nxt, name, None) or ())]
        return out

    def _index_owner(self, owner: ast.AST) -> None:
        self._done.add(id(owner))
        known = self._known
        fields = _node_fields
        todo = [owner]
        while todo:
            n = todo.pop()
            cls = n.__class__
            names = fields.get(cls)
            if names is None:
                names = node_fields(cls)
            for name in names:
                if n is owner and name in _STMT_FIELDS:
                    continue  # nested statements (and an except clause's or a case's body) are indexed on their own
                v = getattr(n, name, None)
                if v.__class__ is list:
                    for x in v:
                        if isinstance(x, _AST):
                            known[id(x)] = n
                            todo.append(x)
                elif isinstance(v, _AST):
                    known[id(v)] = n
                    todo.append(v)


def _span(st: ast.AST) -> Optional[tuple]:
    """((line, col) of its first character, from a first decorator on; (line, col) of its end) of a statement, an
    except clause or a match case (from its pattern to its last statement); None when unknown."""
    first: Optional[ast.AST]
    last: Optional[ast.AST]
    if isinstance(st, _MATCH_CASE):
        first, last = st.pattern, (st.body[-1] if st.body else None)
    else:
        decos = getattr(st, "decorator_list", None)
        first, last = (decos[0] if decos else st), st
    span = tuple(getattr(n, f, None) for n, f in ((first, "lineno"), (first, "col_offset"), (last, "end_lineno"), (last, "end_col_offset")))
    if None in span:
        return None
    return span[:2], span[2:]


# --- source text of scopes ------------------------------------------------------------------------
_ESCAPE = re.compile(r"\\.")
_CHAR_CLASS = re.compile(r"\[\^?\]?[^\]]*\]")
_WORDS = re.compile(r"\\b\(\?:(\w+(?:\|\w+)*)\)\\b")
# \bname\s*\( or \b(?:n1|n2|...)\s*\( (a call of one of the names), or the same without \s*
_CALLS = re.compile(r"\\b(?:\(\?:(\w+(?:\|\w+)*)\)|(\w+))(\\s\*)?\\\(")


def _range_safe(pattern) -> bool:
    """Can ``pattern.search(text, start, end)`` stand for ``pattern.search(text[start:end])`` when ``start``
    is the start of a line? Not with anchors or lookbehinds (they see past ``start``; ``(?<=\\w)`` and
    ``(?<!\\w)`` see the line break there, as they see nothing at the start of a string, and are fine),
    nor with patterns that may match the empty string."""
    src = pattern.pattern
    if not isinstance(src, str) or pattern.flags & (re.MULTILINE | re.VERBOSE):
        return False
    if "\\A" in src or "\\Z" in src:
        return False
    bare = _CHAR_CLASS.sub("_", _ESCAPE.sub("_", src.replace("(?<=\\w)", "").replace("(?<!\\w)", "")))
    if "^" in bare or "$" in bare or "(?<" in bare:
        return False
    return pattern.match("") is None


def _word_hits(text: str, words: list) -> tuple:
    """The matches of ``\\b(?:w1|w2|...)\\b`` in ``text`` (every run of word characters that is one of
    ``words``), found with ``str.find``: much faster than the regex engine, which tries every position."""
    found = []
    find = text.find
    n = len(text)
    for w in set(words):
        k = len(w)
        i = find(w)
        while i != -1:
            j = i + k
            if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and (j == n or not (text[j].isalnum() or text[j] == "_")):
                found.append((i, j))
            i = find(w, i + 1)
    found.sort()
    return [a for a, _ in found], [b for _, b in found]


def word_starts(text: str, words) -> list:
    """Where ``\\b(?:w1|w2|...)\\b`` matches in ``text`` (sorted starts; see ``_word_hits``)."""
    return _word_hits(text, list(words))[0]


def _call_hits(text: str, names: list, spaces: bool = True) -> tuple:
    """The matches of ``\\b(?:n1|n2|...)\\s*\\(`` in ``text`` (a call of one of ``names``; ``spaces`` False: of
    ``\\b(?:n1|n2|...)\\(``), found with ``str.find``. Exact: a match is a whole run of word characters (it starts
    at a word boundary and a space or ``(`` follows it), so at most one name matches at a place and matches never
    overlap; ``\\w`` is ``isalnum()`` or ``_`` and ``\\s`` is ``isspace()`` for a ``str`` pattern, as here."""
    found = []
    find = text.find
    n = len(text)
    for w in set(names):
        k = len(w)
        i = find(w)
        while i != -1:
            if i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"):
                j = i + k
                while spaces and j < n and text[j].isspace():
                    j += 1
                if j < n and text[j] == "(":
                    found.append((i, j + 1))
            i = find(w, i + 1)
    found.sort()
    return [a for a, _ in found], [b for _, b in found]


def _word_anywhere(text: str, words: list) -> bool:
    """Is one of ``words`` anywhere in ``text`` as a whole word (``bool(_word_hits(text, words)[0])``, stopping
    at the first)?"""
    find = text.find
    n = len(text)
    for w in set(words):
        k = len(w)
        i = find(w)
        while i != -1:
            j = i + k
            if (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and (j == n or not (text[j].isalnum() or text[j] == "_")):
                return True
            i = find(w, i + 1)
    return False


def _top_level_branches(src: str) -> list:
    """``a|b|c`` -> ``["a", "b", "c"]`` (also for a pattern wrapped in one ``(?:...)``); ``[src]`` when the
    pattern is no alternation at its top level."""
    if src.startswith("(?:") and _wraps_all(src):
        src = src[3:-1]  # (?:a|b) -> a|b
    parts: list = []
    depth = 0
    start = 0
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(src, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(src[start:i])
            start = i + 1
        i += 1
    if not parts:
        return [src]
    parts.append(src[start:])
    return parts


def _class_end(src: str, i: int) -> int:
    """The index of the ``]`` closing the character class opened at ``src[i]`` (one right after ``[`` or
    ``[^`` is a literal)."""
    n = len(src)
    j = i + 1
    if j < n and src[j] == "^":
        j += 1
    if j < n and src[j] == "]":
        j += 1
    while j < n and src[j] != "]":
        j += 2 if src[j] == "\\" else 1
    return j


def _wraps_all(src: str) -> bool:
    """Does the group opened at ``src[0]`` close at the last character?"""
    depth = 0
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(src, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i == n - 1
        i += 1
    return False


_SPAN = re.Match.span
_NON_ASCII = r"[^\x00-\x7f]"


def _finditer_spans(pattern, text: str) -> tuple:
    anchor = _anchor(pattern)
    spans = list(map(_SPAN, pattern.finditer(text))) if anchor is None else _anchored_spans(pattern, anchor, text)
    return [a for a, _ in spans], [b for _, b in spans]


# A pattern whose every match starts with a literal string (``\bcheckpoint(?:_sequential)?\(``: after the zero-width
# ``\b``), or with one character of a class of literal characters right before a literal string (``[-+*/]=``). The
# regex engine looks for such a match at every position of the text (a leading ``\b`` or class defeats its literal
# prefix search); the literal is found with ``str.find`` instead and the pattern tried only there.
_LITERAL_ITEM = re.compile(r"[^.^$*+?{}\[\]\\|()]|\\[^\w\s]")  # a character that matches itself, or escaped punctuation
_ANCHORS: dict = {}  # (pattern, flags) -> (class characters or None, literal) or None


def _anchor(pattern) -> Optional[tuple]:
    """``(None, literal)``: every match of ``pattern`` starts with ``literal``; ``(chars, literal)``: every match is
    one character of ``chars`` followed by ``literal``; None: neither is known (see ``_anchored_spans``)."""
    key = (pattern.pattern, pattern.flags)
    if key in _ANCHORS:
        return _ANCHORS[key]
    got = None
    src = pattern.pattern
    if isinstance(src, str) and not pattern.flags & (re.IGNORECASE | re.VERBOSE) and len(_top_level_branches(src)) == 1:
        chars: Optional[frozenset] = None
        rest: Optional[str] = src
        if src.startswith("\\b"):
            rest = src[2:]  # (zero-width: the match starts with what follows)
        elif src.startswith("["):
            end = src.find("]", 2)
            inner = src[1:end] if end > 0 else ""
            # literal characters only: no negation, escape, nested class, or range (a ``-`` first or last is itself)
            if inner and not inner.startswith(("^", "]")) and "\\" not in inner and "[" not in inner and "-" not in inner[1:-1] and src[end + 1 : end + 2] not in ("?", "*", "+", "{"):
                chars = frozenset(inner)
                rest = src[end + 1 :]
            else:
                rest = None
        if rest is not None:
            items = []
            pos = 0
            while True:
                m = _LITERAL_ITEM.match(rest, pos)
                if m is None:
                    break
                items.append(m.group(0)[-1])
                pos = m.end()
            if items and rest[pos : pos + 1] in ("?", "*", "+", "{"):
                items.pop()  # the last one is quantified
            if items and rest is not src:  # (a pattern that starts with its literal: the engine finds that itself)
                got = (chars, "".join(items))
    if len(_ANCHORS) < 4096:
        _ANCHORS[key] = got
    return got


def _anchored_spans(pattern, anchor: tuple, text: str) -> list:
    """``[m.span() for m in pattern.finditer(text)]`` for a pattern with an ``_anchor``: the same matches (each tried
    where the literal is, at the same position ``finditer`` would try it: ``match`` with ``pos`` sees the text before
    ``pos``, as a search does)."""
    chars, lit = anchor
    spans: list = []
    find = text.find
    match = pattern.match
    cur = 0
    back = 0 if chars is None else 1
    i = find(lit, back)
    while i != -1:
        p = i - back
        if p >= cur and (chars is None or text[p] in chars):
            m = match(text, p)
            if m is not None:
                a, b = m.span()
                spans.append((a, b))
                cur = b if b > a else a + 1
                i = find(lit, max(cur + back, i + 1))
                continue
        i = find(lit, i + 1)
    return spans


_LITERAL_GROUP = re.compile(r"((?:[^\\.^$*+?{}\[\]|()]|\\[^\w\s])*)\(\?:(\w+(?:\|\w+)*)\)((?:[^\\.^$*+?{}\[\]|()]|\\[^\w\s])*)")
_UNESCAPE = re.compile(r"\\(.)")


def _literal_strings(src: str) -> Optional[list]:
    """The strings a regex ``prefix(?:w1|w2|...)suffix`` matches, its prefix and suffix literal characters (or
    escaped punctuation), e.g. ``(?:add|mul)_\\(`` -> ``["add_(", "mul_("]``; None for any other regex."""
    m = _LITERAL_GROUP.fullmatch(src)
    if m is None:
        return None
    pre, suf = _UNESCAPE.sub(r"\1", m.group(1)), _UNESCAPE.sub(r"\1", m.group(3))
    return [pre + w + suf for w in m.group(2).split("|")]


def _merged(spans: list) -> tuple:
    """Sorted, disjoint unions of possibly overlapping ``(start, end)`` spans."""
    spans.sort()
    starts: list = []
    ends: list = []
    for a, b in spans:
        if ends and a < ends[-1]:
            if b > ends[-1]:
                ends[-1] = b
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


_BRANCHES: dict = {}  # (pattern, flags) -> [(compiled branch, its literal strings or None)], or None: not split


def _branches(pattern) -> Optional[list]:
    """The top-level branches of ``pattern`` (a regex ``a|b|c``), each compiled with the literal strings it matches
    when it is a literal group (see ``_literal_strings``); None when the pattern is no alternation of range-safe
    branches without groups. Computed once per pattern."""
    key = (pattern.pattern, pattern.flags)
    if key in _BRANCHES:
        return _BRANCHES[key]
    branches = _top_level_branches(pattern.pattern)
    out: Optional[list] = []
    if len(branches) < 2:
        out = None
    else:
        for b in branches:
            try:
                c = re.compile(b, pattern.flags)
            except re.error:
                out = None
                break
            if c.groups or not _range_safe(c):
                out = None
                break
            out.append((c, None if c.flags & re.IGNORECASE else _literal_strings(c.pattern)))  # type: ignore[union-attr]
    if len(_BRANCHES) < 4096:
        _BRANCHES[key] = out
    return out


def _branch_spans(c, literals: Optional[list], text: str) -> list:
    """``(start, end)`` of every match of the branch ``c`` in ``text``: by the regex engine, or for a literal group
    (``(?:add|mul)_\\(``) every occurrence of each string, found with ``str.find`` (the regex engine tries the group at
    every position); occurrences that overlap are merged later like the branches' matches."""
    if literals is None:
        anchor = _anchor(c)
        return list(map(_SPAN, c.finditer(text))) if anchor is None else _anchored_spans(c, anchor, text)
    spans: list = []
    find = text.find
    suffix = _common_suffix(literals)
    if len(suffix) >= 2:
        # (``add_(``, ``mul_(``...: every occurrence of a literal ends with an occurrence of their common suffix ``_(``,
        # which is rare: find each of those once and check which literals end there. The same spans, each once; the
        # caller sorts them)
        ls = len(suffix)
        startswith = text.startswith
        i = find(suffix)
        while i != -1:
            end = i + ls
            for lit in literals:
                st = end - len(lit)
                if st >= 0 and startswith(lit, st):
                    spans.append((st, end))
            i = find(suffix, i + 1)
        return spans
    for lit in literals:
        k = len(lit)
        i = find(lit)
        while i != -1:
            spans.append((i, i + k))
            i = find(lit, i + 1)
    return spans


_SUFFIXES: dict = {}  # tuple of literals -> their longest common suffix


def _common_suffix(literals: list) -> str:
    key = tuple(literals)
    got = _SUFFIXES.get(key)
    if got is None:
        got = os.path.commonprefix([w[::-1] for w in literals])[::-1] if literals else ""
        if len(_SUFFIXES) < 4096:
            _SUFFIXES[key] = got
    return got


class TextIndex:
    """Regex questions about the source of a scope (a function, or the module), as if asked of the scope's
    own lines (``"".join(lines[node.lineno - 1 : node.end_lineno])``): each pattern is searched once over
    the whole text, and a scope is searched again only when a match straddles its first or last line."""

    __slots__ = ("text", "starts", "_hits")

    def __init__(self, text: str, lines: list) -> None:
        starts = list(accumulate(map(len, lines), initial=0))
        total = starts[-1]
        self.text = text if len(text) == total else "".join(lines)
        self.starts = starts
        self._hits: dict = {}

    def span(self, node: ast.AST) -> tuple:
        """Character offsets ``(start, end)`` of the lines of ``node`` (the whole text for a Module)."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return 0, len(self.text)
        starts = self.starts
        n = len(starts) - 1
        # lo = min(max(lineno - 1, 0), n); hi = min(max(end_lineno or lineno, lo), n) (asked ~100,000 times a file)
        lo = lineno - 1
        if lo < 0:
            lo = 0
        elif lo > n:
            lo = n
        hi = getattr(node, "end_lineno", None) or lineno
        if hi < lo:
            hi = lo
        elif hi > n:
            hi = n
        return starts[lo], starts[hi]

    def body(self, node: ast.AST) -> str:
        s, e = self.span(node)
        return self.text[s:e]

    def hits(self, pattern) -> Optional[tuple]:
        """``(starts, ends)`` of every match of ``pattern`` in the text (None: not range-safe)."""
        key = (pattern.pattern, pattern.flags)
        got = self._hits.get(key, False)
        if got is False:
            words = _WORDS.fullmatch(pattern.pattern) if isinstance(pattern.pattern, str) and not pattern.flags & (re.IGNORECASE | re.ASCII) else None
            calls = _CALLS.fullmatch(pattern.pattern) if words is None and isinstance(pattern.pattern, str) and pattern.flags == re.UNICODE else None
            if words is not None:
                got = _word_hits(self.text, words.group(1).split("|"))
            elif calls is not None:
                got = _call_hits(self.text, (calls.group(1) or calls.group(2)).split("|"), calls.group(3) is not None)
            elif _range_safe(pattern):
                got = self._alternation_hits(pattern) or _finditer_spans(pattern, self.text)
            else:
                got = None
            self._hits[key] = got
        return got

    def _alternation_hits(self, pattern) -> Optional[tuple]:
        """For ``a|b|c``: the union of each branch's matches, merged into disjoint spans. The regex engine
        tries every branch at every position of the text; one branch alone is usually found much faster
        (a literal first character is searched for directly). Every match of the pattern starts inside
        one of these spans, and each span holds a whole match of some branch, so ``search`` stays exact.
        A branch several patterns share (``\\.[a-z]\\w*[a-z0-9]_\\(`` of the in-place tests) is searched once per text."""
        compiled = _branches(pattern)
        if compiled is None:
            return None
        spans: list = []
        text = self.text
        ascii_text = text.isascii()
        hits = self._hits
        for c, literals in compiled:
            if ascii_text and c.pattern == _NON_ASCII and not c.flags & re.IGNORECASE:
                continue  # (matches a non-ASCII character only)
            key = ("branch", c.pattern, c.flags)
            got = hits.get(key)
            if got is None:
                got = hits[key] = _branch_spans(c, literals, text)
            spans.extend(got)
        return _merged(spans)

    def anywhere(self, pattern, then_search: bool = False) -> bool:
        """``pattern.search(text) is not None``. (``then_search``: scopes will be searched next, which needs every
        match: find them all now.)"""
        key = (pattern.pattern, pattern.flags)
        if not then_search and key not in self._hits:  # a word list not searched yet: stop at its first occurrence
            words = _WORDS.fullmatch(pattern.pattern) if isinstance(pattern.pattern, str) and not pattern.flags & (re.IGNORECASE | re.ASCII) else None
            if words is not None:
                return _word_anywhere(self.text, words.group(1).split("|"))
        h = self.hits(pattern)
        if h is None:
            return pattern.search(self.text) is not None
        return bool(h[0])

    def searcher(self, pattern):
        """``lambda node: self.search(pattern, node)``, with the matches of ``pattern`` looked up once and ``span``
        inlined (for a loop over many scopes: the same answers, since ``hits`` is cached per pattern)."""
        h = self.hits(pattern)
        if h is None:
            return lambda node: self.search(pattern, node)
        starts, ends = h
        text = self.text
        line_starts = self.starts
        n = len(line_starts) - 1
        total = len(text)
        psearch = pattern.search

        def test(node: ast.AST) -> bool:
            lineno = getattr(node, "lineno", None)
            if lineno is None:
                s, e = 0, total
            else:
                lo = lineno - 1
                if lo < 0:
                    lo = 0
                elif lo > n:
                    lo = n
                hi = getattr(node, "end_lineno", None) or lineno
                if hi < lo:
                    hi = lo
                elif hi > n:
                    hi = n
                s, e = line_starts[lo], line_starts[hi]
            i = bisect_right(ends, s)
            if i == len(ends) or starts[i] >= e:
                return False
            if starts[i] >= s and ends[i] < e:
                return True
            return psearch(text, s, e) is not None

        return test

    def search(self, pattern, node: ast.AST) -> bool:
        """``pattern.search(<the source of node>) is not None``."""
        s, e = self.span(node)
        h = self.hits(pattern)
        if h is None:
            return pattern.search(self.text[s:e]) is not None
        starts, ends = h
        i = bisect_right(ends, s)  # the first match that ends inside or after the scope
        if i == len(ends) or starts[i] >= e:
            return False  # every match of the scope's own text would overlap a match of the whole text
        if starts[i] >= s and ends[i] < e:
            return True  # a match inside the scope, with the character after it inside too
        return pattern.search(self.text, s, e) is not None
