"""The names ``named_parameters()`` yields for an instance of an in-file Module class, as far as the file tells.

Each attribute the class's ``__init__`` assigns once (``self.attn = nn.MultiheadAttention(...)``) contributes the
names of what it holds: a ``torch.nn`` layer the table in ``torchapi.LAYER_PARAMETER_NAMES`` knows (``attn.in_proj_weight``,
``attn.out_proj.weight``...), an ``nn.Sequential`` of such layers (``ffn.0.weight``), an ``nn.Parameter`` (its own
name), or another in-file Module class (recursively). What is not known (a layer outside the table, a container built
in a loop, an attribute assigned twice) contributes nothing, so the list is a subset of the real names: every name in
it is one the model really has, which is what a claim that two name filters both select a parameter needs.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Optional

from gradguard.core.torchapi import (
    FROZEN_BY_DEFAULT,
    LAYER_PARAMETER_NAMES,
    MODULE_WRAPPERS,
    PARAMETER_CTORS,
    PARAMETERLESS_MODULE_BASES,
    WRAPPED_MODULE_ATTRS,
    is_module_ctor,
    is_parameterless_ctor,
)

_MAX_DEPTH = 6


def parameter_names(modules, imports, cls: str, depth: int = 0) -> list:
    """Known parameter names of an instance of the in-file class ``cls`` (a subset of the real ones)."""
    info = modules.classes.get(cls)
    if info is None or depth > _MAX_DEPTH:
        return []
    init = info.methods.get("__init__")
    if init is None:
        return []
    if any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) for t in n.targets) for m in info.methods.values() for n in ast.walk(m)):
        return []  # ``self.head.weight = self.emb.weight``: a tied tensor is yielded once, under its first name
    out: list = []
    for attr, values in info.attr_values.items():
        if len(values) != 1 or attr in info.buffers:
            continue
        for name in value_parameter_names(modules, imports, values[0], depth + 1):
            out.append(f"{attr}.{name}" if name else attr)
    return out


def value_parameter_names(modules, imports, value: ast.AST, depth: int = 0) -> list:
    """Known parameter names (relative to the object) of what the expression ``value`` builds; ``""`` stands for the
    object itself being a parameter."""
    if not isinstance(value, ast.Call) or depth > _MAX_DEPTH:
        return []
    q = imports.qualname(value.func) or ""
    if q in PARAMETER_CTORS:
        return [""]
    if q in FROZEN_BY_DEFAULT:  # ``nn.Embedding.from_pretrained(table)``: one table, ``weight``
        return ["weight"]
    if isinstance(value.func, ast.Name) and value.func.id in modules.classes:
        return parameter_names(modules, imports, value.func.id, depth)
    short = q.rsplit(".", 1)[-1]
    if q in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential"):
        if value.keywords or any(isinstance(a, ast.Starred) for a in value.args):
            return []
        out = []
        for i, a in enumerate(value.args):
            out += [f"{i}.{n}" if n else str(i) for n in value_parameter_names(modules, imports, a, depth + 1)]
        return out
    if not q.startswith("torch.nn.") or short not in LAYER_PARAMETER_NAMES:
        return []
    always, optional, switch, default, unknown, before_switch = LAYER_PARAMETER_NAMES[short]
    if any(k.arg in unknown or k.arg is None for k in value.keywords) or any(isinstance(a, ast.Starred) for a in value.args):
        return []  # (a setting that changes which parameters exist in a way the table does not follow)
    on: Optional[bool] = default if len(value.args) <= before_switch else None  # (the switch given by position)
    given = next((k.value for k in value.keywords if k.arg == switch), None) if switch else None
    if given is not None:
        on = given.value if isinstance(given, ast.Constant) and isinstance(given.value, bool) else None
    if on is None:
        return list(always)
    return list(always) + (list(optional) if on else [])


# -- name tests: ``n.startswith("backbone.")``, ``not any(nd in n for nd in no_decay)`` --------------------------------
class Unknown(Exception):
    """A name test this module cannot decide."""


# Stands for any index of a container whose length is not known (``emb_l.#.weight``): no real parameter name holds it.
INDEX = "#"


def _index_blind(name, other) -> bool:
    """May ``name`` (a parameter name with ``INDEX`` for an unknown index) compare otherwise for some index than for
    another: ``other`` (a string or a tuple of them) holds a digit or the name's own text with the index in it."""
    if not (isinstance(name, str) and INDEX in name):
        return False
    strings = other if isinstance(other, tuple) else (other,)
    return any(isinstance(x, str) and any(ch.isdigit() for ch in x) for x in strings)


@dataclass(frozen=True)
class NamePrefix:
    """A parameter name known only to begin with ``text`` (and to go on after it): the names of a part whose own names
    are not known (``resnet.`` of a layer outside the table)."""

    text: str


@dataclass(frozen=True)
class AnyOf:
    """A name bound to one of several strings, one per iteration of the loop around the test (``for prefix, lr in
    cfg["lr_by_prefix"].items()``): a test over it keeps a name when it keeps it for any of them, since every iteration
    builds its own selection."""

    options: tuple


# the key of a constants mapping that lists the names bound to an ``AnyOf`` (so that the evaluator need not scan the mapping)
ANY_OF_KEY = " any-of"


def truth(v) -> bool:
    if not isinstance(v, (bool, str, tuple)):
        raise Unknown
    return bool(v)


def module_constants(tree: ast.Module) -> dict:
    """Module-level names bound once to a string or a tuple/list of strings."""
    out: dict = {}
    seen: set = set()
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            name = st.targets[0].id
            v = st.value
            if name in seen:
                out.pop(name, None)
                continue
            seen.add(name)
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                out[name] = v.value
            elif isinstance(v, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in v.elts):
                out[name] = tuple(e.value for e in v.elts)  # type: ignore[attr-defined]
    return out


def _starts(name, arg) -> bool:
    """``name.startswith(arg)`` for a known name or a :class:`NamePrefix`; raises Unknown when the rest decides."""
    if isinstance(arg, tuple):
        got: list = []
        for a in arg:
            try:
                got.append(_starts(name, a))
            except Unknown:
                got.append(None)
        if True in got:
            return True
        if None in got:
            raise Unknown
        return False
    if not isinstance(arg, str):
        raise Unknown
    if isinstance(name, str):
        return name.startswith(arg)
    if name.text.startswith(arg):
        return True
    if arg.startswith(name.text):
        raise Unknown  # (the name goes on with text not known)
    return False


def _folded(v):
    if isinstance(v, str):
        return v.lower()
    if isinstance(v, tuple):
        return tuple(_folded(x) for x in v)
    return v


def evaluate_name_test(node: ast.AST, var: str, name, consts: dict, env: Optional[dict] = None, oracle=None, fold: bool = False):
    """The value of a parameter-name test with ``var`` bound to ``name`` (a string, or a :class:`NamePrefix`); raises
    Unknown for anything else. ``oracle(node)``, when given, values the nodes this evaluator does not know (a test on
    the parameter itself), or raises Unknown. ``fold``: compare every string ignoring case (what the test would
    select if names were matched case-insensitively)."""
    env = env or {}
    loop_bound = consts.get(ANY_OF_KEY)  # (the names bound to an AnyOf, listed under this key by the caller)
    if loop_bound:
        # (each option in turn: the test keeps the name when some iteration's selection does)
        k, rest = loop_bound[0], loop_bound[1:]
        return any(truth(evaluate_name_test(node, var, name, {**consts, k: o, ANY_OF_KEY: rest}, env, oracle, fold)) for o in consts[k].options)

    def ev(n, e=env):
        return evaluate_name_test(n, var, name, consts, e, oracle, fold)

    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool)):
        return _folded(node.value) if fold else node.value
    if isinstance(node, ast.Name):
        if node.id == var:
            return _folded(name) if fold else name
        if node.id in env:
            return env[node.id]
        if node.id in consts:
            return _folded(consts[node.id]) if fold else consts[node.id]
        raise Unknown
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(ev(e) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and f"{node.value.id}.{node.attr}" in consts:
        # ``self.no_decay``: an attribute whose strings the caller knows (a class constant)
        got = consts[f"{node.value.id}.{node.attr}"]
        return _folded(got) if fold else got
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant) \
            and f"{node.value.id}[{node.slice.value!r}]" in consts:
        # ``cfg["sparse_key"]``: an entry of a table of constants whose strings the caller knows
        got = consts[f"{node.value.id}[{node.slice.value!r}]"]
        return _folded(got) if fold else got
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not truth(ev(node.operand))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = ev(node.left), ev(node.right)
        if isinstance(a, str) and isinstance(b, str):
            return a + b  # (``prefix + "."``)
        raise Unknown
    if isinstance(node, ast.BoolOp):
        vals: list = []
        for v in node.values:  # (a value that decides the whole test decides it even when another one is unknown)
            try:
                vals.append(truth(ev(v)))
            except Unknown:
                vals.append(None)
        decisive = isinstance(node.op, ast.Or)
        if decisive in vals:
            return decisive
        if None in vals:
            raise Unknown
        return not decisive
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = node.ops[0]
        try:
            a, b = ev(node.left), ev(node.comparators[0])
        except Unknown:
            if oracle is None:
                raise
            return oracle(node)
        if _index_blind(a, b) or _index_blind(b, a):
            raise Unknown  # (``"layers.11" in n`` over ``layers.#.weight``: decided by the index)
        if isinstance(op, (ast.In, ast.NotIn)):
            if isinstance(a, str) and isinstance(b, str):
                return (a in b) == isinstance(op, ast.In)
            if isinstance(a, str) and isinstance(b, NamePrefix):
                if a in b.text:
                    return isinstance(op, ast.In)
                raise Unknown
            if isinstance(b, tuple) and all(isinstance(x, str) for x in b) and isinstance(a, (str, NamePrefix)):
                if isinstance(a, str):
                    return (a in b) == isinstance(op, ast.In)
                if not any(x.startswith(a.text) for x in b):
                    return not isinstance(op, ast.In)
            raise Unknown
        if isinstance(op, (ast.Eq, ast.NotEq)):
            if isinstance(a, str) and isinstance(b, str):
                return (a == b) == isinstance(op, ast.Eq)
            s, p = (a, b) if isinstance(a, str) else (b, a)
            if isinstance(s, str) and isinstance(p, NamePrefix) and not s.startswith(p.text):
                return not isinstance(op, ast.Eq)
        raise Unknown
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("startswith", "endswith") and len(node.args) == 1 and not node.keywords:
        recv, arg = ev(node.func.value), ev(node.args[0])
        if _index_blind(recv, arg):
            raise Unknown
        if isinstance(recv, (str, NamePrefix)) and (isinstance(arg, str) or (isinstance(arg, tuple) and all(isinstance(x, str) for x in arg))):
            if node.func.attr == "startswith":
                return _starts(recv, arg)
            if isinstance(recv, str):
                return recv.endswith(arg)
        raise Unknown
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("any", "all") and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
        gen = node.args[0]
        if len(gen.generators) != 1 or not isinstance(gen.generators[0].target, ast.Name) or gen.generators[0].ifs:
            raise Unknown
        seq = ev(gen.generators[0].iter)
        if not isinstance(seq, tuple):
            raise Unknown
        k = gen.generators[0].target.id
        vals = []
        for x in seq:
            try:
                vals.append(truth(ev(gen.elt, {**env, k: x})))
            except Unknown:
                vals.append(None)
        decisive = node.func.id == "any"
        if decisive in vals:
            return decisive
        if None in vals:
            raise Unknown
        return not decisive
    if oracle is not None:
        return oracle(node)
    raise Unknown


# -- the parts of a model and which of them a filtered parameter list holds --------------------------------------------
@dataclass(frozen=True)
class Part:
    """An attribute of a Module class that may hold parameters."""

    path: str  # the attribute (``xattn``)
    names: Optional[tuple]  # its parameters' names relative to it (``proj.weight``; ``""``: it is one), None when not known
    fresh: bool  # built where it is assigned, once (so no other attribute's object: its parameters go by its name)
    cls: Optional[str] = None  # the in-file Module class it is an instance of


# what a class may do to hold parameters other than by assigning attributes in its own code
_REGISTERS = frozenset({"register_parameter", "add_module", "register_module", "setattr", "__setattr__", "__dict__", "tie_weights",
                        "get_output_embeddings", "get_input_embeddings", "_tie_or_clone_weights", "load_state_dict"})


def module_parts(modules, imports, cls: str) -> Optional[tuple]:
    """Every attribute of an instance of the in-file Module class ``cls`` that may hold a parameter, or None when its
    parameters cannot be told from its code: a base class other than ``nn.Module`` (or a framework base that holds
    none), parameters registered by name (``register_parameter``, ``add_module``, ``setattr``), an attribute of a part
    assigned (a tied weight). Cached per class."""
    cache = modules.__dict__.setdefault("_parameter_parts", {})
    if cls in cache:
        return cache[cls]
    cache[cls] = None  # (a class that holds itself: not enumerable)
    info = modules.classes.get(cls)
    out: Optional[tuple] = None
    inherited: Optional[list] = [] if info is not None and info.base_names else None
    for b in info.base_names if info is not None else ():
        if b in PARAMETERLESS_MODULE_BASES:
            continue
        binfo = modules.classes.get(b) if b != cls else None
        if binfo is not None and binfo.is_module is False and not any(_part(modules, imports, binfo, a, v) for a, v in binfo.attr_values.items()):
            continue  # (a plain mixin that builds no layer or parameter: ``ConfigMixin``)
        sub = module_parts(modules, imports, b) if binfo is not None else None
        if sub is None:
            inherited = None
            break
        inherited += list(sub)  # type: ignore[operator]  # (a base of the file or a linked library: its parts too)
    if info is not None and info.is_module and inherited is not None and not _registers_otherwise(info):
        parts = [p for p in inherited if p.path not in info.attr_values]
        for attr, values in info.attr_values.items():
            if attr in info.buffers or attr in info.constants:
                continue
            part = _part(modules, imports, info, attr, values)
            if part is not None:
                parts.append(part)
        out = tuple(parts)
    cache[cls] = out
    return out


def _registers_otherwise(info) -> bool:
    for m in info.methods.values():
        if m.name in _REGISTERS:
            return True
        for n in ast.walk(m):
            if isinstance(n, (ast.Attribute, ast.Name)) and (n.attr if isinstance(n, ast.Attribute) else n.id) in _REGISTERS:
                if isinstance(n, ast.Attribute) and n.attr == "__dict__" and not _writes_dict(m, n):
                    continue  # (``self.__dict__.get(name)`` reads it: a config lookup, nothing registered)
                return True
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]):
                        # ``self.head.weight = ...``, ``self.blocks[0] = ...``: a part changed from outside
                        if isinstance(e, (ast.Attribute, ast.Subscript)) and isinstance(e.value, (ast.Attribute, ast.Subscript)):
                            return True
    return False


def _writes_dict(m: ast.AST, node: ast.Attribute) -> bool:
    """Does ``m`` write through ``<x>.__dict__`` (``node``): ``x.__dict__[k] = v``, ``x.__dict__.update(...)``?"""
    for n in ast.walk(m):
        if isinstance(n, ast.Subscript) and n.value is node and isinstance(n.ctx, ast.Store):
            return True
        if isinstance(n, ast.Attribute) and n.value is node and n.attr in ("update", "setdefault", "__setitem__", "pop", "clear"):
            return True
    return False


def _part(modules, imports, info, attr: str, values: list) -> Optional[Part]:
    init = info.methods.get("__init__")
    value = values[0] if len(values) == 1 else None
    in_init = value is not None and init is not None and any(n is value for n in ast.walk(init))
    if not in_init or not isinstance(value, ast.Call):
        return None if _plain(value) else Part(attr, None, False)
    if isinstance(value.func, ast.Name) and value.func.id in modules.classes:
        child = modules.classes[value.func.id]
        return Part(attr, None, True, child.name) if child.is_module else Part(attr, None, False)
    q = imports.qualname(value.func) or ""
    if q in PARAMETER_CTORS or is_module_ctor(q):
        names = complete_names(modules, imports, value)
        return None if names == () and is_parameterless_ctor(q) else Part(attr, names, True)
    return Part(attr, None, False)


def _plain(value: Optional[ast.AST]) -> bool:
    """A number, string, flag or tuple of them: never a parameter."""
    if isinstance(value, ast.Constant):
        return True
    return isinstance(value, ast.Tuple) and all(_plain(e) for e in value.elts)


def complete_names(modules, imports, value: ast.AST) -> Optional[tuple]:
    """All the parameter names (relative to the object) of what the ``torch.nn`` constructor call ``value`` builds, or
    None when they are not all known (a layer outside the table, a switch given by a variable)."""
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Name) and value.func.id in modules.classes:
        # an in-file Module class inside a container (``nn.Sequential(Block(d), Block(d))``)
        return all_parameter_names(modules, imports, value.func.id) if modules.classes[value.func.id].is_module else None
    q = imports.qualname(value.func) or ""
    if q in PARAMETER_CTORS:
        return ("",)
    if is_parameterless_ctor(q):
        return ()
    short = q.rsplit(".", 1)[-1]
    if q in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential"):
        if value.keywords or any(isinstance(a, ast.Starred) for a in value.args):
            return None
        out: list = []
        for i, a in enumerate(value.args):
            inner = complete_names(modules, imports, a)
            if inner is None:
                return None
            out += [f"{i}.{n}" if n else str(i) for n in inner]
        return tuple(out)
    if q in ("torch.nn.ModuleList", "torch.nn.modules.container.ModuleList") and len(value.args) == 1 and not value.keywords:
        # ``nn.ModuleList([Block(d), Block(d)])``, ``nn.ModuleList([Block(d) for _ in range(3)])``: indexed like a Sequential
        seq = value.args[0]
        elts: Optional[list] = None
        if isinstance(seq, (ast.List, ast.Tuple)) and not any(isinstance(a, ast.Starred) for a in seq.elts):
            elts = list(seq.elts)
        elif isinstance(seq, (ast.ListComp, ast.GeneratorExp)) and len(seq.generators) == 1 and not seq.generators[0].ifs:
            it = seq.generators[0].iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 1 \
                    and isinstance(it.args[0], ast.Constant) and isinstance(it.args[0].value, int) and 0 <= it.args[0].value <= 64:
                elts = [seq.elt] * it.args[0].value
            else:
                # ``nn.ModuleList(nn.EmbeddingBag(n, d) for n in cfg["table_sizes"])``: as many elements as the iterable
                # has, each with the same names: ``INDEX`` stands for any index (a test whose strings hold a digit, or
                # that compares whole names, is not decided on it)
                inner = complete_names(modules, imports, seq.elt)
                if inner is None:
                    return None
                return tuple(f"{INDEX}.{n}" if n else INDEX for n in inner)
        if elts is None:
            return None
        got: list = []
        for i, a in enumerate(elts):
            inner = complete_names(modules, imports, a)
            if inner is None:
                return None
            got += [f"{i}.{n}" if n else str(i) for n in inner]
        return tuple(got)
    if not q.startswith("torch.nn.") or short not in LAYER_PARAMETER_NAMES:
        return None
    always, optional, switch, default, unknown, before_switch = LAYER_PARAMETER_NAMES[short]
    if any(k.arg in unknown or k.arg is None for k in value.keywords) or any(isinstance(a, ast.Starred) for a in value.args):
        return None
    on: Optional[bool] = default if len(value.args) <= before_switch else None
    given = next((k.value for k in value.keywords if k.arg == switch), None) if switch else None
    if given is not None:
        on = given.value if isinstance(given, ast.Constant) and isinstance(given.value, bool) else None
    if on is None:
        return None if optional else tuple(always)
    return tuple(always) + (tuple(optional) if on else ())


def all_parameter_names(modules, imports, cls: str, depth: int = 0) -> Optional[tuple]:
    """Every name ``named_parameters()`` yields for an instance of the in-file Module class ``cls``, or None when any
    part's parameters are not all known (see :func:`module_parts` and :func:`complete_names`)."""
    parts = module_parts(modules, imports, cls)
    if parts is None or depth > _MAX_DEPTH:
        return None
    out: list = []
    for part in parts:
        names = part.names
        if names is None and part.cls is not None:
            names = all_parameter_names(modules, imports, part.cls, depth + 1)
        if names is None:
            return None
        out += [f"{part.path}.{n}" if n else part.path for n in names]
    return tuple(out)


def narrowed_parts(modules, imports, cls: str, keep: Callable, base: str = "", depth: int = 0, dropped: Optional[list] = None) -> Optional[list]:
    """The paths (relative to the model) of the parts of an instance of ``cls`` whose parameters a filter may select:
    ``keep(path, names)`` says True / False when it selects all / none of a part's parameters, None when it cannot tell
    (then the part's own parts are asked, if it is an in-file class; else it counts as selected). A part counts as left
    out only when it is its own object (built where it is assigned). None when the class's parameters cannot be told. The parts left out go to ``dropped``."""
    parts = module_parts(modules, imports, cls)
    if parts is None or depth > _MAX_DEPTH:
        return None
    out: list = []
    for part in parts:
        path = base + part.path
        verdict = keep(path, part.names)
        if verdict is None and part.cls is not None:
            inner = narrowed_parts(modules, imports, part.cls, keep, path + ".", depth + 1, dropped)
            if inner is not None:
                out += inner
                continue
        if verdict is None and part.cls is None and part.fresh and part.names and len(part.names) > 1 and all(part.names):
            # a torch layer the filter splits (``ln.bias`` kept, ``ln.weight`` not): decided parameter by parameter
            ones = [(n, keep(f"{path}.{n}", ("",))) for n in part.names]
            if any(INDEX in n for n in part.names):
                # (the elements of a container of unknown length, ``blocks.#.norm.weight``: the part is kept or left out whole)
                if all(one is False for _n, one in ones) and part.fresh:
                    if dropped is not None:
                        dropped.append(path)
                else:
                    out.append(path)
                continue
            if any(one is False for _n, one in ones):
                for n, one in ones:
                    if one is False:
                        if dropped is not None:
                            dropped.append(f"{path}.{n}")
                    else:
                        out.append(f"{path}.{n}")
                continue
        if verdict is False and part.fresh:
            if dropped is not None:
                dropped.append(path)
            continue
        out.append(path)
    return out


# -- which in-file Module class a model expression holds --------------------------------------------------------------
def single_binding(scope: ast.AST, name: str) -> Optional[ast.AST]:
    """The value of the one assignment to ``name`` in ``scope`` (not counting nested functions), else None."""
    found = []
    for n in ast.walk(scope):
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            found.append(n.value if len(n.targets) == 1 else None)
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)) and isinstance(n.target, ast.Name) and n.target.id == name:
            found.append(None)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == name and n.func.attr in ("append", "extend", "insert", "remove", "pop"):
            return None
    return found[0] if len(found) == 1 else None


def model_classes(facts, expr: ast.AST, scope: ast.AST, depth: int = 0, first: bool = False) -> Optional[list]:
    """The in-file Module classes of the model ``expr`` names: bound in ``scope`` by ``Cls(...)``, or a parameter of
    ``scope`` whose callers in the file pass such models. None when some caller's model is not known (with ``first``,
    the first class found, ignoring callers not known). Also a part of such a model (``detector.neck``: the class of its
    ``neck``), and the module a ``DataParallel`` / DDP wrapper holds (``model.module`` with ``model = nn.DataParallel(Net())``)."""
    if isinstance(expr, ast.Attribute) and depth <= 3:
        if expr.attr in WRAPPED_MODULE_ATTRS and isinstance(expr.value, ast.Name):
            wrapper = single_binding(scope, expr.value.id)
            if isinstance(wrapper, ast.Call) and (facts.imports.qualname(wrapper.func) or "") in MODULE_WRAPPERS and wrapper.args:
                inner = wrapper.args[0]
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in facts.modules.classes:
                    return [inner.func.id]
                return model_classes(facts, inner, scope, depth + 1, first)
            return None
        base = model_classes(facts, expr.value, scope, depth, first)
        if not base:
            return None
        parts = [facts.modules.attr_class(c, expr.attr)[0] for c in base]
        return None if not all(parts) else list(dict.fromkeys(parts))
    if not isinstance(expr, ast.Name) or depth > 3:
        return None
    bound = single_binding(scope, expr.id)
    while isinstance(bound, ast.Call) and isinstance(bound.func, ast.Attribute) and bound.func.attr in ("to", "cuda", "cpu", "float", "train"):
        bound = bound.func.value
    if isinstance(bound, ast.Call) and isinstance(bound.func, ast.Name) and bound.func.id in facts.modules.classes:
        return [bound.func.id]
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    params = [a.arg for a in scope.args.posonlyargs + scope.args.args]
    if expr.id not in params or bound is not None:
        return None
    i = params.index(expr.id)
    out: list = []
    for call in facts.walk(ast.Call):
        if not (isinstance(call.func, ast.Name) and call.func.id == scope.name):
            continue
        args = call.args
        arg = args[i] if i < len(args) and not any(isinstance(a, ast.Starred) for a in args[: i + 1]) else next((k.value for k in call.keywords if k.arg == expr.id), None)
        outer = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        got = model_classes(facts, arg, outer, depth + 1, first) if arg is not None else None
        if got and first:
            return got[:1]
        if got is None and not first:
            return None
        out += [c for c in got or () if c not in out]
    return out or None


def model_class(facts, expr: ast.AST, scope: ast.AST) -> Optional[str]:
    """The first in-file Module class :func:`model_classes` finds for ``expr``."""
    got = model_classes(facts, expr, scope, first=True)
    return got[0] if got else None


def models_of(facts, expr: ast.AST, scope: ast.AST) -> list:
    """Every in-file Module class ``expr`` can hold at the calls the file makes, or [] when one is not known."""
    return model_classes(facts, expr, scope) or []
