"""FileFacts: everything the rules may ask about one file, computed once per analysis (lazily)."""
from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Iterable
from functools import cached_property
from typing import Optional

from gradguard.core.astindex import (
    NearParents,
    TextIndex,
    built_index,
    child_nodes,
    index_of,
    own_expressions,
    statements_of_type,
    statements_on_lines,
    walk_nodes,
)
from gradguard.core.flow import FunctionFlow, GradientFlow, OptimizerSite
from gradguard.core.hooks import Hooks
from gradguard.core.imports import Imports
from gradguard.core.modules import ModuleModel
from gradguard.core.semantic import SemanticModel
from gradguard.core.source import Pos, SourceText
from gradguard.core.torchapi import LOSS_SINK_WORDS, OPTIMIZER_HINTS, is_optimizer_ctor

BACKWARD_SYNTAX = re.compile("|".join(LOSS_SINK_WORDS[:2]))  # explicit backward sites
# in-place syntax: augmented assignment, item assignment, or a `.op_(` method call
INPLACE_SYNTAX = re.compile(r"(?:\.[a-z]\w*[a-z0-9]_\(|[-+*/@%&|^]=|\]\s*=[^=])")


class FileFacts:
    def __init__(self, source: SourceText, tree: ast.Module) -> None:
        self.source = source
        self.tree = tree
        self._own_nodes: dict = {}  # id(scope) -> its nodes, in the order own_nodes yields them
        self._name_stores: dict = {}  # id(scope) -> name_stores(scope)
        self.own_lines: Optional[int] = None  # linked with the workspace: the file's own lines (definitions copied after)

    @property
    def own_text(self) -> str:
        """The file's own text (without the definitions the workspace linker appended)."""
        if self.own_lines is None:
            return self.source.text
        return "".join(self.source.lines[: self.own_lines])

    @cached_property
    def imports(self) -> Imports:
        return Imports(self.tree)

    @cached_property
    def semantic(self) -> SemanticModel:
        """Scopes and bindings: what a name holds where (built per scope on first query)."""
        return SemanticModel(self.tree, self.imports)

    @cached_property
    def modules(self) -> ModuleModel:
        return ModuleModel(self.tree, self.imports, self.source.lines)

    @cached_property
    def flow(self) -> GradientFlow:
        g = GradientFlow(self.tree, self.imports, self.modules, self.source.lines)
        g.text_index = self.text_index
        g.hooks = self.hooks
        g.own_text = self.own_text if self.own_lines is not None else None
        return g

    @cached_property
    def hooks(self) -> Hooks:
        """Module hooks: the layers each ``register_*_hook`` call hooks, and the in-place writes around a layer."""
        return Hooks(self)

    @cached_property
    def text_index(self) -> TextIndex:
        """Regex questions about a scope's source, each pattern searched once over the file."""
        return TextIndex(self.source.text, self.source.lines)

    @cached_property
    def scopes(self) -> list:
        """The module and every function of the file (``ast.walk`` order)."""
        return [self.tree, *self.walk((ast.FunctionDef, ast.AsyncFunctionDef))]

    def statements_with_words(self, words) -> list:
        """The statements (in ``ast.walk`` order) whose lines hold one of ``words`` as a whole word (a run of
        word characters), or None when that cannot be told from the text."""
        ws = sorted(set(words))
        if not ws or not all(re.fullmatch(r"\w+", w) for w in ws):
            return None  # type: ignore[return-value]
        return self.statements_matching(re.compile(r"\b(?:" + "|".join(ws) + r")\b"))

    def statements_matching(self, pattern) -> list:
        """The statements (in ``ast.walk`` order) whose lines hold the start of a match of ``pattern`` (a regex that
        never matches across a line break), or None when that cannot be told from the text."""
        ti = self.text_index
        hits = ti.hits(pattern)
        if hits is None:
            return None  # type: ignore[return-value]
        if not hits[0]:
            return []
        starts = ti.starts
        lines = sorted({bisect_left(starts, h + 1) for h in hits[0]})  # the 1-based line of each occurrence
        return statements_on_lines(self.tree, lines)

    def nodes_near(self, types, words) -> list:
        """The nodes of ``types`` (expressions) that sit in a statement whose lines hold one of ``words``:
        ``[n for n in facts.walk(types) if <its statement's lines hold a word>]``, without indexing every
        expression of the file when the words are rare. Not in ``ast.walk`` order."""
        sts = self.statements_with_words(words)
        if sts is None:
            return list(self.walk(types))
        return [n for st in sts for top in own_expressions(st) for n in walk_nodes(top) if isinstance(n, types)]

    @cached_property
    def decorator_calls(self) -> list:
        """Every call inside a decorator of the file. A decorator sits above its statement's first line, so the
        searches that walk only the statements whose lines hold a word (``nodes_near``) can miss these."""
        defs = statements_of_type(self.tree, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        return [n for st in defs for d in st.decorator_list for n in walk_nodes(d) if isinstance(n, ast.Call)]

    @cached_property
    def optimizer_constructions(self) -> list:
        """The calls whose callee resolves through the imports to an optimizer constructor (``torch.optim.Adam(...)``,
        ``optim.SGD(...)``, ``FusedLAMB(...)``): the only places the flow engine makes an optimizer from a constructor.
        Not in ``ast.walk`` order. Only the statements whose lines can spell such a callee are walked: ``optim`` or an
        optimizer hint inside an identifier (``torch.optim.X``, ``FusedAdam``), or a name an import binds to
        ``torch.optim...`` or to an optimizer class (``from apex.optimizers import FusedLAMB as L``; for an import
        the linker rebound under a dotted program name, the name the copied text spells, its last part)."""
        qualname = self.imports.qualname
        words = sorted({k.rsplit(".", 1)[-1] for k, q in self.imports.aliases.items() if q.startswith("torch.optim") or is_optimizer_ctor(q)})
        branches = [re.escape(h) for h in ("optim", *OPTIMIZER_HINTS)]
        if words:
            branches.append(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b")
        branches.append(r"[^\x00-\x7f]")  # (Python reads identifiers NFKC-normalized: a non-ASCII one may spell any name)
        sts = self.statements_matching(re.compile("|".join(branches)))
        if sts is None:
            return [n for n in self.walk(ast.Call) if is_optimizer_ctor(qualname(n.func) or "")]
        return [n for st in sts for top in own_expressions(st) for n in walk_nodes(top) if isinstance(n, ast.Call) and is_optimizer_ctor(qualname(n.func) or "")]

    def stores_attribute(self, attr: str) -> bool:
        """Is ``<anything>.<attr>`` an assignment target anywhere in the file (an ``ast.Attribute`` with a
        ``Store`` context: ``x.attr = ...``, ``for x.attr in ...``, a comprehension's target...)? Only the
        statements whose lines hold the word ``attr`` are walked, and not their nested statements."""
        cache = self.__dict__.setdefault("_stored_attrs", {})
        got = cache.get(attr)
        if got is None:
            got = any(n.attr == attr and isinstance(n.ctx, ast.Store) for n in self.nodes_near(ast.Attribute, (attr,)))
            cache[attr] = got
        return got

    @cached_property
    def flows(self) -> list[FunctionFlow]:
        return self.flow.all_flows()

    @cached_property
    def parents(self) -> dict[int, ast.AST]:
        return index_of(self.tree).parents

    @cached_property
    def _near_parents(self) -> NearParents:
        return NearParents(self.tree)

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        """``parents.get(id(node))``. Until something indexes every expression of the file, found from the statement
        that holds the node (``NearParents``: the same answer), and from the whole-tree index only when that cannot."""
        if built_index(self.tree) is None:
            found, got = self._near_parents.find(node)
            if found:
                return got
        return self.parents.get(id(node))

    def enclosing(self, node: ast.AST, types) -> Optional[ast.AST]:
        cur = self.parent(node)
        while cur is not None and not isinstance(cur, types):
            cur = self.parent(cur)
        return cur

    def statement_of(self, node: ast.AST) -> Optional[ast.stmt]:
        cur: Optional[ast.AST] = node
        while cur is not None and not isinstance(cur, ast.stmt):
            cur = self.parent(cur)
        return cur if isinstance(cur, ast.stmt) else None

    def start(self, node: ast.AST) -> Pos:
        return self.source.node_start(node)

    def end(self, node: ast.AST) -> Pos:
        return self.source.node_end(node)

    def method_start(self, node: ast.AST) -> Pos:
        """Where ``.detach()`` starts in ``x.detach()`` (the dot), past parentheses ast leaves out."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            value, attr = node.func.value, node.func.attr
        elif isinstance(node, ast.Attribute):
            value, attr = node.value, node.attr
        else:
            return self.start(node)
        after = self.end(value)
        seg = self.source.segment(after, self.end(node))
        i = seg.find(".")
        while i != -1 and not seg[i + 1 :].lstrip().startswith(attr):
            i = seg.find(".", i + 1)
        return self.source.pos_at(self.source.offset(after) + i) if i != -1 else self.start(node)

    def text(self, node: ast.AST) -> str:
        return self.source.node_text(node)

    @cached_property
    def backward_flows(self) -> list:
        """Flows of the scopes that can hold a backward site (``.backward(``, ``autograd.grad``, a method a
        framework backpropagates the result of): the rules about losses start there; helpers they call are
        summarized on demand. A training function that receives its model or optimizer as arguments is also
        analyzed with the values each caller in this file passes (its *context* flows)."""
        flows = [fl for fl in self.flows_matching(BACKWARD_SYNTAX)]
        lines = self.source.lines
        for info in self.modules.classes.values():
            if info.framework:
                for name in ("training_step", "compute_loss", "forward"):
                    m = info.methods.get(name)
                    # a model's forward is a loss sink only when it computes a loss
                    if m is not None and (name != "forward" or "loss" in "".join(lines[m.lineno - 1 : m.end_lineno])):
                        flows.append(self.flow.flow(m))
        seen = {id(fl.node) for fl in flows}
        todo: list = [fl.node for fl in flows if fl.loss_sites and fl.args and not isinstance(fl.node, ast.Module)]
        for _ in range(3):  # callers, their callers, and theirs
            nxt = []
            for fn in todo:
                assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                owner = self.flow.owner.get(id(fn))
                # a framework calls compute_loss (and a Hugging Face Trainer its training_step): the scopes that build the
                # trainer pass its model
                trainer = owner is not None and (fn.name == "compute_loss" or (fn.name == "training_step" and self.modules.classes[owner].framework == "hf_trainer"))
                callee = owner if (trainer and owner) else fn.name
                call = re.compile(r"\b" + re.escape(callee) + r"\s*\(")
                for scope in self.scopes_matching(call):
                    if id(scope) in seen or scope is fn:
                        continue
                    seen.add(id(scope))
                    fl = self.flow.flow(scope)
                    if fl.args and not isinstance(scope, ast.Module):
                        nxt.append(scope)
            todo = nxt
        flows.extend(c for c in self.flow.context_flows if c.loss_sites)
        return flows

    def scopes_matching(self, *patterns) -> Iterable[ast.AST]:
        """The module and the functions whose source text matches every regex in ``patterns``."""
        ti = self.text_index
        if not all(ti.anywhere(p, then_search=True) for p in patterns):
            return
        if len(patterns) == 1:  # (most callers: one pattern, its matches looked up once for every scope)
            test = ti.searcher(patterns[0])
            fns = (ast.FunctionDef, ast.AsyncFunctionDef)
            for scope in self.scopes:
                if isinstance(scope, fns) and not test(scope):
                    continue
                yield scope
            return
        search = ti.search
        for scope in self.scopes:
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and not all(search(p, scope) for p in patterns):
                continue
            yield scope

    def flows_matching(self, *patterns) -> Iterable[FunctionFlow]:
        """Flows of the scopes whose text matches every regex in ``patterns``: rules about rare
        constructs skip the flow engine for the functions that cannot contain them."""
        for scope in self.scopes_matching(*patterns):
            yield self.flow.flow(scope)

    def own_nodes(self, scope: ast.AST) -> Iterable[ast.AST]:
        """Nodes of ``scope`` (a function or the module) without descending into nested functions,
        classes or lambdas: what runs when ``scope`` runs. The children come from the file's expression index
        when something built it, else straight from each node: indexing every expression of a large program
        costs more than walking the few scopes asked about."""
        done = self._own_nodes.get(id(scope))
        if done is not None:  # rules ask about the same scopes (GG801 twice per flow): a complete walk is kept
            return iter(done)
        return self._walk_own_nodes(scope)

    def _walk_own_nodes(self, scope: ast.AST) -> Iterable[ast.AST]:
        idx = built_index(self.tree)
        if idx is not None:
            kids = idx.kids

            def children(node: ast.AST):
                got = kids.get(id(node))
                return got if got is not None else child_nodes(node)
        else:
            children = child_nodes
        out: list = []  # kept only when the caller walks to the end (one that stops early pays only for what it read)
        append = out.append
        stack = list(children(scope))
        while stack:
            n = stack.pop()
            append(n)
            yield n
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            stack.extend(children(n))
        self._own_nodes[id(scope)] = out

    def name_stores(self, scope: ast.AST) -> list:
        """The ``ast.Name`` nodes that bind a name (``Store`` context) among ``own_nodes(scope)``, in that order (cached:
        several rules read a scope's bindings; the list is shared, do not change it)."""
        got = self._name_stores.get(id(scope))
        if got is None:
            name, store = ast.Name, ast.Store
            got = self._name_stores[id(scope)] = [n for n in self.own_nodes(scope) if isinstance(n, name) and isinstance(n.ctx, store)]
        return got

    def return_values(self, fn: ast.AST) -> Optional[list]:
        """The expressions ``fn`` returns (not those of nested functions); None when it never returns a value or
        has a bare ``return`` (callers ask "does every return of this helper give X")."""
        rets = [n for n in self.own_nodes(fn) if isinstance(n, ast.Return)]
        if not rets or any(r.value is None for r in rets):
            return None
        return [r.value for r in rets]

    def optimizers_for(self, fl: FunctionFlow) -> list:
        """Optimizers visible from ``fl``: its own, its class's methods', and the module level's."""
        out = list(fl.optimizers)
        out.extend(OptimizerSite(fl.context or fl.node, v.params) for v in fl.bound_optimizers)  # type: ignore[arg-type]
        if fl.owner:
            info = self.modules.classes.get(fl.owner)
            if info:
                for m in info.methods.values():
                    if m is not fl.node:
                        out.extend(self.flow.flow(m).optimizers)
        return out

    def walk(self, types) -> Iterable[ast.AST]:
        tt = types if isinstance(types, tuple) else (types,)
        if all(issubclass(t, ast.stmt) for t in tt):
            return iter(statements_of_type(self.tree, tt))  # no need to index every expression
        return iter(index_of(self.tree).of_type(types))

    def walk_from(self, node: ast.AST) -> Iterable[ast.AST]:
        """``walk_nodes(node)`` (same order) for a node of this file, from the shared index."""
        return index_of(self.tree).walk(node)

    def children(self, node: ast.AST) -> list:
        """``list(ast.iter_child_nodes(node))`` for a node of this file, from the shared index."""
        kids = index_of(self.tree).kids.get(id(node))
        return kids if kids is not None else list(ast.iter_child_nodes(node))
