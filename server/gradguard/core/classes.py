"""Facts about the classes of a file: what an ``nn.Module`` class may register (``self.<attr>`` stores,
plain tensors, parameters) and which ``torch.autograd.Function`` classes are fully visible and how they are
applied. Shared by the rules; pure functions of ``FileFacts`` and ``ClassInfo``."""
from __future__ import annotations

import ast
import operator
import re
from bisect import bisect_left
from typing import Optional, Union

from gradguard.core.astindex import index_of, own_expressions, statements_of_type, statements_on_lines, walk_nodes
from gradguard.core.torchapi import (
    FACTORIES,
    FRAMEWORK_OBJECTS,
    FUNCTION_BASES,
    MODULE_BASE,
    MODULE_SELF_METHODS,
    PARAMETER_CTORS,
    PARAMLESS_SUFFIXES,
    RANDOM_FACTORIES,
    is_module_ctor,
    is_optimizer_ctor,
    is_parameterless_ctor,
    is_scheduler_ctor,
)

# tensor methods that keep "this is a freshly created tensor" (chained after a factory)
_CHAIN_OK = {"to", "float", "double", "half", "cuda", "cpu", "requires_grad_", "uniform_", "normal_", "zero_", "fill_", "t", "view", "reshape", "unsqueeze", "squeeze", "clone", "contiguous", "type"}
_SCALAR_CALLS = {"int", "float", "bool", "str", "len", "max", "min", "round", "abs", "tuple", "list", "dict", "set"}


_FRAMEWORK_OBJECT_WORD = re.compile(r"\b(?:" + "|".join(sorted({q.rsplit(".", 1)[-1] for q in FRAMEWORK_OBJECTS})) + r")\b")


# -- nn.Module classes ------------------------------------------------------------------------------
def self_name(method: ast.AST) -> Optional[str]:
    args = getattr(method, "args", None)
    if args is None:
        return None
    params = [*args.posonlyargs, *args.args]
    return params[0].arg if params else None


def self_attr(node: ast.AST, selfname: Optional[str]) -> Optional[str]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == selfname:
        return node.attr
    return None


def _config_entry(fn: ast.AST, sub: ast.Subscript) -> Optional[ast.Constant]:
    """``cfg["discretize"]`` in ``fn``, where ``fn`` binds ``cfg`` once, at its top level, to a dict literal and never
    changes it (no other store, no item assignment, no method call on it, not passed on): the literal's constant entry
    for that key. None otherwise."""
    if not (isinstance(sub.value, ast.Name) and isinstance(sub.slice, ast.Constant)):
        return None
    name, key = sub.value.id, sub.slice.value
    binds = [st for st in fn.body if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets)]  # type: ignore[attr-defined]
    if len(binds) != 1 or len(binds[0].targets) != 1 or not isinstance(binds[0].value, ast.Dict):
        return None
    nodes = list(walk_nodes(fn))
    read_by_key = {id(n.value) for n in nodes if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and isinstance(n.slice, ast.Constant)}
    for n in nodes:  # (never rebound, only ever read as ``cfg[<constant>]``)
        if isinstance(n, ast.Name) and n.id == name and n is not binds[0].targets[0]:
            if not isinstance(n.ctx, ast.Load) or id(n) not in read_by_key:
                return None
    d = binds[0].value
    for k, v in zip(d.keys, d.values):
        if isinstance(k, ast.Constant) and k.value == key:
            return v if isinstance(v, ast.Constant) else None
    return None


def tensor_ctor(facts, expr: ast.AST) -> Optional[dict]:
    """``torch.randn(..) * 0.1``, ``torch.tensor(1.0, requires_grad=True)``, ``torch.zeros(d).to(dev)``:
    a plain (non-Parameter) tensor created right here. Returns {requires_grad, random, call} or None."""
    rg = False
    node = expr
    while True:
        if isinstance(node, ast.BinOp):
            left, right = tensor_ctor(facts, node.left), tensor_ctor(facts, node.right)
            other = node.right if left else node.left
            found = left or right
            if found is None or (left and right):
                return None
            if not isinstance(other, (ast.Constant, ast.Name, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Call)):
                return None
            if isinstance(other, ast.Call) and (facts.imports.qualname(other.func) or "").rsplit(".", 1)[-1] not in ("sqrt", "log", "exp"):
                return None
            return {**found, "requires_grad": found["requires_grad"] or rg}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and facts.imports.qualname(node.func) is None:
            if node.func.attr not in _CHAIN_OK:
                return None
            if node.func.attr == "requires_grad_":
                if not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False):
                    rg = True
            node = node.func.value
            continue
        break
    if not isinstance(node, ast.Call):
        return None
    q = facts.imports.qualname(node.func) or ""
    if q.startswith("torch.nn.init.") and q.endswith("_") and node.args:
        # ``nn.init.xavier_uniform_(torch.empty(i, o))`` fills its argument in place and returns it
        inner = tensor_ctor(facts, node.args[0])
        return {**inner, "requires_grad": inner["requires_grad"] or rg} if inner else None
    if not q.startswith("torch."):
        return None
    short = q.rsplit(".", 1)[-1]
    if q.count(".") != 1 or (short not in FACTORIES and short not in ("Tensor", "FloatTensor")):
        return None
    for kw in node.keywords:
        if kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
            rg = True
    return {"requires_grad": rg, "random": short in RANDOM_FACTORIES or short in ("Tensor", "FloatTensor"), "call": node}


def _plain_value(facts, value: ast.AST, init_args: dict) -> bool:
    """A value that certainly registers no parameter when assigned to ``self.x``."""
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        return all(_plain_value(facts, e, init_args) for e in value.elts)
    if isinstance(value, ast.Dict):
        return all(v is not None and _plain_value(facts, v, init_args) for v in value.values)
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare)):
        return True  # arithmetic never yields a Module
    if isinstance(value, ast.Name):
        return init_args.get(value.id, False)
    if isinstance(value, ast.Call):
        if tensor_ctor(facts, value):
            return True
        if isinstance(value.func, ast.Name) and value.func.id in _SCALAR_CALLS:
            return True
        q = facts.imports.qualname(value.func) or ""
        return q.startswith("math.")
    if isinstance(value, ast.IfExp):
        return _plain_value(facts, value.body, init_args) and _plain_value(facts, value.orelse, init_args)
    return False


def scalar_args(method: Union[ast.FunctionDef, ast.AsyncFunctionDef]) -> dict:
    """__init__ arguments that are certainly not modules: constant defaults or scalar annotations."""
    out: dict = {}
    a = method.args
    pos = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    pairs = list(zip(pos, defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
    for p, d in pairs:
        ann = p.annotation
        scalar_ann = isinstance(ann, ast.Name) and ann.id in ("int", "float", "bool", "str")
        const_default = isinstance(d, ast.Constant) and d.value is not None
        out[p.arg] = bool(scalar_ann or const_default)
    return out


def may_have_parameters(facts, info) -> bool:
    """Conservatively: could this Module class register any parameter (itself or via submodules)?"""
    if any(b not in MODULE_BASE for b in info.base_names):
        return True
    for m in info.methods.values():
        sn = self_name(m)
        init_args = scalar_args(m) if m.name == "__init__" else {}
        for node in walk_nodes(m):
            if isinstance(node, ast.Call):
                q = facts.imports.qualname(node.func) or ""
                fname = node.func.attr if isinstance(node.func, ast.Attribute) else (node.func.id if isinstance(node.func, ast.Name) else "")
                if fname in ("register_parameter", "add_module", "register_module", "setattr", "load_state_dict", "apply") or q.endswith(("Parameter", "ParameterList", "ParameterDict")):
                    return True
                if is_module_ctor(q) and not is_parameterless_ctor(q):
                    return True  # (``nn.AvgPool1d(k)``, ``nn.ReLU()``: layers that register no parameter)
            targets = []
            if isinstance(node, ast.Assign):
                targets = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [(node.target, node.value)]
            for t, v in targets:
                if isinstance(t, (ast.Tuple, ast.List)):
                    if any(self_attr(e, sn) for e in t.elts):
                        return True
                    continue
                if self_attr(t, sn) and not _plain_value(facts, v, init_args) and not (isinstance(v, ast.Call) and is_parameterless_ctor(facts.imports.qualname(v.func) or "")):
                    return True
    return False


# -- autograd.Function classes ----------------------------------------------------------------------


def _self_calls(fn: ast.AST) -> list:
    return [c for c in walk_nodes(fn) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and c.func.value.id == "self"]


_SELF_CALL = re.compile(r"self(?<!\wself)\.(\w+)\s*\(")
_SELF_STORE_OF_CALL = re.compile(r"self(?<!\wself)(?:\.\w+)+\s*=\s*[\w.]+\(")


def run_by_forward(info, text=None) -> list:
    """``forward`` and the methods of the class it calls on ``self`` (``self.time_embedding(t)``), and theirs, a few
    calls deep: their code runs on every forward pass that reaches the call. (``text``: the file's text index, to
    read the calls from the source instead of walking the methods.)"""
    fwd = info.methods.get("forward")
    out = [fwd] if fwd is not None else []
    todo = list(out)
    for _ in range(3):
        nxt = []
        for fn in todo:
            names = set(_SELF_CALL.findall(text.body(fn))) if text is not None else {c.func.attr for c in _self_calls(fn)}
            for name in sorted(names):
                m = info.methods.get(name)
                if m is not None and m not in out and not any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod", "property") for d in m.decorator_list):
                    out.append(m)
                    nxt.append(m)
        todo = nxt
    return out


def forward_calls_of(info, name: str) -> list:
    """The calls ``self.<name>(...)`` in the methods ``forward`` runs."""
    return [c for m in run_by_forward(info) for c in _self_calls(m) if c.func.attr == name]




def self_path(t: ast.AST) -> str:
    """``self.linear.weight`` -> ``linear.weight``; "" when the target is not an attribute chain on ``self``."""
    parts = []
    while isinstance(t, ast.Attribute):
        parts.append(t.attr)
        t = t.value
    return ".".join(reversed(parts)) if isinstance(t, ast.Name) and t.id == "self" and parts else ""


def layers_made_by_forward(facts) -> list:
    """(class info, assignment, target) for each ``self.<attr> = nn.Linear(...)`` (a torch layer with parameters, or an
    ``nn.Parameter``) in the code a Module's ``forward`` runs: a new object on the calls that run it (cached)."""
    cached = facts.__dict__.get("_layers_made_by_forward")
    if cached is not None:
        return cached
    out = []
    for info in facts.modules.classes.values():
        if info.is_module is not True or info.methods.get("forward") is None:
            continue
        ti = facts.text_index
        for node in (n for m in run_by_forward(info, ti) if _SELF_STORE_OF_CALL.search(ti.body(m)) for n in walk_nodes(m)):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
                continue
            t = node.targets[0]
            if not (isinstance(t, ast.Attribute) and self_path(t)):
                continue
            built = node.value
            while isinstance(built.func, ast.Attribute) and built.func.attr in MODULE_SELF_METHODS and isinstance(built.func.value, ast.Call):
                built = built.func.value  # ``nn.Linear(d, k).to(x.device)``: the same new layer
            q = facts.imports.qualname(built.func) or ""
            made = facts.modules.classes.get(built.func.id) if isinstance(built.func, ast.Name) else None
            if q in PARAMETER_CTORS or (is_module_ctor(q) and not q.rsplit(".", 1)[-1].endswith(PARAMLESS_SUFFIXES)) or (
                    made is not None and made.is_module is True and not facts.modules.owns_no_parameters(made.name)):
                # ``self.fc = ...`` or a submodule's ``self.linear.weight = nn.Parameter(...)``; or a Module class of the file
                # with parameters of its own (``self.flow_head = FlowHead(net.shape[1])``)
                out.append((info, node, t))
    facts.__dict__["_layers_made_by_forward"] = out
    return out


def _static_kind(fn) -> str:
    for d in fn.decorator_list:
        if isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod"):
            return d.id
    return ""


def forward_inputs(facts, info, fwd) -> Optional[tuple]:
    """(names, n_required) of the inputs ``apply`` passes to ``forward``; None when unknowable."""
    a = fwd.args
    if a.vararg is not None:
        return None
    params = [*a.posonlyargs, *a.args]
    kind = _static_kind(fwd)
    drop = 2 if kind == "classmethod" else 1
    if facts.modules.method(info.name, "setup_context") is not None:
        drop -= 1  # forward(x, ...) without ctx
    params = params[drop:]
    if not params:
        return None
    n_required = len(params) - len(a.defaults)
    return [p.arg for p in params], max(n_required, 0)


def function_classes(facts):
    """autograd.Function subclasses whose whole base chain is visible in this file."""
    mm = facts.modules
    for info in mm.classes.values():
        if not info.is_autograd_function:
            continue
        if not _chain_known(mm, info, set()):
            continue
        yield info


def _chain_known(mm, info, seen) -> bool:
    if info.name in seen:
        return False
    seen.add(info.name)
    for q in info.base_names:
        if q in FUNCTION_BASES:
            continue
        if q in mm.classes:
            if not _chain_known(mm, mm.classes[q], seen):
                return False
            continue
        return False  # an imported base may define backward/vjp
    return True


def apply_calls(facts, cls_name: str) -> list:
    """``Cls.apply(...)`` calls and ``f = Cls.apply`` aliases' calls in this file."""
    aliases = set()
    for node in facts.walk(ast.Assign):
        if _is_apply(node.value, cls_name):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    aliases.add(t.id)
    out = []
    for node in facts.walk(ast.Call):
        if _is_apply(node.func, cls_name) or (isinstance(node.func, ast.Name) and node.func.id in aliases):
            out.append(node)
    return out


def _is_apply(node, cls_name) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "apply" and isinstance(node.value, ast.Name) and node.value.id == cls_name



_MAX_CONSTRUCTOR_DEPTH = 4
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class Constructions:
    """What constants reach the attributes of in-file classes through their constructors: ``self.alpha =
    alpha`` with ``alpha=6.0`` by default and ``Clip(2.0)`` at every in-file construction holds only numbers;
    ``if self.threshold is not None:`` is then decided. Built lazily over one walk of the tree."""

    def __init__(self, modules, tree: ast.Module, text=None) -> None:
        self.modules = modules
        self.tree = tree
        self._text = text  # a weakref.WeakMethod of the engine's ``text`` (the file's TextIndex), or None
        self._sites: dict = {}  # class -> its sites (see ``sites``)
        self._holders: Optional[tuple] = None  # (the classes' ``__init__`` methods, the module-level functions)
        self._cache: dict = {}

    def sites(self, cls: str) -> list:
        """(call, holder) for every ``cls(...)`` in the file; the holder is the class whose ``__init__`` holds the
        call, else the module-level function that holds it (its ``FunctionDef``), else None (in no particular order:
        every caller treats them as a set). Found per class asked, among the statements whose lines spell its name."""
        got = self._sites.get(cls)
        if got is None:
            if self._holders is None:
                inits = [(info.name, m) for info in self.modules.classes.values() for name, m in info.methods.items() if name == "__init__"]
                funcs = [f for f in self.tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
                self._holders = (inits, funcs)
            inits, funcs = self._holders
            got = []
            if cls in self.modules.classes:
                for top in self._expressions_naming([cls]):
                    for n in walk_nodes(top):
                        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == cls:
                            holder: Union[str, ast.AST, None] = next((c for c, m in inits if m.lineno <= n.lineno <= (m.end_lineno or m.lineno)), None)
                            if holder is None:
                                holder = next((f for f in funcs if f.lineno <= n.lineno <= (f.end_lineno or f.lineno)), None)
                            got.append((n, holder))
            self._sites[cls] = got
        return got

    def _expressions_naming(self, names: list) -> list:
        """Expressions of the file that hold every ``Name`` spelled as one of ``names``: the own expressions of the
        statements whose lines (from a first decorator on) hold one of them as a whole word or a non-ASCII character
        (Python reads identifiers NFKC-normalized); the whole tree when the text is not known."""
        method = self._text() if self._text is not None and names else None
        ti = method() if method is not None else None
        if ti is None or not names or not all(n.isidentifier() for n in names):
            return [self.tree]
        words = ti.hits(re.compile(r"\b(?:" + "|".join(names) + r")\b"))
        other = None if ti.text.isascii() else ti.hits(_NON_ASCII)
        if words is None or (other is None and not ti.text.isascii()):
            return [self.tree]
        at = list(words[0]) + (list(other[0]) if other else [])
        if not at:
            return []
        starts = ti.starts
        lines = sorted({bisect_left(starts, h + 1) for h in at})  # the 1-based line of each occurrence
        out: list = []
        for st in statements_on_lines(self.tree, lines, from_decorators=True):
            out.extend(own_expressions(st))
        return out

    def attr_values(self, cls: str, attr: str, depth: int = 0) -> Optional[list]:
        """Every value ``self.<attr>`` can hold, when each is a literal: assigned a constant, or an ``__init__``
        parameter whose default and whose argument at every in-file construction are constants (followed
        through an enclosing class's own ``__init__`` parameters). None when any is not known (an
        expression, a class never built in this file, a ``*args`` call)."""
        key = ("attr", cls, attr)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None  # recursion guard
        info = self.modules.classes.get(cls)
        out: Optional[list] = None
        if info is not None and depth <= _MAX_CONSTRUCTOR_DEPTH and info.attr_values.get(attr):
            init = info.methods.get("__init__")
            out = []
            for v in info.attr_values[attr]:
                got = self._init_expr_values(cls, init, v, depth)
                if got is None:
                    out = None
                    break
                out.extend(got)
        self._cache[key] = out
        return out

    def _init_expr_values(self, cls: str, init: Optional[ast.AST], v: ast.AST, depth: int) -> Optional[list]:
        """The constants an expression of ``cls.__init__`` can evaluate to: a literal, an ``__init__`` parameter
        (``init_argument``), or arithmetic on numbers made of those (``alpha / r``: Python arithmetic on numbers
        gives a number). None when not known."""
        if isinstance(v, ast.Constant):
            return [v.value]
        if isinstance(v, ast.Name) and init is not None and _within_lines(v, init):
            return self.init_argument(cls, v.id, depth)
        if isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and isinstance(v.slice, ast.Constant) and isinstance(v.slice.value, str) \
                and init is not None and _within_lines(v, init) and depth <= _MAX_CONSTRUCTOR_DEPTH:
            # ``cfg["cutoff"]`` of the table every construction passes (``MessagePassingFF(CFG)``, ``CFG`` a literal of constants
            # nothing writes): the entry's constant
            table = self.given_literal(cls, v.value.id)
            if isinstance(table, ast.Dict):
                entry = next((val for k, val in zip(table.keys, table.values) if isinstance(k, ast.Constant) and k.value == v.slice.value), None)
                if isinstance(entry, ast.Constant):
                    return [entry.value]
                if isinstance(entry, ast.UnaryOp) and isinstance(entry.op, ast.USub) and isinstance(entry.operand, ast.Constant) and isinstance(entry.operand.value, (int, float)):
                    return [-entry.operand.value]
            return None
        if isinstance(v, ast.IfExp):
            # ``StepLR(...) if scheduler == "step" else None``: the branch the constructor arguments choose
            truths = self._init_test_values(cls, init, v.test, depth)
            if truths is None:
                return None
            out: list = []
            for branch in [v.body] * (True in truths) + [v.orelse] * (False in truths):
                got = self._init_expr_values(cls, init, branch, depth)
                if got is None and isinstance(branch, ast.Call) and self._builds_object(branch):
                    got = [BUILT_OBJECT]
                if got is None:
                    return None
                out.extend(got)
            return out
        if isinstance(v, ast.BinOp) and type(v.op) in _ARITHMETIC:
            left, right = self._init_expr_values(cls, init, v.left, depth), self._init_expr_values(cls, init, v.right, depth)
            if left is None or right is None or len(left) * len(right) > 16 or not all(_is_number(x) for x in (*left, *right)):
                return None
            try:
                return [_ARITHMETIC[type(v.op)](a, b) for a in left for b in right]
            except (ArithmeticError, ValueError):
                return None
        return None

    def _init_test_values(self, cls: str, init: Optional[ast.AST], test: ast.AST, depth: int) -> Optional[set]:
        """The truth values a test of ``cls.__init__`` can take over the constants its names can hold (``scheduler ==
        "step"``, ``not use_ema``, ``mode in ("a", "b")``, ``x is None``); None when not known."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._init_test_values(cls, init, test.operand, depth)
            return None if inner is None else {not t for t in inner}
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left = self._init_expr_values(cls, init, test.left, depth)
            right = test.comparators[0]
            pool = [e.value for e in right.elts if isinstance(e, ast.Constant)] if isinstance(right, (ast.Tuple, ast.List, ast.Set)) else None
            rv = self._init_expr_values(cls, init, right, depth) if pool is None else None
            if left is None or (pool is None and rv is None) or (pool is not None and len(pool) != len(right.elts)):  # type: ignore[attr-defined]
                return None
            op = test.ops[0]
            out = set()
            for a in left:
                if isinstance(op, (ast.In, ast.NotIn)) and pool is not None:
                    out.add((a in pool) == isinstance(op, ast.In))
                elif isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) and rv is not None:
                    for b in rv:
                        same = (a is b) if isinstance(op, (ast.Is, ast.IsNot)) else (a == b)
                        out.add(same == isinstance(op, (ast.Eq, ast.Is)))
                else:
                    return None
            return out
        values = self._init_expr_values(cls, init, test, depth)
        return None if values is None else {bool(x) for x in values}

    def _builds_object(self, call: ast.Call) -> bool:
        """Does the call build an object (never None): a torch module, optimizer or scheduler, or an in-file class?"""
        if isinstance(call.func, ast.Name) and call.func.id in self.modules.classes:
            return True
        q = self.modules.imports.qualname(call.func) or ""
        return is_module_ctor(q) or is_optimizer_ctor(q) or is_scheduler_ctor(q)

    def _may_build_framework_objects(self) -> bool:
        """Does the file's text spell the name of a framework object's class (``Accelerator``, ``Fabric``,
        ``GradScaler``): could any call of it build one? (once per file)"""
        got = self._cache.get("fw_text")
        if got is None:
            method = self._text() if self._text is not None else None
            ti = method() if method is not None else None
            got = self._cache["fw_text"] = ti is None or ti.anywhere(_FRAMEWORK_OBJECT_WORD)  # (a word list: found with str.find)
        return bool(got)

    def framework_argument(self, cls: str, pname: str) -> Optional[str]:
        """The kind of framework object (``"accelerator"``, ``"fabric"``, ``"scaler"``) ``pname`` of ``cls.__init__``
        receives at every in-file construction of ``cls``: ``Trainer(Accelerator())``, or a name bound once to
        ``Accelerator(...)`` in the function that constructs it. None when any construction passes something else,
        or when there is none: its methods (``prepare``, ``backward``) mean what the framework makes them mean."""
        key = ("framework_arg", cls, pname)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None
        if not self._may_build_framework_objects():
            return None
        init = self.modules.method(cls, "__init__")
        if init is None or init.args.vararg is not None:
            return None
        params = [a.arg for a in init.args.args[1:]]
        if pname not in params:
            return None
        index = params.index(pname)
        kinds = set()
        for call, holder in self.sites(cls):
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            arg = next((k.value for k in call.keywords if k.arg == pname), None)
            if arg is None and index < len(call.args):
                arg = call.args[index]
            if isinstance(arg, ast.Name):
                scope = holder if isinstance(holder, ast.AST) else (self.modules.method(holder, "__init__") if isinstance(holder, str) else self.tree)
                binds = [st.value for st in statements_of_type(scope, ast.Assign) if any(isinstance(t, ast.Name) and t.id == arg.id for t in st.targets)] if scope is not None else []
                arg = binds[0] if len(binds) == 1 else None
            kind = FRAMEWORK_OBJECTS.get(self.modules.imports.qualname(arg.func) or "") if isinstance(arg, ast.Call) else None
            if kind is None:
                return None
            kinds.add(kind)
        got = kinds.pop() if len(kinds) == 1 else None
        self._cache[key] = got
        return got

    def kept_literal(self, cls: str, attr: str) -> Optional[ast.AST]:
        """The literal ``self.<attr>`` holds in every method of ``cls``: the constructor keeps a parameter as given
        (``self.cfg = cfg``, its only assignment) and every in-file construction passes the same literal of constants for
        it (``PPOModule(cfg)`` with ``cfg = {"clip": 0.2, "lr_by_prefix": {"policy.": 1e-3}}`` bound once in the function
        that builds it, or at the module's top level, and never written through that name). None otherwise."""
        key = ("kept_literal", cls, attr)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None
        pname = self.modules.kept_parameters(cls).get(attr)
        found = self.given_literal(cls, pname) if pname is not None else None
        self._cache[key] = found
        return found

    def given_literal(self, cls: str, pname: str) -> Optional[ast.AST]:
        """The dict literal of constants every in-file construction of ``cls`` passes for the ``__init__`` parameter
        ``pname`` (bound once to a name in the function that builds it, or at the module's top level), when nothing writes
        into it; None otherwise."""
        key = ("given_literal", cls, pname)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None
        init = self.modules.method(cls, "__init__")
        if init is None:
            return None
        params = [a.arg for a in init.args.args[1:]]
        sites = self.sites(cls)
        if not sites or pname not in params:
            return None
        index = params.index(pname)
        found: Optional[ast.AST] = None
        for call, holder in sites:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            arg = next((k.value for k in call.keywords if k.arg == pname), None)
            if arg is None and index < len(call.args):
                arg = call.args[index]
            if isinstance(arg, ast.Name):
                scope = holder if isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
                bound = _literal_binding(scope, arg.id) if scope is not None else None
                if bound is None and (scope is None or not any(isinstance(n, ast.Name) and n.id == arg.id and not isinstance(n.ctx, ast.Load) for n in walk_nodes(scope))):
                    bound = _literal_binding(self.tree, arg.id, top=True)  # (a module-level table the function reads)
                arg = bound
            if not (isinstance(arg, ast.Dict) and _pure_literal(arg)) or (found is not None and arg is not found):
                return None
            found = arg
        if found is None or not self.table_unwritten(found):
            return None
        self._cache[key] = found
        return found

    def table_unwritten(self, d: ast.AST) -> bool:
        """Is the dict literal ``d`` (or the literal that holds it) never written after it is made: bound to a name (or
        passed as an argument) that no code of the file writes through (``cfg["a"]["b"] = x``, ``cfg["a"].update(...)``,
        ``del cfg[k]``), following it into the in-file functions it is passed to and into the methods of an in-file class
        whose constructor keeps it (``self.cfg``)? Then its keys are all known. False when it reaches code not followed."""
        key = ("unwritten", id(d))
        got = self._cache.get(key)
        if got is None:
            self._cache[key] = False
            parents = index_of(self.tree).parents
            top = d
            while isinstance(parents.get(id(top)), (ast.Dict, ast.List, ast.Tuple)):
                top = parents[id(top)]
            st = parents.get(id(top))
            if isinstance(st, ast.Assign) and st.value is top and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                scope = _enclosing_scope(parents, st) or self.tree
                got = self._name_unwritten(scope, st.targets[0].id, parents, 0, top)
            else:
                got = self._use_unwritten(top, parents, 0, top)
            self._cache[key] = got
        return bool(got)

    def _name_unwritten(self, scope: ast.AST, name: str, parents: dict, depth: int, lit: Optional[ast.AST]) -> bool:
        uses = [n for n in walk_nodes(scope) if isinstance(n, ast.Name) and n.id == name]
        if any(not isinstance(n.ctx, ast.Load) and parents.get(id(n)) is not None and not _binding_of(parents, n) for n in uses):
            return False
        return all(self._use_unwritten(n, parents, depth, lit) for n in uses if isinstance(n.ctx, ast.Load))

    def _use_unwritten(self, node: ast.AST, parents: dict, depth: int, lit: Optional[ast.AST]) -> bool:
        """Is the value at ``node`` (a read of the table, or the literal itself; ``lit`` the part of the literal it holds,
        when known) only read where it goes? An entry that is a number or a string cannot be written through."""
        if depth > 3:
            return False
        cur = node
        while True:
            if isinstance(lit, ast.Constant):
                return True  # (``cfg["vocab"]``: a number, whatever is done with it)
            par = parents.get(id(cur))
            if isinstance(par, ast.Subscript) and par.value is cur:
                if not isinstance(par.ctx, ast.Load):
                    return False  # ``cfg["a"]["b"] = x`` / ``del cfg[k]``
                lit = _entry(lit, par.slice)
                cur = par
            elif isinstance(par, ast.Attribute) and par.value is cur:
                if par.attr in _DICT_MUTATORS:
                    return False
                call = parents.get(id(par))
                return par.attr in _DICT_READERS and isinstance(call, ast.Call) and call.func is par
            else:
                break
        par = parents.get(id(cur))
        if isinstance(par, (ast.AugAssign, ast.Delete)):
            return False
        if isinstance(par, ast.Assign) and par.value is cur:
            # an alias (``table = cfg["lr_by_prefix"]``): it must be unwritten too
            if len(par.targets) != 1 or not isinstance(par.targets[0], ast.Name):
                return False
            scope = _enclosing_scope(parents, par) or self.tree
            return self._name_unwritten(scope, par.targets[0].id, parents, depth + 1, lit)
        if isinstance(par, ast.keyword):
            call, arg_key = parents.get(id(par)), par.arg
            return isinstance(call, ast.Call) and arg_key is not None and self._given_unwritten(call, None, arg_key, parents, depth, lit)
        if isinstance(par, ast.Call) and cur in par.args:
            return self._given_unwritten(par, par.args.index(cur), None, parents, depth, lit)
        if isinstance(par, ast.Call) and par.func is cur:
            return False
        return True  # (compared, printed, formatted, iterated, returned as read...)

    def _given_unwritten(self, call: ast.Call, index: Optional[int], kw: Optional[str], parents: dict, depth: int, lit: Optional[ast.AST]) -> bool:
        """The table handed to ``call``: an in-file function that only reads its parameter, or an in-file class whose
        constructor keeps it as ``self.<attr>`` and whose methods only read that; a builtin that reads it."""
        f = call.func
        if isinstance(f, ast.Name) and f.id in _READING_BUILTINS:
            return True
        if isinstance(f, ast.Name) and f.id in self.modules.classes:
            init = self.modules.method(f.id, "__init__")
            if init is None or init.args.vararg is not None:
                return False
            params = [a.arg for a in init.args.args[1:]]
            pname = kw if kw is not None else (params[index] if index is not None and index < len(params) else None)
            if pname is None or pname not in params:
                return False
            if not self._name_unwritten_except_kept(init, pname, parents, depth + 1, lit):
                return False
            # (the methods an instance of the class runs: its own and those it inherits from in-file bases, the
            # constructor's class among them)
            family: list = []
            todo = [f.id]
            while todo:
                c = todo.pop()
                if c in self.modules.classes and c not in family:
                    family.append(c)
                    todo.extend(self.modules.classes[c].base_names)
            owner = next(c for c in family if any(m is init for m in self.modules.classes[c].methods.values()))
            attrs = [a for a, p in self.modules.kept_parameters(owner).items() if p == pname]
            methods = [m for c in family for m in self.modules.classes[c].methods.values()]
            return all(self._use_unwritten(n, parents, depth + 1, lit) for m in methods for n in walk_nodes(m)
                       if isinstance(n, ast.Attribute) and n.attr in attrs and isinstance(n.value, ast.Name) and n.value.id == "self" and isinstance(n.ctx, ast.Load))
        if isinstance(f, ast.Name):
            fn = next((d for d in self.tree.body if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name == f.id), None)
            if fn is None or fn.args.vararg is not None:
                return False
            params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
            pname = kw if kw is not None else (params[index] if index is not None and index < len(params) else None)
            return pname is not None and pname in params and self._name_unwritten(fn, pname, parents, depth + 1, lit)
        return False

    def _name_unwritten_except_kept(self, init: ast.AST, pname: str, parents: dict, depth: int, lit: Optional[ast.AST]) -> bool:
        """``pname`` in a constructor: only read, or kept as given (``self.cfg = cfg``, followed through the attribute)."""
        for n in walk_nodes(init):
            if isinstance(n, ast.Name) and n.id == pname and isinstance(n.ctx, ast.Load):
                par = parents.get(id(n))
                if isinstance(par, ast.Assign) and par.value is n and all(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" for t in par.targets):
                    continue
                if not self._use_unwritten(n, parents, depth, lit):
                    return False
            elif isinstance(n, ast.Name) and n.id == pname:
                return False
        return True

    def init_argument(self, cls: str, pname: str, depth: int = 0) -> Optional[list]:
        """The constants ``pname`` of ``cls.__init__`` receives at every in-file construction of ``cls`` (its
        default where a call leaves it out), or None."""
        init = self.modules.method(cls, "__init__")
        if init is None or init.args.vararg is not None or depth > _MAX_CONSTRUCTOR_DEPTH:
            return None
        params = [a.arg for a in init.args.args[1:]]
        if pname not in params:
            return None
        index = params.index(pname)
        defaults = init.args.defaults
        first_default = len(params) - len(defaults)
        default = defaults[index - first_default] if index >= first_default else None
        sites = self.sites(cls)
        if not sites:
            return None
        out: list = []
        for call, holder in sites:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            arg = next((k.value for k in call.keywords if k.arg == pname), None)
            if arg is None and index < len(call.args):
                arg = call.args[index]
            if arg is None:
                arg = default
            if isinstance(arg, ast.Constant):
                out.append(arg.value)
                continue
            if isinstance(arg, ast.Name) and isinstance(holder, str):
                got = self.init_argument(holder, arg.id, depth + 1)
                if got is not None:
                    out.extend(got)
                    continue
            if isinstance(arg, ast.Name) and isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef)):
                got = self.function_argument(holder, arg.id)
                if got is not None:
                    out.extend(got)
                    continue
            if isinstance(arg, ast.Subscript) and isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef)):
                entry = _config_entry(holder, arg)
                if entry is not None:
                    out.append(entry.value)
                    continue
            if isinstance(arg, ast.Subscript) and isinstance(holder, str) and isinstance(arg.value, ast.Name):
                # ``VariableSelectionNetwork(..., cfg["hard_selection"])`` in a constructor given ``cfg``: an entry of the
                # table every construction of that class passes (``TemporalFusionLite(CFG)``), never rebound in between
                outer = self.modules.method(holder, "__init__")
                rebound = outer is None or any(isinstance(n, ast.Name) and n.id == arg.value.id and not isinstance(n.ctx, ast.Load) for n in walk_nodes(outer))
                lit = self.given_literal(holder, arg.value.id) if not rebound and depth < _MAX_CONSTRUCTOR_DEPTH else None
                held = _entry(lit, arg.slice) if lit is not None else None
                if isinstance(held, ast.Constant):
                    out.append(held.value)
                    continue
            return None
        return out

    def function_argument(self, fn: ast.AST, pname: str) -> Optional[list]:
        """The constants parameter ``pname`` of the module-level function ``fn`` holds throughout its body: its
        default and the literal it gets at every in-file call ``fn(...)``, when ``fn`` is mentioned only by
        those calls (never passed around, so never called from elsewhere in the file) and ``pname`` is never
        rebound in it. None otherwise."""
        key = ("func", id(fn), pname)
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None
        a = fn.args  # type: ignore[attr-defined]
        params = [p.arg for p in (*a.posonlyargs, *a.args)]
        name = fn.name  # type: ignore[attr-defined]
        if pname not in params or a.vararg is not None or any(isinstance(n, ast.Name) and n.id == pname and not isinstance(n.ctx, ast.Load) for n in walk_nodes(fn)):
            return None
        index = params.index(pname)
        first_default = len(params) - len(a.defaults)
        default = a.defaults[index - first_default] if index >= first_default else None
        calls, mentions = [], 0
        for n in walk_nodes(self.tree):
            if isinstance(n, ast.Name) and n.id == name:
                mentions += 1
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name:
                calls.append(n)
            elif isinstance(n, ast.Attribute) and n.attr == name:
                return None
        if not calls or mentions != len(calls):
            return None
        out: list = []
        for call in calls:
            if any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords):
                return None
            arg = next((k.value for k in call.keywords if k.arg == pname), None)
            if arg is None and index < len(call.args):
                arg = call.args[index]
            if arg is None:
                arg = default
            if not isinstance(arg, ast.Constant):
                return None
            out.append(arg.value)
        self._cache[key] = out
        return out


def _literal_binding(scope: ast.AST, name: str, top: bool = False) -> Optional[ast.AST]:
    """The value of the one assignment to ``name`` in ``scope`` (with ``top``: among the module's own statements). Whether
    anything writes through the name is ``Constructions.table_unwritten``'s question."""
    found = []
    for n in (scope.body if top else walk_nodes(scope)):  # type: ignore[attr-defined]
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            found.append(n.value if len(n.targets) == 1 else None)
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)) and isinstance(n.target, ast.Name) and n.target.id == name:
            found.append(None)
    return found[0] if len(found) == 1 else None


_DICT_MUTATORS = frozenset({"update", "pop", "popitem", "setdefault", "clear", "__setitem__", "__delitem__"})
_DICT_READERS = frozenset({"get", "items", "keys", "values", "copy", "__getitem__", "__contains__"})
_READING_BUILTINS = frozenset({"len", "print", "str", "repr", "sorted", "list", "tuple", "dict", "isinstance", "format", "any", "all", "enumerate", "zip", "iter", "set", "frozenset", "hash", "id", "type", "bool"})


def _enclosing_scope(parents: dict, node: ast.AST) -> Optional[ast.AST]:
    cur = parents.get(id(node))
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        cur = parents.get(id(cur))
    return cur


def _entry(lit: Optional[ast.AST], key: ast.AST) -> Optional[ast.AST]:
    """The part of a literal ``lit[key]`` holds, for a constant key (None when not known)."""
    if isinstance(lit, ast.Dict) and isinstance(key, ast.Constant):
        return next((v for k, v in zip(lit.keys, lit.values) if isinstance(k, ast.Constant) and k.value == key.value), None)
    if isinstance(lit, (ast.List, ast.Tuple)) and isinstance(key, ast.Constant) and isinstance(key.value, int) and -len(lit.elts) <= key.value < len(lit.elts):
        return lit.elts[key.value]
    return None


def _binding_of(parents: dict, n: ast.Name) -> bool:
    """Is the store ``n`` the target of a plain assignment (``cfg = {...}``), not a write through it?"""
    par = parents.get(id(n))
    return isinstance(par, ast.Assign) and n in par.targets


def _pure_literal(node: ast.AST) -> bool:
    """A literal of constants only: dicts (string keys), lists, tuples, numbers, strings, booleans, None, negatives, and
    arithmetic of numbers (``"aux_coef": 1 / 32``, ``2 ** 10``)."""
    for n in walk_nodes(node):
        if isinstance(n, ast.Dict):
            if not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in n.keys):
                return False
        elif isinstance(n, ast.BinOp):
            if not all(isinstance(x, ast.Constant) and isinstance(x.value, (int, float)) and not isinstance(x.value, bool)
                       or isinstance(x, (ast.BinOp, ast.UnaryOp)) for x in (n.left, n.right)):
                return False
        elif not isinstance(n, (ast.List, ast.Tuple, ast.Constant, ast.Load, ast.UnaryOp, ast.USub, ast.UAdd, *_ARITHMETIC_OPS)):
            return False
    return True


_ARITHMETIC_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _within_lines(node: ast.AST, scope: ast.AST) -> bool:
    start = getattr(scope, "lineno", 0)
    return start <= getattr(node, "lineno", -1) <= (getattr(scope, "end_lineno", None) or start)


class _BuiltObject:
    """A value ``attr_values`` knows only as an object a constructor builds (``StepLR(...)``): not None, truthy, equal to
    no constant."""

    def __repr__(self) -> str:
        return "<object>"


BUILT_OBJECT = _BuiltObject()


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv}
