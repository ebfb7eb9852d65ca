"""Parameter lists filled by a loop that sorts a model's parameters (weight-decay groups, per-module learning rates).

    decay, no_decay = [], []
    for mn, m in model.named_modules():
        for pn, p in m.named_parameters(recurse=False):
            if isinstance(m, nn.Linear) and pn == "weight":
                decay.append(p)
            elif isinstance(m, (nn.LayerNorm, nn.Embedding)) or pn.endswith("bias"):
                no_decay.append(p)

Each visit of a parameter runs the body: name tests are decided on the names ``named_modules()`` /
``named_parameters()`` yield, ``isinstance`` tests on the type of the module that owns the parameter (a ``torch.nn``
layer, or an in-file class). A parameter no branch appends anywhere (a raw ``nn.Parameter`` on the model above: neither
a Linear's nor a LayerNorm's, and not a bias) is in none of the lists. The body must be made of what is understood
(``if``/``elif``/``else`` on such tests, ``append``/``add`` of the parameter, ``continue``, string assignments such as
``fpn = f"{mn}.{pn}"``); anything else leaves the loop undecided. A parameter whose visit reaches a test that cannot
be decided counts as appended to every list, so a list is narrowed only by what the code decides.

The shapes: ``for n, p in m.named_parameters()`` and ``for mn, m in model.named_modules(): for pn, p in
m.named_parameters(...)`` (``recurse=False``: each parameter once, under the module that owns it; recursive: under each
module that contains it, as minGPT's loop visits them).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from gradguard.core.paramnames import Unknown, evaluate_name_test, module_parts, narrowed_parts, single_binding, truth
from gradguard.core.torchapi import LAYER_PARAMETER_NAMES, PARAMETER_CTORS, is_module_ctor, is_parameterless_ctor

_MAX_DEPTH = 6
_MAX_VISITS = 4000

# the submodules a ``torch.nn`` layer builds itself, by the name its parameters go under, and their classes
_SUBMODULE_TYPES = {"MultiheadAttention": {"out_proj": "NonDynamicallyQuantizableLinear"}}
# the torch.nn classes (by short name) each layer that owns parameters derives from, besides itself and ``Module``
_TORCH_BASES: dict = {
    "NonDynamicallyQuantizableLinear": {"Linear"},
    **{c: {"_ConvNd"} for c in ("Conv1d", "Conv2d", "Conv3d")},
    **{c: {"_ConvTransposeNd", "_ConvTransposeMixin", "_ConvNd"} for c in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")},
    **{c: {"_BatchNorm", "_NormBase"} for c in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")},
    **{c: {"_InstanceNorm", "_NormBase"} for c in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")},
}
_KNOWN_TORCH_OWNERS = frozenset(LAYER_PARAMETER_NAMES) | frozenset(_TORCH_BASES)


@dataclass(frozen=True)
class ModuleTree:
    """What ``named_modules()`` / ``named_parameters()`` yield for an instance of an in-file class, as far as known."""

    modules: tuple  # (path, type): ``"class:<Name>"`` for an in-file class, ``"torch:<Short>"`` for a torch.nn class
    params: tuple  # (path of the parameter, path of the module that registers it, its number of dimensions or None)
    unknown: tuple  # paths of parts whose contents are not known


def module_tree(modules, imports, cls: str) -> Optional[ModuleTree]:
    """The tree of an instance of the in-file Module class ``cls``; None when its parts cannot be told."""
    cache = modules.__dict__.setdefault("_module_trees", {})
    if cls in cache:
        return cache[cls]
    mods: list = []
    params: list = []
    unknown: list = []
    ok = _class_tree(modules, imports, cls, "", mods, params, unknown, 0)
    out = ModuleTree(tuple(mods), tuple(params), tuple(unknown)) if ok else None
    cache[cls] = out
    return out


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _attr_value(modules, cls: str, attr: str, depth: int = 0) -> Optional[ast.AST]:
    info = modules.classes.get(cls)
    if info is None or depth > _MAX_DEPTH:
        return None
    values = info.attr_values.get(attr)
    if values:
        return values[0] if len(values) == 1 else None
    for b in info.base_names:
        if b in modules.classes and b != cls:
            got = _attr_value(modules, b, attr, depth + 1)
            if got is not None:
                return got
    return None


def _class_tree(modules, imports, cls: str, path: str, mods: list, params: list, unknown: list, depth: int) -> bool:
    parts = module_parts(modules, imports, cls)
    if parts is None or depth > _MAX_DEPTH:
        return False
    mods.append((path, f"class:{cls}"))
    for part in parts:
        p = _join(path, part.path)
        if part.cls is not None:
            if not _class_tree(modules, imports, part.cls, p, mods, params, unknown, depth + 1):
                unknown.append(p)
            continue
        value = _attr_value(modules, cls, part.path)
        if value is None or not _value_tree(modules, imports, value, path, p, mods, params, unknown, depth + 1):
            unknown.append(p)
    return True


def _value_tree(modules, imports, value: ast.AST, owner: str, path: str, mods: list, params: list, unknown: list, depth: int) -> bool:
    """Add what ``value`` (a constructor call assigned at ``path``, inside the module at ``owner``) holds."""
    if not isinstance(value, ast.Call) or depth > _MAX_DEPTH:
        return False
    if isinstance(value.func, ast.Name) and value.func.id in modules.classes:
        return bool(modules.classes[value.func.id].is_module) and _class_tree(modules, imports, value.func.id, path, mods, params, unknown, depth + 1)
    q = imports.qualname(value.func) or ""
    short = q.rsplit(".", 1)[-1]
    if q in PARAMETER_CTORS:
        params.append((path, owner, _tensor_rank(imports, value.args[0]) if value.args else None))
        return True
    if not (q.startswith("torch.nn.") and is_module_ctor(q)):
        return False
    if is_parameterless_ctor(q):
        mods.append((path, f"torch:{short}"))
        return True
    if short in ("Sequential", "ModuleList"):
        seq = value.args[0] if short == "ModuleList" and len(value.args) == 1 and not value.keywords else None
        if short == "Sequential":
            if value.keywords or any(isinstance(a, ast.Starred) for a in value.args):
                return False
            elts = list(value.args)
        elif isinstance(seq, (ast.List, ast.Tuple)) and not any(isinstance(a, ast.Starred) for a in seq.elts):
            elts = list(seq.elts)
        else:
            return False
        mods.append((path, f"torch:{short}"))
        for i, a in enumerate(elts):
            if not _value_tree(modules, imports, a, path, f"{path}.{i}", mods, params, unknown, depth + 1):
                unknown.append(f"{path}.{i}")
        return True
    if short not in LAYER_PARAMETER_NAMES:
        return False
    from gradguard.core.paramnames import complete_names

    names = complete_names(modules, imports, value)
    if names is None:
        return False
    mods.append((path, f"torch:{short}"))
    subs = _SUBMODULE_TYPES.get(short, {})
    for sub in sorted({n.split(".")[0] for n in names if "." in n}):
        if sub not in subs:
            return False
        mods.append((f"{path}.{sub}", f"torch:{subs[sub]}"))
    for n in names:
        params.append((f"{path}.{n}", f"{path}.{n.rsplit('.', 1)[0]}" if "." in n else path, _layer_rank(short, n, value)))
    return True


_FACTORY_SHAPES = frozenset({"zeros", "ones", "empty", "randn", "rand", "full"})


def _int_like(node: ast.AST) -> bool:
    """An argument that is a size, not a shape: an int constant or arithmetic on int constants and names."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        return (_int_like(node.left) or isinstance(node.left, (ast.Name, ast.Attribute))) and (_int_like(node.right) or isinstance(node.right, (ast.Name, ast.Attribute))) \
            and (_int_like(node.left) or _int_like(node.right))
    return False


def _tensor_rank(imports, node: ast.AST) -> Optional[int]:
    """The number of dimensions of the tensor ``node`` builds (``torch.randn(4, dim) * 0.02``: 2), else None."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
        node = node.left if not isinstance(node.left, ast.Constant) else node.right
    if not isinstance(node, ast.Call):
        return None
    q = imports.qualname(node.func) or ""
    short = q.rsplit(".", 1)[-1]
    if q.startswith("torch.") and short in _FACTORY_SHAPES and not any(isinstance(a, ast.Starred) for a in node.args):
        sizes = node.args[:-1] if short == "full" else node.args
        if len(sizes) == 1 and isinstance(sizes[0], (ast.Tuple, ast.List)):
            sizes = sizes[0].elts
            return len(sizes) if not any(isinstance(a, ast.Starred) for a in sizes) else None
        if sizes and all(_int_like(a) or _named_size(a) for a in sizes) and (len(sizes) > 1 or _int_like(sizes[0])):
            return len(sizes)  # (one size given by a name may be a shape: ``torch.zeros(shape)``)
        return None
    if q == "torch.tensor" and node.args:
        v = node.args[0]
        rank = 0
        while isinstance(v, (ast.List, ast.Tuple)):
            rank += 1
            if not v.elts:
                break
            v = v.elts[0]
        return rank if isinstance(v, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp)) else None
    return None


def _named_size(node: ast.AST) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute))


def _layer_rank(short: str, name: str, call: ast.Call) -> Optional[int]:
    """The number of dimensions of parameter ``name`` of the torch.nn layer ``short`` built by ``call``."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf in ("bias", "in_proj_bias"):
        return 1
    if short in ("Linear", "Embedding", "EmbeddingBag", "MultiheadAttention") and leaf in ("weight", "in_proj_weight"):
        return 2
    if short == "Bilinear":
        return 3
    if short.startswith(("Conv", "ConvTranspose")) and short[-2:] in ("1d", "2d", "3d"):
        return int(short[-2]) + 2
    if short in ("PReLU", "GroupNorm") or short.startswith(("BatchNorm", "InstanceNorm")):
        return 1
    if short == "LayerNorm":
        shape = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "normalized_shape"), None)
        if isinstance(shape, (ast.Tuple, ast.List)):
            return len(shape.elts) if not any(isinstance(e, ast.Starred) for e in shape.elts) else None
        # (a size given by a name is taken as the int it nearly always is: ``nn.LayerNorm(dim)``)
        return 1 if shape is not None and (_int_like(shape) or _named_size(shape)) else None
    return None


# -- the loop ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FillLoop:
    """A loop that sorts a model's parameters into lists."""

    model: ast.AST  # the expression whose parameters it visits
    name_vars: tuple  # (module-path variable or "", parameter-name variable)
    module_var: str  # the variable bound to the owning module ("" when none)
    param_var: str
    recurse: bool  # named_parameters() recursing into submodules (the nested shape)
    nested: bool
    body: tuple  # the statements run for each visit
    lists: tuple  # the names of the lists it appends to


def _named_call(node: ast.AST, attr: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attr


def _pair(target: ast.AST) -> Optional[tuple]:
    if isinstance(target, ast.Tuple) and len(target.elts) == 2 and all(isinstance(e, ast.Name) for e in target.elts):
        return target.elts[0].id, target.elts[1].id  # type: ignore[attr-defined]
    return None


def fill_loop(st: ast.AST) -> Optional[FillLoop]:
    """The loop ``st`` as a :class:`FillLoop`, or None when it is not of a known shape."""
    if not isinstance(st, ast.For) or st.orelse:
        return None
    it = st.iter
    pair = _pair(st.target)
    if pair is None:
        return None
    if _named_call(it, "named_parameters") and not it.args and not it.keywords:  # type: ignore[attr-defined]
        loop = FillLoop(it.func.value, ("", pair[0]), "", pair[1], True, False, tuple(st.body), ())  # type: ignore[attr-defined]
    elif _named_call(it, "named_modules") and not it.args and not it.keywords and len(st.body) == 1 and isinstance(st.body[0], ast.For):  # type: ignore[attr-defined]
        inner = st.body[0]
        ipair = _pair(inner.target) if not inner.orelse else None
        call = inner.iter
        if ipair is None or not isinstance(call, ast.Call) or not _named_call(call, "named_parameters"):
            return None
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == pair[1]):
            return None
        if call.args or any(k.arg != "recurse" for k in call.keywords):
            return None  # (``named_parameters("x.")``: a prefix; ``named_parameters(recurse=flag)``)
        recurse: Optional[bool] = True
        for k in call.keywords:
            recurse = k.value.value if isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool) else None
        if recurse is None:
            return None
        loop = FillLoop(it.func.value, (pair[0], ipair[0]), pair[1], ipair[1], recurse, True, tuple(inner.body), ())  # type: ignore[attr-defined]
    else:
        return None
    lists: list = []
    if not _understood(loop, loop.body, lists):
        return None
    if not lists or any(isinstance(n, ast.Name) and n.id in lists and isinstance(n.ctx, ast.Store) for s in loop.body for n in ast.walk(s)):
        return None
    return FillLoop(loop.model, loop.name_vars, loop.module_var, loop.param_var, loop.recurse, loop.nested, loop.body, tuple(lists))


def _understood(loop: FillLoop, body, lists: list) -> bool:
    for s in body:
        if isinstance(s, (ast.Pass, ast.Continue)):
            continue
        if isinstance(s, ast.If):
            if not (_understood(loop, s.body, lists) and _understood(loop, s.orelse, lists)):
                return False
            continue
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and s.targets[0].id not in (loop.param_var, loop.module_var, *loop.name_vars):
            continue  # (a name of strings: decided when a test reads it)
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            continue  # (a docstring-like comment string)
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) \
                and s.value.func.attr in ("append", "add") and isinstance(s.value.func.value, ast.Name) and len(s.value.args) == 1 \
                and not s.value.keywords and isinstance(s.value.args[0], ast.Name) and s.value.args[0].id == loop.param_var:
            if s.value.func.value.id not in lists:
                lists.append(s.value.func.value.id)
            continue
        return False
    return True


def _type_names(node: ast.AST, imports, modules, scope: Optional[ast.AST], depth: int = 0) -> Optional[list]:
    """The classes a type argument of ``isinstance`` names: ``"torch:<Short>"``, ``"class:<Name>"`` or ``"other"``."""
    if depth > 3:
        return None
    if isinstance(node, ast.Tuple):
        out: list = []
        for e in node.elts:
            got = _type_names(e, imports, modules, scope, depth + 1)
            if got is None:
                return None
            out += got
        return out
    if isinstance(node, ast.Name) and node.id in modules.classes:
        return [f"class:{node.id}"]
    q = imports.qualname(node)
    if q:
        if q.startswith("torch.nn.") and q.rsplit(".", 1)[-1][:1].isupper() or q.startswith("torch.nn.modules."):
            return [f"torch:{q.rsplit('.', 1)[-1]}"]
        return ["other"]
    if isinstance(node, ast.Name) and scope is not None:
        bound = single_binding(scope, node.id)
        if isinstance(bound, (ast.Tuple, ast.List)):
            return _type_names(ast.Tuple(elts=list(bound.elts), ctx=ast.Load()), imports, modules, scope, depth + 1)
    return None


def _class_mro(modules, cls: str, depth: int = 0) -> Optional[set]:
    """``class:``/``torch:`` names of ``cls`` and its bases; None when a base is not known."""
    info = modules.classes.get(cls)
    if info is None or depth > _MAX_DEPTH:
        return None
    out = {f"class:{cls}"}
    for b in info.base_names:
        if b in modules.classes and b != cls:
            sub = _class_mro(modules, b, depth + 1)
            if sub is None:
                return None
            out |= sub
        elif b.startswith("torch.nn."):
            short = b.rsplit(".", 1)[-1]
            if short != "Module" and short not in _KNOWN_TORCH_OWNERS:
                return None
            out |= {f"torch:{short}", *(f"torch:{x}" for x in _TORCH_BASES.get(short, ()))}
        else:
            return None  # (a framework or library base: what it derives from is not known here)
    return out


def is_instance(modules, owner: str, types: list) -> Optional[bool]:
    """``isinstance(<a module of type owner>, types)``; None when it cannot be told."""
    if "torch:Module" in types:
        return True
    if owner.startswith("torch:"):
        # a torch.nn class derives only from torch.nn classes: itself and the bases listed
        mro: Optional[set] = {owner, *(f"torch:{x}" for x in _TORCH_BASES.get(owner[6:], ()))}
        return any(t in mro for t in types)  # type: ignore[operator]
    mro = _class_mro(modules, owner[6:])
    if mro is None:
        return None
    if any(t in mro for t in types):
        return True
    return False if "other" not in types else None


def decide(loop: FillLoop, tree: ModuleTree, modules, imports, consts: dict, scope: Optional[ast.AST]) -> Optional[dict]:
    """For each parameter of ``tree``: the lists the loop appends it to (a set of names; every list when a test on its
    way cannot be decided) and the last test it failed, as ``{param path: (lists, node)}``; None when the visits cannot
    be enumerated."""
    types = dict(tree.modules)
    visits: list = []  # (param path, module path, module type, name within the module)
    ranks = {path: rank for path, _owner, rank in tree.params}
    for path, owner, _rank in tree.params:
        if loop.nested and loop.recurse:
            ancestors = [m for m, _t in tree.modules if m == "" or path.startswith(m + ".")]
        elif loop.nested:
            ancestors = [owner]
        else:
            ancestors = [""]
        for m in ancestors:
            visits.append((path, m, types.get(m), path[len(m) + 1:] if m else path))
    if len(visits) > _MAX_VISITS:
        return None
    out: dict = {}
    for path, mpath, mtype, local in visits:
        env = {loop.name_vars[1]: local}
        if loop.nested:
            env[loop.name_vars[0]] = mpath
        got = _run(loop, loop.body, env, mtype, ranks.get(path), modules, imports, consts, scope)
        lists, last = got
        prev = out.get(path)
        if prev is None:
            out[path] = (lists, last)
        else:
            out[path] = (prev[0] | lists, prev[1] if prev[0] or not lists else last)
    return out


def _run(loop: FillLoop, body, env: dict, mtype: Optional[str], rank: Optional[int], modules, imports, consts: dict, scope) -> tuple:
    """``(lists appended, last test failed)`` for one visit."""
    everything = frozenset(loop.lists)
    got: set = set()
    last: Optional[ast.AST] = None

    def oracle(test: ast.AST):
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance" and len(test.args) == 2 \
                and isinstance(test.args[0], ast.Name) and test.args[0].id == loop.module_var and loop.module_var and mtype is not None:
            names = _type_names(test.args[1], imports, modules, scope)
            if names is None:
                raise Unknown
            verdict = is_instance(modules, mtype, names)
            if verdict is None:
                raise Unknown
            return verdict
        if isinstance(test, ast.Attribute) and test.attr == "requires_grad" and isinstance(test.value, ast.Name) and test.value.id == loop.param_var:
            # ``if not p.requires_grad: continue``: every parameter requires grad when nothing in the file turns it off
            if _may_turn_off_requires_grad(modules):
                raise Unknown
            return True
        return rank_test(test, loop.param_var, rank)

    def block(stmts) -> bool:  # False: the visit ended (``continue``)
        nonlocal last
        for s in stmts:
            if isinstance(s, ast.Continue):
                return False
            if isinstance(s, ast.If):
                flag = truth(evaluate_name_test(s.test, "\0", "", consts, env, oracle))
                if not flag:
                    last = s.test
                if not block(s.body if flag else s.orelse):
                    return False
            elif isinstance(s, ast.Assign):
                name = s.targets[0].id  # type: ignore[attr-defined]
                try:
                    env[name] = _string(s.value, env, consts, oracle)
                except Unknown:
                    env.pop(name, None)
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) and s.value.func.attr in ("append", "add"):
                got.add(s.value.func.value.id)  # type: ignore[attr-defined]
        return True

    try:
        block(body)
    except Unknown:
        return everything, None
    finally:
        block = None  # type: ignore[assignment]  # (the recursive closure refers to itself: break that cycle for the refcounting workers)
    return frozenset(got), (last if not got else None)


# what turns a parameter's requires_grad off (or may: a flag passed in, a frozen pretrained table, a Parameter built
# frozen by position)
_TURNS_OFF = re.compile(r"requires_grad_?\s*[=(]\s*(?!True\b)|\.freeze\(|from_pretrained\(|Parameter\(.*,\s*False\s*\)|requires_grad\s*=\s*False")


def _may_turn_off_requires_grad(modules) -> bool:
    """Does the file's text turn some parameter's ``requires_grad`` off (or may it)? Unknown text: it may."""
    lines = getattr(modules, "_lines", None)
    if lines is None:
        return True
    got = modules.__dict__.get("_turns_off")
    if got is None:
        got = modules.__dict__["_turns_off"] = any(_TURNS_OFF.search(ln) for ln in lines)
    return got


def rank_test(test: ast.AST, var: str, rank: Optional[int]) -> bool:
    """A test on the number of dimensions of the parameter ``var`` (``p.ndim >= 2``, ``p.dim() < 2``, ``len(p.shape) == 1``)
    when it is ``rank``; raises Unknown for anything else."""
    if rank is None or not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        raise Unknown
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if _is_rank_of(right, var) and isinstance(left, ast.Constant):
        left, right = right, left
        op = {ast.Lt: ast.Gt(), ast.Gt: ast.Lt(), ast.LtE: ast.GtE(), ast.GtE: ast.LtE()}.get(type(op), op)
    if not (_is_rank_of(left, var) and isinstance(right, ast.Constant) and isinstance(right.value, int) and not isinstance(right.value, bool)):
        raise Unknown
    n = right.value
    table = {ast.Lt: rank < n, ast.LtE: rank <= n, ast.Gt: rank > n, ast.GtE: rank >= n, ast.Eq: rank == n, ast.NotEq: rank != n}
    if type(op) not in table:
        raise Unknown
    return table[type(op)]


def _is_rank_of(node: ast.AST, var: str) -> bool:
    """``var.ndim``, ``var.dim()``, ``var.ndimension()``, ``len(var.shape)`` / ``len(var.size())``."""
    if isinstance(node, ast.Attribute) and node.attr == "ndim":
        return isinstance(node.value, ast.Name) and node.value.id == var
    if isinstance(node, ast.Call) and not node.args and not node.keywords and isinstance(node.func, ast.Attribute) and node.func.attr in ("dim", "ndimension"):
        return isinstance(node.func.value, ast.Name) and node.func.value.id == var
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
        a = node.args[0]
        if isinstance(a, ast.Attribute) and a.attr == "shape":
            return isinstance(a.value, ast.Name) and a.value.id == var
        if isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr == "size" and not a.args:
            return isinstance(a.func.value, ast.Name) and a.func.value.id == var
    return False


def _string(node: ast.AST, env: dict, consts: dict, oracle):
    """A string a loop body builds from the names (``f"{mn}.{pn}" if mn else pn``, ``"%s.%s" % (mn, pn)``)."""
    if isinstance(node, ast.JoinedStr):
        out = ""
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                out += v.value
            elif isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None:
                got = _string(v.value, env, consts, oracle)
                if not isinstance(got, str):
                    raise Unknown
                out += got
            else:
                raise Unknown
        return out
    if isinstance(node, ast.IfExp):
        flag = truth(evaluate_name_test(node.test, "\0", "", consts, env, oracle))
        return _string(node.body if flag else node.orelse, env, consts, oracle)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _string(node.left, env, consts, oracle), _string(node.right, env, consts, oracle)
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        raise Unknown
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        vals = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        args = tuple(_string(v, env, consts, oracle) for v in vals)
        if not all(isinstance(a, str) for a in args) or node.left.value.count("%s") != len(args) or node.left.value.count("%") != len(args):
            raise Unknown
        return node.left.value % args
    got = evaluate_name_test(node, "\0", "", consts, env, oracle)
    if not isinstance(got, str):
        raise Unknown
    return got


def narrowed_lists(loop: FillLoop, cls: str, modules, imports, consts: dict, scope: Optional[ast.AST]) -> Optional[dict]:
    """``{list name: (kept part paths, [(left-out part path, node)])}``: the parts of an instance of ``cls`` each list
    the loop fills holds (whole or in part) and the parts it leaves out whole, with the test that did; None when the
    loop cannot be decided."""
    tree = module_tree(modules, imports, cls)
    if tree is None:
        return None
    decided = decide(loop, tree, modules, imports, consts, scope)
    if decided is None:
        return None
    unknown = tree.unknown
    out: dict = {}
    for name in loop.lists:
        why: dict = {}

        def keep(path: str, names, name=name, why=why) -> Optional[bool]:
            if any(u == path or u.startswith(path + ".") or path.startswith(u + ".") for u in unknown):
                return None
            inside = [(p, d) for p, d in decided.items() if p == path or p.startswith(path + ".")]
            if not inside:
                return None
            flags = {name in lists for _p, (lists, _n) in inside}
            if flags == {False}:
                nodes = {id(n): n for _p, (_l, n) in inside if n is not None}
                why[path] = next(iter(nodes.values())) if len(nodes) == 1 else None
                return False
            return True if flags == {True} else None

        dropped: list = []
        kept = narrowed_parts(modules, imports, cls, keep, dropped=dropped)
        if kept is None:
            return None
        out[name] = (kept, [(p, why.get(p)) for p in dropped])
    return out
