"""Shared helpers of the leaf / requires_grad / in-place rules (GG4xx, GG6xx, GG7xx)."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.flow import UNKNOWN, FunctionFlow
from gradguard.core.semantic import VALUE_KINDS
from gradguard.core.torchapi import GRAD_DISABLING, INFERENCE, PARAMETER_CTORS, is_module_ctor


def leaf_creation_calls(facts) -> list:
    """The calls that may create a leaf (``nn.Parameter(...)`` under any import alias, ``requires_grad=...``,
    ``.requires_grad_(...)``), and others near them: the calls of the statements whose lines hold one of
    those words. A superset of what GG403/GG404 look at, found without indexing every expression."""
    words = {"requires_grad", "requires_grad_", "Parameter"}
    words |= {name for name, q in facts.imports.aliases.items() if q in PARAMETER_CTORS}
    return facts.nodes_near(ast.Call, words)


def known_roots(v) -> set:
    """Live roots of a value that are objects of this program (not ``arg:N`` / unknown)."""
    if v is None:
        return set()
    return {r for r in v.live if r != UNKNOWN and not r.startswith("arg:")}


def lexically_no_grad(facts, node: ast.AST) -> bool:
    """Is ``node`` inside ``with torch.no_grad()`` / ``inference_mode`` or a function decorated with them?"""
    cur = facts.parent(node)
    while cur is not None:
        if isinstance(cur, (ast.With, ast.AsyncWith)):
            for item in cur.items:
                ctx = item.context_expr
                q = facts.imports.qualname(ctx.func if isinstance(ctx, ast.Call) else ctx) or ""
                if q in GRAD_DISABLING or q in INFERENCE:
                    return True
                if q.endswith("set_grad_enabled"):
                    return True  # mode unknown: treat as possibly disabled
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in cur.decorator_list:
                q = facts.imports.qualname(d.func if isinstance(d, ast.Call) else d) or ""
                if q in GRAD_DISABLING or q in INFERENCE:
                    return True
        cur = facts.parent(cur)
    return False


def runs_without_grad(facts, node: ast.AST) -> bool:
    """Does ``node`` only ever run with gradients off? Lexically (``lexically_no_grad``), or in a function every use of
    whose name in the program is a call that itself only runs with gradients off (``score`` called only from a
    ``@torch.no_grad()`` ``decode_step``; a helper of an optimizer's ``@torch.no_grad()`` ``step``): a function runs in
    its callers' grad mode. A function never called by name (an entry point, ``forward``, a hook) or whose name is
    also used otherwise (passed as a callback) may run with gradients on."""
    if lexically_no_grad(facts, node):
        return True
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return fn is not None and _only_called_without_grad(facts, fn, set())


def _only_called_without_grad(facts, fn: ast.AST, visiting: set) -> bool:
    if id(fn) in visiting:
        return False  # (recursion: not decided by its own calls)
    visiting.add(id(fn))
    refs = _name_uses(facts).get(getattr(fn, "name", ""), ())
    if not refs:
        return False
    for ref in refs:
        call = facts.parent(ref)
        if not (isinstance(call, ast.Call) and call.func is ref):
            return False  # the name read as a value (a callback, a hook): called we know not where
        if lexically_no_grad(facts, call):
            continue
        caller = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
        if caller is None or caller is fn or not _only_called_without_grad(facts, caller, visiting):
            return False
    return True


def _name_uses(facts) -> dict:
    """name -> the ``Name`` loads and ``Attribute`` reads of that name in the program (built once per file)."""
    got = getattr(facts, "_gg_name_uses", None)
    if got is None:
        got = {}
        for n in walk_nodes(facts.tree):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                got.setdefault(n.id, []).append(n)
            elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                got.setdefault(n.attr, []).append(n)
        facts._gg_name_uses = got
    return got


def call_sites(facts, fn: ast.AST) -> list:
    """Calls of an in-file function or method by name (``f(...)``, ``self.f(...)``, ``obj.f(...)``)."""
    name = getattr(fn, "name", None)
    if not name:
        return []
    out = []
    for node in walk_nodes(facts.tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == name) or (isinstance(f, ast.Attribute) and f.attr == name):
                out.append(node)
    return out


def flow_of(facts, node: ast.AST) -> Optional[FunctionFlow]:
    """The flow of the function (or module) whose code holds ``node``: that one alone is walked, not every function."""
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return facts.flow.flow(fn if fn is not None else facts.tree)


def freeze_nodes(facts) -> list:
    """Places where the file turns requires_grad off (``requires_grad_(False)``, ``.requires_grad = False``)."""
    cached = getattr(facts, "_gg_freezes", None)
    if cached is not None:
        return cached
    found: list[ast.AST] = []
    for node in walk_nodes(facts.tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Attribute) \
                and node.iter.func.attr == "parameters":
            # ``for p in ema.parameters(): p.detach_()``: a parameter detached in place no longer requires grad
            found.extend(n for n in walk_nodes(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "detach_"
                         and isinstance(n.func.value, ast.Name) and n.func.value.id == node.target.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
            a = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "requires_grad"), None)
            if a is not None and not (isinstance(a, ast.Constant) and a.value is True):
                found.append(node)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and t.attr == "requires_grad":
                    if not (isinstance(node.value, ast.Constant) and node.value.value is True):
                        found.append(t)
    facts._gg_freezes = found
    return found


def freezes_anything(facts, exclude=None) -> bool:
    """Does the file turn requires_grad off anywhere (other than at ``exclude``)?"""
    return any(n is not exclude for n in freeze_nodes(facts))


def class_of_root(fl: FunctionFlow, facts, root: str) -> Optional[str]:
    """In-file class a root name was created from (``model = Net()``) in ``fl``, or the owner for ``self``."""
    if root == "self":
        return fl.owner
    for node in facts.own_nodes(fl.node):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == root:
            v = node.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in facts.modules.classes:
                return v.func.id
    return None


def module_ctor_of(facts, value: ast.AST) -> Optional[str]:
    """'torch' for ``nn.Linear(...)``-like ctors, the class name for in-file Module classes, else None."""
    if not isinstance(value, ast.Call):
        return None
    q = facts.imports.qualname(value.func) or ""
    if q and is_module_ctor(q):
        return "torch:" + q
    if isinstance(value.func, ast.Name):
        info = facts.modules.classes.get(value.func.id)
        if info is not None and info.is_module:
            return value.func.id
    return None


def attr_assignments(facts, cls: str, attr: str) -> list:
    """Values assigned to ``self.<attr>`` in class ``cls`` (and its in-file bases)."""
    out = []
    seen = set()
    while cls in facts.modules.classes and cls not in seen:
        seen.add(cls)
        info = facts.modules.classes[cls]
        for node in walk_nodes(info.node):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == "self":
                        out.append(node.value)
        nxt = [b for b in info.base_names if b in facts.modules.classes]
        if not nxt:
            break
        cls = nxt[0]
    return out


def reads_self_attr(facts, cls: str, attr: str) -> bool:
    """Does class ``cls`` (or an in-file base) read ``self.<attr>``?"""
    seen = set()
    while cls in facts.modules.classes and cls not in seen:
        seen.add(cls)
        info = facts.modules.classes[cls]
        for node in walk_nodes(info.node):
            # (``self.requires_grad`` itself: ``p.requires_grad`` of a parameter in ``num_parameters()`` is another object's)
            if isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name) and node.value.id == "self":
                return True
        nxt = [b for b in info.base_names if b in facts.modules.classes]
        if not nxt:
            break
        cls = nxt[0]
    return False


def _single_ctor(facts, values: list) -> Optional[str]:
    """The one module constructor every assigned value comes from, else None."""
    if not values:
        return None
    kinds = {module_ctor_of(facts, v) for v in values}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def _argument_class(facts, fl: FunctionFlow, name: str) -> Optional[str]:
    """The Module class every caller in this file passes as parameter ``name`` of a plain function
    (``def freeze_backbone(model)`` called as ``freeze_backbone(net)`` with ``net = Net()``), else None."""
    fn = fl.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fl.owner is not None:
        return None
    active = facts.__dict__.setdefault("_gg_argument_class_active", set())
    if (id(fn), name) in active or len(active) > 4:  # recursion, or a chain too long to matter
        return None
    active.add((id(fn), name))
    try:
        return _argument_class_of_calls(facts, fn, name)
    finally:
        active.discard((id(fn), name))


def _argument_class_of_calls(facts, fn, name: str) -> Optional[str]:
    params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]
    index = params.index(name) if name in params else None
    found = set()
    for call in facts.walk(ast.Call):
        if not (isinstance(call.func, ast.Name) and call.func.id == fn.name):
            continue
        arg = call.args[index] if index is not None and index < len(call.args) else next((k.value for k in call.keywords if k.arg == name), None)
        if arg is None:
            return None
        caller = flow_of(facts, call)
        if caller is None:
            return None
        found.add(module_class_of_expr(facts, caller, arg) if not (isinstance(arg, ast.Name) and caller.node is fn) else None)
    return found.pop() if len(found) == 1 and None not in found else None


def module_class_of_expr(facts, fl: FunctionFlow, expr: ast.AST) -> Optional[str]:
    """Is ``expr`` certainly an nn.Module? Returns 'torch:<qualname>' or an in-file Module class name.

    Handles a local created by a module ctor (``model = Net()``, ``enc = nn.Linear(...)``), ``self`` in a
    Module class, and attribute chains of submodules assigned only module ctors in ``__init__``.
    """
    if isinstance(expr, ast.Name):
        if expr.id == "self":
            if fl.owner and facts.modules.classes.get(fl.owner) and facts.modules.classes[fl.owner].is_module:
                return fl.owner
            return None
        reaching = facts.semantic.reaching(fl.node, expr.id, expr, facts.parent)
        if reaching and all(b.kind == "for" for b in reaching):
            # ``for layer in model.encoder.layers[-2:]``: an element of a module container is a Module
            items = {_container_item(facts, fl, b.node, expr.id) for b in reaching}
            return items.pop() if len(items) == 1 else None
        if any(b.kind == "param" for b in reaching):
            return _argument_class(facts, fl, expr.id) if len(reaching) == 1 else None
        if any(b.kind not in VALUE_KINDS or b.value is None for b in reaching):
            return None
        values = [b.value for b in reaching]
        return _single_ctor(facts, values)
    if isinstance(expr, ast.Attribute):
        base = module_class_of_expr(facts, fl, expr.value)
        if base is None or base.startswith("torch:"):
            return None
        values = attr_assignments(facts, base, expr.attr)
        return _single_ctor(facts, values)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr" and len(expr.args) == 2 \
            and facts.imports.qualname(expr.func) is None and "getattr" not in facts.flow.functions:
        # ``getattr(model, name)``: with a constant name, that attribute; with a computed one (a list of names from a
        # config), a module when every attribute the class and its in-file bases assign in ``__init__`` is one
        base = module_class_of_expr(facts, fl, expr.args[0])
        if base is None or base.startswith("torch:"):
            return None
        key = expr.args[1]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return _single_ctor(facts, attr_assignments(facts, base, key.value))
        return "torch:module" if _only_submodules(facts, base) else None
    if isinstance(expr, ast.Call):
        return _single_ctor(facts, [expr])  # ``freeze(Net())``: the module built right there
    if isinstance(expr, ast.Subscript):
        base = module_class_of_expr(facts, fl, expr.value)
        if base in ("torch:torch.nn.Sequential", "torch:torch.nn.ModuleList", "torch:torch.nn.ModuleDict"):
            if isinstance(expr.slice, ast.Constant):
                return "torch:item-of-" + base[6:]
            if isinstance(expr.slice, ast.Slice) and base != "torch:torch.nn.ModuleDict":
                return base  # a slice of a Sequential / ModuleList is one of the same kind
        return None
    return None


def _only_submodules(facts, cls: str) -> bool:
    """Does every attribute in-file class ``cls`` (and its in-file bases) assigns hold a module built by a constructor?"""
    mm = facts.modules
    seen: set = set()
    c: Optional[str] = cls
    found = False
    while c is not None and c in mm.classes and c not in seen:
        seen.add(c)
        for attr in mm.classes[c].attr_values:
            if _single_ctor(facts, attr_assignments(facts, c, attr)) is None:
                return False
            found = True
        nxt = [b for b in mm.classes[c].base_names if b in mm.classes]
        c = nxt[0] if nxt else None
    return found


def _container_item(facts, fl: FunctionFlow, loop: ast.AST, name: str) -> Optional[str]:
    """``for <name> in <container>``: 'torch:item-of-<container>' when the loop walks the elements of a
    Sequential or ModuleList (or the values of a ModuleDict), which are Modules; else None."""
    if not (isinstance(loop, (ast.For, ast.AsyncFor)) and isinstance(loop.target, ast.Name) and loop.target.id == name):
        return None
    it = loop.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "values" and not it.args and not it.keywords:
        base = module_class_of_expr(facts, fl, it.func.value)
        return "torch:item-of-torch.nn.ModuleDict" if base == "torch:torch.nn.ModuleDict" else None
    if isinstance(it, ast.Name) and isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and fl.owner is None:
        reaching = facts.semantic.reaching(fl.node, it.id, it, facts.parent)
        if len(reaching) == 1 and reaching[0].kind == "param":
            # ``def freeze(*modules): for m in modules``, or ``freeze_all(mods)`` given ``[model.embed, model.head]``
            return _element_class(facts, fl, it.id)
    base = module_class_of_expr(facts, fl, it)
    if base in ("torch:torch.nn.Sequential", "torch:torch.nn.ModuleList"):
        return "torch:item-of-" + base[6:]
    return None


def _element_class(facts, fl: FunctionFlow, name: str) -> Optional[str]:
    """The Module class of every element of parameter ``name`` of a plain function, when every call in this file
    passes only modules there: as the extra positional arguments of a ``*name`` parameter (``freeze(model.embed,
    model.layers[0])``), or as a list / tuple literal (``freeze_all([model.embed, model.head])``). An in-file class
    when they all are that class; ``torch:torch.nn.Module`` when they are all torch layers; None otherwise."""
    fn = fl.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    active = facts.__dict__.setdefault("_gg_argument_class_active", set())
    if (id(fn), name) in active or len(active) > 4:
        return None
    active.add((id(fn), name))
    try:
        params = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]
        star = fn.args.vararg is not None and fn.args.vararg.arg == name
        if not star and name not in params:
            return None
        found: set = set()
        for call in facts.walk(ast.Call):
            if not (isinstance(call.func, ast.Name) and call.func.id == fn.name):
                continue
            if star:
                elts = call.args[len(params):]
            else:
                i = params.index(name)
                arg = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if k.arg == name), None)
                if arg is not None and not isinstance(arg, (ast.List, ast.Tuple)):
                    # ``unfreeze_top(model.encoder.layers[-2:])``: a Sequential / ModuleList (or a slice of one)
                    # iterates over its modules
                    caller = flow_of(facts, call)
                    whole = module_class_of_expr(facts, caller, arg) if caller is not None and caller.node is not fn else None
                    if whole is None or whole not in ("torch:torch.nn.Sequential", "torch:torch.nn.ModuleList"):
                        return None
                    found.add("torch:item-of-" + whole[6:])
                    continue
                if not isinstance(arg, (ast.List, ast.Tuple)):
                    return None
                elts = arg.elts
            caller = flow_of(facts, call)
            if caller is None or caller.node is fn or any(isinstance(e, ast.Starred) for e in [*call.args, *elts]):
                return None
            for e in elts:
                found.add(module_class_of_expr(facts, caller, e))
        if not found or None in found:
            return None
        if len(found) == 1:
            return found.pop()
        return "torch:torch.nn.Module" if all(c.startswith("torch:") for c in found) else None
    finally:
        active.discard((id(fn), name))


NOT_COMPUTING_METHODS = {
    "to", "cuda", "cpu", "type", "float", "double", "half", "bfloat16", "detach", "detach_", "requires_grad_",
    "get", "pop", "setdefault", "values", "items", "keys", "parameters", "named_parameters", "__getitem__",
    "data", "item", "numpy", "tolist", "contiguous", "view_as", "as_subclass", "copy", "share_memory_",
}
NOT_COMPUTING_CALLS = {"next", "list", "tuple", "dict", "iter", "getattr", "copy", "deepcopy", "id", "sorted", "reversed", "max", "min", "sum"}


def _returns_computed(facts, name: str, depth: int) -> bool:
    """``name`` is the file's one top-level function and every value it returns is computed by an operation
    (``def normalize(x): return (x - mean) / std``): calling it makes a new tensor."""
    if depth > 2:
        return False
    bds = facts.semantic.bindings(facts.tree, name)
    if len(bds) != 1 or not isinstance(bds[0].node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    fn = bds[0].node
    values = facts.return_values(fn)
    callee = facts.flow.flow(fn)
    return values is not None and all(is_computing_expr(facts, callee, v, depth + 1) for v in values)


def _method_returns_computed(facts, fl: FunctionFlow, name: str, depth: int) -> bool:
    """``name`` is a method of the class ``fl`` belongs to, and every value it returns is computed by an operation
    (``@staticmethod def normalize(x): return (x - MEAN) / STD``)."""
    if depth > 2 or not fl.owner or name.startswith("_"):
        return False
    fn = facts.modules.method(fl.owner, name)
    if fn is None:
        return False
    values = facts.return_values(fn)
    callee = facts.flow.flow(fn)
    return bool(values) and all(is_computing_expr(facts, callee, v, depth + 1) for v in values)


def is_computing_expr(facts, fl: FunctionFlow, node: ast.AST, depth: int = 0) -> bool:
    """Syntactically an operation that produces a new tensor (a BinOp, a torch function, a tensor method that
    computes, or calling a module), not an accessor that may return an existing leaf."""
    if isinstance(node, (ast.BinOp,)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return True
    if not isinstance(node, ast.Call):
        return False
    q = facts.imports.qualname(node.func)
    if q is not None:
        if not q.startswith("torch."):
            return False
        short = q.rsplit(".", 1)[-1]
        from gradguard.core.torchapi import FACTORIES

        if short in FACTORIES or q.startswith("torch.nn.init") or is_module_ctor(q) or short in ("Parameter", "from_numpy"):
            return False
        return not q.startswith("torch.optim") and not q.startswith("torch.utils")
    if isinstance(node.func, ast.Name):
        return module_class_of_expr(facts, fl, node.func) is not None or _returns_computed(facts, node.func.id, depth)
    if isinstance(node.func, ast.Attribute):
        if node.func.attr in NOT_COMPUTING_METHODS or node.func.attr.startswith("_"):
            return False
        if isinstance(node.func.value, ast.Name) and node.func.value.id in ("self", "cls"):
            # self.fc(x); and self.normalize(x), a method of the class every value of which is computed (not an accessor)
            return module_class_of_expr(facts, fl, node.func) is not None or _method_returns_computed(facts, fl, node.func.attr, depth)
        return True
    if isinstance(node.func, ast.Call):
        # ``model.get_input_embeddings()(ids)``: applying what a call returned (a layer, a function) computes a new value
        return True
    return False


def simple_bindings(facts, fl: FunctionFlow, name: str) -> Optional[list]:
    """The ``name = <expr>`` statements of a function, or None when ``name`` is also bound some other way
    (a parameter, a loop/with/comprehension target, tuple unpacking, global/nonlocal, augmented assignment)."""
    return facts.semantic.plain_assignments(fl.node, name)


def _grad_test(test: ast.AST) -> Optional[bool]:
    """True if ``test`` holds only when gradients are being recorded (``self.training``,
    ``x.requires_grad``, ``torch.is_grad_enabled()``), False for the negation, None otherwise."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _grad_test(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.Attribute) and test.attr in ("training", "requires_grad"):
        return True
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "is_grad_enabled":
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant) and isinstance(test.comparators[0].value, bool):
        inner = _grad_test(test.left)
        if inner is None:
            return None
        positive = isinstance(test.ops[0], (ast.Eq, ast.Is)) == test.comparators[0].value
        return inner if positive else not inner
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        vals = [_grad_test(v) for v in test.values]
        if False in vals:
            return False
    return None


def inference_branch(facts, node: ast.AST) -> bool:
    """Is ``node`` in a branch that runs only without gradient recording (``if not self.training:``,
    the ``else`` of ``if x.requires_grad:``)?"""
    child, cur = node, facts.parent(node)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, (ast.If, ast.IfExp)):
            t = _grad_test(cur.test)
            in_body = child in (cur.body if isinstance(cur.body, list) else [cur.body])
            in_else = child in (cur.orelse if isinstance(cur.orelse, list) else [cur.orelse])
            if (t is False and in_body) or (t is True and in_else):
                return True
        child, cur = cur, facts.parent(cur)
    return False
