"""GG302 unregistered-module-container: layers (or Parameters) kept in a plain list/dict on an ``nn.Module``."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.astindex import statements_of_type, walk_nodes
from gradguard.core.classes import may_have_parameters, self_attr, self_name
from gradguard.core.model import Applicability, Edit, Pos, Severity
from gradguard.core.torchapi import PARAMETER_CTORS, PARAMLESS_SUFFIXES, is_module_ctor, is_optimizer_ctor
from gradguard.fixes import ensure_import, fix, insert_before_stmt, replace_node
from gradguard.rules.base import Example, Rule

_LIST_OK = {"append", "extend", "insert", "pop", "__len__", "__iter__", "__getitem__", "<call>"}
_DICT_OK = {"clear", "items", "keys", "pop", "update", "values"}
_PLIST_OK = {"append", "extend"}
_PDICT_OK = {"clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"}


class _Kinds:
    def __init__(self, facts):
        self.facts = facts
        self._cls_cache: dict = {}
        self._fn_cache: dict = {}

    def element(self, node: ast.AST, local: dict) -> Optional[str]:
        """'module' for a layer with parameters, 'param' for an nn.Parameter, else None."""
        if isinstance(node, ast.Name) and node.id in local:
            node = local[node.id]
        if not isinstance(node, ast.Call):
            return None
        q = self.facts.imports.qualname(node.func) or ""
        if q in PARAMETER_CTORS:
            return "param"
        if is_module_ctor(q):
            short = q.rsplit(".", 1)[-1]
            if short.endswith(PARAMLESS_SUFFIXES) or short in ("ModuleList", "ModuleDict") and not node.args:
                return None
            return "module"
        if isinstance(node.func, ast.Name) and node.func.id not in self.facts.modules.classes:
            through = self._returns_argument(node.func.id)
            if through is not None and through < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args):
                # ``zero_module(nn.Conv2d(...))``: a helper that initializes the layer it is given and returns it
                return self.element(node.args[through], local)
            return self._helper_returns(node.func.id, local)
        if isinstance(node.func, ast.Name) and node.func.id in self.facts.modules.classes:
            info = self.facts.modules.classes[node.func.id]
            if info.is_module is True:
                if info.name not in self._cls_cache:
                    self._cls_cache[info.name] = may_have_parameters(self.facts, info)
                return "module" if self._cls_cache[info.name] else None
        return None

    def helper_container(self, value: ast.AST, info=None, sn: str = "self") -> Optional[tuple]:
        """``make_layers(n)``: a module-level function of this file, or ``self._build_layers(cfg)``: a method of
        the class (or an in-file base), whose every ``return`` gives a plain list (or dict) of one kind of element
        (a literal, a comprehension, or a local list filled with ``append``). (container kind, element kind,
        where the container is made) or None."""
        if not isinstance(value, ast.Call):
            return None
        if isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Call):
            # ``tuple(make_blocks(cfg))``: the helper's list, kept as a tuple (or copied into a list)
            inner = self.helper_container(value.args[0], info, sn)
            return (value.func.id, *inner[1:]) if inner is not None and inner[0] in ("list", "tuple") else None
        if isinstance(value.func, ast.Name):
            name = value.func.id
        elif info is not None and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name) and value.func.value.id in (sn, "cls", info.name):
            name = f"{info.name}.{value.func.attr}"
        else:
            return None
        key = ("container", name)
        if key in self._fn_cache:
            return self._fn_cache[key]
        self._fn_cache[key] = None
        # (the function is looked up once per name: the answer is cached)
        if isinstance(value.func, ast.Name):
            fn = next((st for st in self.facts.tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name), None)
        else:
            fn = self.facts.modules.method(info.name, value.func.attr)
        if fn is None:
            return None
        local = _locals_from_ctor(fn)
        rets = [n.value for n in walk_nodes(fn) if isinstance(n, ast.Return)]
        shapes = set()
        made: Optional[ast.AST] = None
        for r in rets:
            ckind, elts = _container_elements(r) if r is not None else (None, [])
            made = made or r
            if ckind is None and isinstance(r, ast.Name):
                ckind, elts = _filled_local(fn, r.id)
                made = _local_creation(fn, r.id) or made
            if ckind is None or not elts:
                return None
            ek = {self.element(e, local) for e in elts} - {None}
            if len(ek) != 1:
                return None
            shapes.add((ckind, ek.pop()))
        got = (*shapes.pop(), made) if len(shapes) == 1 else None
        self._fn_cache[key] = got
        return got

    def _returns_argument(self, name: str) -> Optional[int]:
        """The position of the parameter a module-level function returns as it was given, on every ``return``
        (``def zero_module(m): ...; return m``), else None."""
        key = ("through", name)
        if key in self._fn_cache:
            return self._fn_cache[key]
        self._fn_cache[key] = None
        fn = next((st for st in self.facts.tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name), None)
        if fn is None or fn.args.vararg is not None:
            return None
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        rets = [n.value for n in walk_nodes(fn) if isinstance(n, ast.Return)]
        names = {r.id for r in rets if isinstance(r, ast.Name)}
        if not rets or len(names) != 1 or not all(isinstance(r, ast.Name) for r in rets):
            return None
        name_ = names.pop()
        if name_ not in params or any(isinstance(n, ast.Name) and n.id == name_ and isinstance(n.ctx, ast.Store) for n in walk_nodes(fn)):
            return None
        self._fn_cache[key] = params.index(name_)
        return self._fn_cache[key]

    def _helper_returns(self, name: str, local: dict) -> Optional[str]:
        """A module-level function whose every ``return`` builds the same kind of element (``def conv_stage(...):
        return nn.Sequential(...)``): calling it yields that element."""
        if name in self._fn_cache:
            return self._fn_cache[name]
        self._fn_cache[name] = None  # recursion guard
        fn = next((st for st in self.facts.tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name), None)
        if fn is None:
            return None
        rets = [n.value for n in walk_nodes(fn) if isinstance(n, ast.Return)]
        kinds = {self.element(r, {}) if r is not None else None for r in rets}
        kind = kinds.pop() if len(kinds) == 1 else None
        self._fn_cache[name] = kind
        return kind


def _is_dataclass(node: ast.ClassDef) -> bool:
    for d in node.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        if (isinstance(f, ast.Name) and f.id == "dataclass") or (isinstance(f, ast.Attribute) and f.attr == "dataclass"):
            return True
    return False


def _local_creation(fn: ast.AST, name: str) -> Optional[ast.AST]:
    """The value of ``name = []`` / ``{}`` in ``fn``: where a filled local container is made."""
    for node in walk_nodes(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def _filled_local(fn: ast.AST, name: str) -> tuple:
    """(kind, elements) of a local ``name = []`` / ``{}`` that ``fn`` only fills (``name.append(x)``,
    ``name[k] = x``) before returning it; (None, []) when it is anything else."""
    kind = None
    elts: list = []
    for node in walk_nodes(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if kind is not None:
                return None, []
            kind = "list" if isinstance(node.value, ast.List) and not node.value.elts else ("dict" if isinstance(node.value, ast.Dict) and not node.value.keys else None)
            if kind is None:
                return None, []
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == name:
            if node.func.attr in ("append", "insert") and node.args:
                elts.append(node.args[-1])
            elif node.func.attr == "extend" and node.args:
                sub = _container_elements(node.args[0])[1]
                if not sub:
                    return None, []
                elts.extend(sub)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in node.targets):
            elts.append(node.value)
    return (kind, elts) if kind else (None, [])


def _container_elements(value: ast.AST) -> tuple:
    """(kind, element nodes) of a literal container: kind list/dict/tuple; comprehensions included."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return ("list" if isinstance(value, ast.List) else "tuple"), list(value.elts)
    if isinstance(value, ast.ListComp):
        return "list", [value.elt]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and len(value.args) == 1 and not value.keywords \
            and isinstance(value.args[0], (ast.GeneratorExp, ast.ListComp, ast.List, ast.Tuple)):
        # ``tuple(Block(d) for _ in range(n))``, ``list([...])``: the same elements, in a list or a tuple
        inner = value.args[0]
        return value.func.id, [inner.elt] if isinstance(inner, (ast.GeneratorExp, ast.ListComp)) else list(inner.elts)
    if isinstance(value, ast.Dict):
        return "dict", [v for v in value.values if v is not None]
    if isinstance(value, ast.DictComp):
        return "dict", [value.value]
    return None, []


def _is_empty_container(facts, value: ast.AST) -> Optional[str]:
    if isinstance(value, ast.List) and not value.elts:
        return "list"
    if isinstance(value, ast.Dict) and not value.keys:
        return "dict"
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        if isinstance(value.func, ast.Name) and value.func.id in ("list", "dict"):
            return value.func.id
        q = facts.imports.qualname(value.func) or ""
        if q == "collections.OrderedDict":
            return "dict"
    return None


def _locals_from_ctor(method: ast.AST) -> dict:
    """name -> the call assigned to it (last one wins) in this method: ``layer = nn.Linear(..)``."""
    out: dict = {}
    for node in statements_of_type(method, ast.Assign):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call):
            out[node.targets[0].id] = node.value
    return out


def _attr_uses(info, attr: str) -> set:
    """Methods called on ``self.<attr>`` anywhere in the class (``items``, ``get``, ...), and ``<call>`` when it
    is passed to a function other than ``len``/``list``/``tuple``/``iter``/``enumerate``/``zip``/``reversed``
    (``torch.stack(self.prompts)`` takes a list or tuple, never a ``ParameterList``)."""
    out = set()
    for m in info.methods.values():
        sn = self_name(m)
        for node in walk_nodes(m):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and self_attr(node.value, sn) == attr:
                out.add(node.attr)
            elif isinstance(node, ast.Call) and any(self_attr(a, sn) == attr for a in node.args):
                if not (isinstance(node.func, ast.Name) and node.func.id in _NEUTRAL_CALLS):
                    out.add("<call>")
    return out


_NEUTRAL_CALLS = {"len", "list", "tuple", "iter", "enumerate", "zip", "reversed", "sorted", "isinstance", "print"}


def _assignments(info, attr: str) -> list:
    out = []
    for m in info.methods.values():
        sn = self_name(m)
        for node in walk_nodes(m):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(self_attr(t, sn) == attr for t in targets) and node.value is not None:
                    out.append(node.value)
    return out


class UnregisteredModuleContainer(Rule):
    code = "GG302"
    name = "unregistered-module-container"
    summary = "Layers kept in a plain Python list or dict on an `nn.Module` are not registered: they are never trained or saved."
    severity = Severity.WARNING
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags a plain `list`, `tuple` or `dict` of layers with parameters (or of `nn.Parameter`s) stored on an
`nn.Module` subclass: `self.heads = {"a": nn.Linear(..)}`, `self.blocks = [Block() for _ in range(n)]`,
or an empty `self.heads = {}` / `self.layers = []` filled with layers in a loop (reported where a layer
is put in), or the plain list a helper of the file (or a method of the class) builds and returns
(`self.layers = make_layers(n)`, `self.layers = self._build_layers(config)`), also copied into a tuple or list
(`self.blocks = tuple(make_blocks(cfg))`, `tuple(Block(d) for _ in range(n))`), or the container a constructor is
given (`self.layers = layers`, `list(layers)`, `[*layers]`, a `*others` tuple) when every construction of the class
in the file passes layers that the caller does not train or register otherwise (an ensemble of models that are
trained on their own keeps them in a plain list on purpose). Containers registered later (`nn.ModuleList(self.layers)`, or `add_module`, `setattr`,
`register_module` given the container's own layers) and containers of parameter-free modules (activations, losses) are left alone. A call that registers something
else (`register_buffer("centers", ...)`, `add_module("head", nn.Linear(...))`) does not register the container's layers.
An object of a plain class of the file (not an `nn.Module`) that builds its own layers and is kept on a Module
(`self.items = ItemStore(n, d)` whose `__init__` sets `self.table = nn.Embedding(n, d)`), used by the Module's
methods (or, when no other class of the file has an attribute of that name, called or read through the model outside
its class: `loss = model.margin(model(x), y)` in the training loop), is the same container: reported on the plain class,
whose fix derives it from `nn.Module`. Plain helpers
that hold a copy of the model (an EMA shadow), stand in for a Module (their own `parameters()`), or whose layers the
Module registers itself (`self.table = self.items.table`) or hands out (`self.items.table.parameters()`) are left alone.
So is an object of an in-file `@dataclass` built with layers (`self.heads = TaskHeads(sentiment=nn.Linear(...),
topic=nn.Linear(...))`) and used by the Module's methods: reported where the Module keeps it (no fix: keep them in an
`nn.ModuleDict`). A `copy.deepcopy` of a constructor argument kept in a plain container is a new object with its own
parameters: reported when the class calls the copies (`self.copies[k](x)`, so they are Modules) and switches them
on (`self.copies[k].requires_grad_(True)`), as PEFT-style `modules_to_save` wrappers do; a frozen copy hidden in a
list on purpose (a teacher, `requires_grad_(False)`) is left alone.

## Why is this bad?
`nn.Module` only registers attributes that are Modules or Parameters. Layers inside a plain container are
invisible to `model.parameters()`, `state_dict()`, `.to(device)`, `.train()/.eval()`: the optimizer never
updates them, so they stay at their random initialization while training appears to run fine, and
checkpoints silently miss them.

## Example
```python
self.heads = {}
for task, n in tasks.items():
    self.heads[task] = nn.Linear(dim, n)
```

## Use instead
```python
self.heads = nn.ModuleDict()
for task, n in tasks.items():
    self.heads[task] = nn.Linear(dim, n)
```

## Fix safety
Wrapping the container in `nn.ModuleList(...)` / `nn.ModuleDict(...)` / `nn.ParameterList(...)` keeps
indexing, iteration, `len`, `append` and `items()` working and registers the layers. The fix is not
offered when the container is used with methods the torch container lacks, and is marked unsafe when
dict keys might not be strings (`nn.ModuleDict` requires string keys).
"""
    examples = (
        Example(
            name="helper-fills-a-plain-dict-of-adapters",
            code="""import torch
import torch.nn as nn


class Adapter(nn.Module):
    def __init__(self, d, r=2):
        super().__init__()
        self.down = nn.Linear(d, r, bias=False)
        self.up = nn.Linear(r, d, bias=False)

    def forward(self, x):
        return self.up(self.down(x))


class Encoder(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(d, d) for _ in range(2)])
        self.adapters = {}

    def forward(self, x):
        for i, blk in enumerate(self.blocks):
            x = torch.relu(blk(x))
            if str(i) in self.adapters:
                x = x + self.adapters[str(i)](x)
        return x


def add_adapters(model, d=4):
    for i in range(len(model.blocks)):
        adapter = Adapter(d)
        model.adapters[str(i)] = adapter
    return model


def main():
    torch.manual_seed(0)
    model = add_adapters(Encoder())
    up0 = model.adapters["0"].up.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"adapter_changed": not torch.equal(up0, model.adapters["0"].up.weight)}
""",
            lines=(32,),
            expect={'grad_ok': ['model.blocks.0.weight'], 'facts': {'adapter_changed': False}},
            fixed_expect={'facts': {'adapter_changed': True}},
        ),
        Example(
            bad=False,
            name="helper-fills-a-module-dict-of-adapters",
            code="""import torch
import torch.nn as nn


class Adapter(nn.Module):
    def __init__(self, d, r=2):
        super().__init__()
        self.down = nn.Linear(d, r, bias=False)
        self.up = nn.Linear(r, d, bias=False)

    def forward(self, x):
        return self.up(self.down(x))


class Encoder(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(d, d) for _ in range(2)])
        self.adapters = nn.ModuleDict()

    def forward(self, x):
        for i, blk in enumerate(self.blocks):
            x = torch.relu(blk(x))
            if str(i) in self.adapters:
                x = x + self.adapters[str(i)](x)
        return x


def add_adapters(model, d=4):
    for i in range(len(model.blocks)):
        adapter = Adapter(d)
        model.adapters[str(i)] = adapter
    return model


def main():
    torch.manual_seed(0)
    model = add_adapters(Encoder())
    up0 = model.adapters["0"].up.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"adapter_changed": not torch.equal(up0, model.adapters["0"].up.weight)}
""",
            expect={'facts': {'adapter_changed': True}},
        ),
        Example(
            name="constructor-keeps-the-modules-given-as-varargs-in-a-list",
            code="""import torch
import torch.nn as nn


class Circle(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.r = nn.Parameter(torch.tensor(r))

    def forward(self, pts):
        return pts.norm(dim=-1) - self.r


class Difference(nn.Module):
    def __init__(self, base, *holes):
        super().__init__()
        self.base = base
        self.holes = list(holes)

    def forward(self, pts):
        d = self.base(pts)
        for h in self.holes:
            d = torch.maximum(d, -h(pts))
        return d


def main():
    torch.manual_seed(0)
    hole = Circle(0.3)
    shape = Difference(Circle(1.0), hole)
    opt = torch.optim.SGD(shape.parameters(), lr=0.1)
    before = hole.r.detach().clone()
    pts = torch.randn(64, 2) * 0.2
    loss = (shape(pts) + 0.5).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"shape": shape}, {"hole_changed": not torch.equal(before, hole.r.detach())}
""",
            lines=(18,),
            expect={"facts": {"hole_changed": False}},
        ),
        Example(
            name="constructor-keeps-the-list-of-layers-it-is-given",
            code="""import torch
import torch.nn as nn


class Stack(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Stack([nn.Linear(4, 4), nn.Linear(4, 4)]), nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = model[0].layers[0].weight
    before = first.detach().clone()
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"first_changed": not torch.equal(before, first.detach()), "n_params": len(list(model.parameters()))}
""",
            lines=(8,),
            expect={"facts": {"first_changed": False, "n_params": 2}},
            fixed_expect={"facts": {"first_changed": True, "n_params": 6}},
        ),
        Example(
            bad=False,
            name="ensemble-keeps-models-that-are-trained-on-their-own",
            code="""import torch
import torch.nn as nn


class Averager(nn.Module):
    def __init__(self, *members):
        super().__init__()
        self.members = list(members)

    def forward(self, x):
        return torch.stack([m(x) for m in self.members]).mean(0)


def main():
    torch.manual_seed(0)
    a, b = nn.Linear(4, 1), nn.Linear(4, 1)
    ens = Averager(a, b)
    opt = torch.optim.SGD([*a.parameters(), *b.parameters()], lr=0.1)
    before = a.weight.detach().clone()
    loss = ens(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"a": a, "b": b}, {"a_changed": not torch.equal(before, a.weight.detach())}
""",
            expect={"facts": {"a_changed": True}, "grad_ok": ["a.weight", "b.weight"]},
        ),
        Example(
            name="constructor-appends-the-layers-it-is-given-to-a-plain-list",
            code="""import torch
import torch.nn as nn


class Merge(nn.Module):
    def __init__(self, layers, sizes):
        super().__init__()
        self.branches = []
        self.sizes = []
        for layer in layers:
            self.branches.append(layer)
        for k in sizes:
            self.sizes.append(k)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def main():
    torch.manual_seed(0)
    sizes = [2, 3]
    branches = [nn.Linear(4, k) for k in sizes]
    model = nn.Sequential(Merge(branches, sizes), nn.Linear(5, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = branches[0].weight.detach().clone()
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"branch_changed": not torch.equal(before, branches[0].weight)}
""",
            lines=(11,),
            expect={"facts": {"branch_changed": False}},
        ),
        Example(
            bad=False,
            name="constructor-appends-the-sizes-it-is-given-to-a-plain-list",
            code="""import torch
import torch.nn as nn


class Merge(nn.Module):
    def __init__(self, layers, sizes):
        super().__init__()
        self.branches = nn.ModuleList()
        self.sizes = []
        for layer in layers:
            self.branches.append(layer)
        for k in sizes:
            self.sizes.append(k)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def main():
    torch.manual_seed(0)
    sizes = [2, 3]
    branches = [nn.Linear(4, k) for k in sizes]
    model = nn.Sequential(Merge(branches, sizes), nn.Linear(5, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = branches[0].weight.detach().clone()
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"branch_changed": not torch.equal(before, branches[0].weight)}
""",
            expect={"facts": {"branch_changed": True}},
        ),
        Example(
            name="plain-margin-loss-object-kept-on-the-model-and-called-by-the-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MarginLoss:
    def __init__(self, dim, n_classes, s=8.0):
        self.fc = nn.Linear(dim, n_classes, bias=False)
        self.s = s

    def __call__(self, emb, labels):
        cos = F.linear(F.normalize(emb, dim=-1), F.normalize(self.fc.weight, dim=-1))
        return F.cross_entropy(self.s * cos, labels)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(10, 4)
        self.margin = MarginLoss(4, 3)

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    model = Encoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.margin.fc.weight.detach().clone()
    for _ in range(3):
        x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
        loss = model.margin(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"centres_changed": not torch.equal(before, model.margin.fc.weight)}
""",
            lines=(6,),
            expect={"facts": {"centres_changed": False}},
            fixed_expect={"facts": {"centres_changed": True}},
        ),
        Example(
            bad=False,
            name="plain-margin-loss-object-whose-layer-the-optimizer-is-given",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MarginLoss:
    def __init__(self, dim, n_classes, s=8.0):
        self.fc = nn.Linear(dim, n_classes, bias=False)
        self.s = s

    def __call__(self, emb, labels):
        cos = F.linear(F.normalize(emb, dim=-1), F.normalize(self.fc.weight, dim=-1))
        return F.cross_entropy(self.s * cos, labels)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(10, 4)
        self.margin = MarginLoss(4, 3)

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    model = Encoder()
    optimizer = torch.optim.SGD([*model.parameters(), *model.margin.fc.parameters()], lr=0.1)
    before = model.margin.fc.weight.detach().clone()
    for _ in range(3):
        x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
        loss = model.margin(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"centres_changed": not torch.equal(before, model.margin.fc.weight)}
""",
            expect={"facts": {"centres_changed": True}},
        ),
        Example(
            name="plain-store-object-builds-the-embedding-tables",
            code="""import torch
import torch.nn as nn


class ItemStore:
    def __init__(self, n_items, dim):
        self.table = nn.Embedding(n_items, dim)

    def lookup(self, ids):
        return self.table(ids)


class Recommender(nn.Module):
    def __init__(self, n_items=20, dim=4):
        super().__init__()
        self.user = nn.Linear(6, dim)
        self.items = ItemStore(n_items, dim)

    def forward(self, feats, ids):
        return (self.user(feats) * self.items.lookup(ids)).sum(-1)


def main():
    torch.manual_seed(0)
    model = Recommender()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    before = model.items.table.weight.detach().clone()
    for _ in range(3):
        feats, ids, y = torch.randn(8, 6), torch.randint(0, 20, (8,)), torch.rand(8)
        loss = nn.functional.mse_loss(model(feats, ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"table_changed": not torch.equal(before, model.items.table.weight)}
""",
            lines=(5,),
            expect={"facts": {"table_changed": False}},
        ),
        Example(
            bad=False,
            name="plain-ema-helper-keeps-a-shadow-copy",
            code="""import copy

import torch
import torch.nn as nn


class EMA:
    def __init__(self, model, decay=0.9):
        self.decay = decay
        self.shadow = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        for s, p in zip(self.shadow.parameters(), model.parameters()):
            s.mul_(self.decay).add_(p, alpha=1 - self.decay)


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.ema = EMA(self.net)

    def forward(self, x):
        return self.net(x)

    def after_step(self):
        self.ema.update(self.net)


def main():
    torch.manual_seed(0)
    model = Student()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = model(torch.randn(5, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.after_step()
    return {"model": model}, {"ema_moved": not torch.equal(model.ema.shadow.weight, model.net.weight)}
""",
            expect={"grad_ok": ["model.net.weight"], "facts": {"ema_moved": True}},
        ),
        Example(
            name="layers-from-a-builder-method-kept-in-a-plain-list",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, d=4, depth=2):
        super().__init__()
        self.blocks = self._build_blocks(d, depth)
        self.head = nn.Linear(d, 3)

    @staticmethod
    def _build_blocks(d, depth):
        blocks = []
        for _ in range(depth):
            blocks.append(nn.Linear(d, d))
        return blocks

    def forward(self, x):
        for block in self.blocks:
            x = x + torch.tanh(block(x))
        return self.head(x)


def main():
    torch.manual_seed(0)
    net = Tagger()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.blocks[0].weight.detach().clone()
    loss = net(torch.randn(2, 4)).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"blocks_changed": not torch.equal(w0, net.blocks[0].weight.detach())}
""",
            lines=(8,),
            expect={"grad_ok": ["net.head.weight"], "facts": {"blocks_changed": False}},
            fixed_expect={"grad_ok": ["net.head.weight", "net.blocks.0.weight"], "facts": {"blocks_changed": True}},
        ),
        Example(
            bad=False,
            name="layers-from-a-builder-method-registered",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, d=4, depth=2):
        super().__init__()
        self.blocks = self._build_blocks(d, depth)
        self.head = nn.Linear(d, 3)

    @staticmethod
    def _build_blocks(d, depth):
        blocks = []
        for _ in range(depth):
            blocks.append(nn.Linear(d, d))
        return nn.ModuleList(blocks)

    def forward(self, x):
        for block in self.blocks:
            x = x + torch.tanh(block(x))
        return self.head(x)


def main():
    torch.manual_seed(0)
    net = Tagger()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(2, 4)).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.head.weight", "net.blocks.0.weight"]},
        ),
        Example(
            name="layers-from-a-helper-kept-in-a-plain-list",
            code="""import torch
import torch.nn as nn


def make_layers(n, d):
    layers = []
    for _ in range(n):
        layers.append(nn.Linear(d, d))
        layers.append(nn.ReLU())
    return layers


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = make_layers(3, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.layers[0].weight.detach().clone()
    loss = net(torch.randn(2, 4)).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"layers_changed": not torch.equal(w0, net.layers[0].weight.detach())}
""",
            lines=(16,),
            expect={"grad_ok": ["net.head.weight"], "facts": {"layers_changed": False}},
            fixed_expect={"grad_ok": ["net.head.weight", "net.layers.0.weight"], "facts": {"layers_changed": True}},
        ),
        Example(
            bad=False,
            name="layers-from-a-helper-registered",
            code="""import torch
import torch.nn as nn


def make_layers(n, d):
    layers = []
    for _ in range(n):
        layers.append(nn.Linear(d, d))
        layers.append(nn.ReLU())
    return layers


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(make_layers(3, 4))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.layers[0].weight.detach().clone()
    loss = net(torch.randn(2, 4)).pow(2).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"layers_changed": not torch.equal(w0, net.layers[0].weight.detach())}
""",
            expect={"grad_ok": ["net.head.weight", "net.layers.0.weight"], "facts": {"layers_changed": True}},
        ),
        Example(
            bad=False,
            name="sharded-parameters-handed-to-the-optimizer",
            code="""import torch
import torch.nn as nn


class ShardedLinear(nn.Module):
    \"\"\"Keeps its flat parameter shards in a plain list on purpose and gives them to the optimizer itself.\"\"\"

    def __init__(self, n_in, n_out):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.chunk = [nn.Parameter(torch.randn(n_in * n_out) * 0.1), nn.Parameter(torch.zeros(n_out), requires_grad=False)]

    def trainable_chunk(self):
        return [self.chunk[0]]

    def forward(self, x):
        return x @ self.chunk[0].view(self.n_in, self.n_out) + self.chunk[1]


def main():
    torch.manual_seed(0)
    layer = ShardedLinear(4, 3)
    opt = torch.optim.SGD(layer.trainable_chunk(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()
    return {"chunk": layer.chunk[0]}
""",
            expect={"grad_ok": ["chunk"]},
        ),
        Example(
            name="dict-of-heads",
            code="""import torch
import torch.nn as nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.heads = {"reg": nn.Linear(8, 1), "cls": nn.Linear(8, 3)}

    def forward(self, x):
        h = self.body(x).relu()
        return self.heads["reg"](h), self.heads["cls"](h)


def main():
    torch.manual_seed(0)
    model = TwoHeads()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.heads["reg"].weight.detach().clone()
    for _ in range(2):
        reg, cls = model(torch.randn(5, 6))
        loss = reg.pow(2).mean() + cls.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    changed = not torch.equal(w0, model.heads["reg"].weight.detach())
    return {"model": model}, {"reg_head_changed": changed, "n_params": len(list(model.parameters()))}
""",
            lines=(9,),
            expect={"grad_ok": ["model.body.weight"], "facts": {"reg_head_changed": False, "n_params": 2}},
        ),
        Example(
            name="list-of-helper-built-stages",
            code="""import torch
import torch.nn as nn


def conv_stage(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU())


class Backbone(nn.Module):
    def __init__(self, widths=(3, 4, 8)):
        super().__init__()
        self.stages = [conv_stage(a, b) for a, b in zip(widths[:-1], widths[1:])]
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        return self.fc(x.mean((2, 3)))


def main():
    torch.manual_seed(0)
    net = Backbone()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.stages[0][0].weight.detach().clone()
    loss = net(torch.randn(2, 3, 8, 8)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"first_stage_changed": not torch.equal(w0, net.stages[0][0].weight.detach())}
""",
            lines=(12,),
            expect={"grad_ok": ["net.fc.weight"], "facts": {"first_stage_changed": False}},
        ),
        Example(
            name="list-filled-in-loop",
            code="""import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        self.blocks = []
        for _ in range(depth):
            self.blocks.append(nn.Linear(4, 4))
        self.out = nn.Linear(4, 1)

    def forward(self, x):
        for b in self.blocks:
            x = torch.tanh(b(x))
        return self.out(x)


def main():
    torch.manual_seed(0)
    net = Stack()
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    w0 = net.blocks[0].weight.detach().clone()
    loss = net(torch.randn(7, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"first_block_changed": not torch.equal(w0, net.blocks[0].weight.detach())}
""",
            lines=(10,),
            expect={"grad_ok": ["net.out.weight"], "facts": {"first_block_changed": False}},
        ),
        Example(
            name="list-comprehension-of-parameters",
            code="""import torch
import torch.nn as nn


class Mixture(nn.Module):
    def __init__(self, k=3):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.centers = [nn.Parameter(torch.randn(2)) for _ in range(k)]

    def forward(self, x):
        return sum(((x - c) ** 2).sum() for c in self.centers) * self.scale


def main():
    torch.manual_seed(0)
    m = Mixture()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    c0 = m.centers[0].detach().clone()
    loss = m(torch.randn(4, 2))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"m": m}, {"center_changed": not torch.equal(c0, m.centers[0].detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["m.scale"], "facts": {"center_changed": False}},
        ),
        Example(
            bad=False,
            name="registered-later-and-activations",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [nn.Linear(3, 3) for _ in range(2)]
        self.hidden = [nn.Linear(3, 3), nn.Linear(3, 3)]
        self.hidden = nn.ModuleList(self.hidden)
        self.acts = {"relu": nn.ReLU(), "tanh": nn.Tanh()}
        self.rest = nn.ModuleList(layers)

    def forward(self, x):
        for lin in [*self.hidden, *self.rest]:
            x = self.acts["tanh"](lin(x))
        return x


def main():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(4, 3)).pow(2).sum()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.hidden.0.weight", "net.rest.1.weight"]},
        ),
        Example(
            bad=False,
            name="module-dict",
            code="""import torch
from torch import nn


class Heads(nn.Module):
    def __init__(self, names=("a", "b")):
        super().__init__()
        self.heads = nn.ModuleDict()
        for n in names:
            self.heads[n] = nn.Linear(2, 1)

    def forward(self, x):
        return sum(h(x).sum() for h in self.heads.values())


def main():
    m = Heads()
    m(torch.randn(3, 2)).backward()
    return {"m": m}
""",
            expect={"grad_ok": ["m.heads.a.weight", "m.heads.b.weight"]},
        ),
        Example(
            name="heads-grouped-in-a-dataclass",
            code="""from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Heads:
    sentiment: nn.Module
    topic: nn.Module


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.heads = Heads(sentiment=nn.Linear(8, 2), topic=nn.Linear(8, 3))

    def forward(self, x):
        h = torch.tanh(self.encoder(x))
        return self.heads.sentiment(h), self.heads.topic(h)


def main():
    torch.manual_seed(0)
    model = MultiTask()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.heads.sentiment.weight.detach().clone()
    for _ in range(3):
        s, t = model(torch.randn(8, 6))
        loss = F.cross_entropy(s, torch.randint(0, 2, (8,))) + F.cross_entropy(t, torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(before, model.heads.sentiment.weight)}
""",
            lines=(18,),
            expect={"facts": {"head_changed": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="heads-grouped-in-a-dataclass-and-registered-on-the-module",
            code="""from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Heads:
    sentiment: nn.Module
    topic: nn.Module


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.heads = Heads(sentiment=nn.Linear(8, 2), topic=nn.Linear(8, 3))
        self.sentiment, self.topic = self.heads.sentiment, self.heads.topic  # registered as submodules too

    def forward(self, x):
        h = torch.tanh(self.encoder(x))
        return self.heads.sentiment(h), self.heads.topic(h)


def main():
    torch.manual_seed(0)
    model = MultiTask()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.heads.sentiment.weight.detach().clone()
    for _ in range(3):
        s, t = model(torch.randn(8, 6))
        loss = F.cross_entropy(s, torch.randint(0, 2, (8,))) + F.cross_entropy(t, torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"head_changed": not torch.equal(before, model.heads.sentiment.weight)}
""",
            expect={"facts": {"head_changed": True}},
        ),
        Example(
            name="wrapper-trains-a-deep-copy-kept-in-a-plain-dict",
            code="""import copy

import torch
import torch.nn as nn


class KeepCopy(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.original = module
        self.copies = {"default": copy.deepcopy(module)}
        self.original.requires_grad_(False)
        self.copies["default"].requires_grad_(True)

    def forward(self, x):
        return self.copies["default"](x)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    model.add_module("head", KeepCopy(nn.Linear(4, 2)))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    head = model.head.copies["default"]
    before = head.weight.detach().clone()
    loss = model(torch.randn(8, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"head_changed": not torch.equal(before, head.weight.detach())}
""",
            lines=(11,),
            expect={"facts": {"head_changed": False}},
            fixed_expect={"facts": {"head_changed": True}},
        ),
        Example(
            bad=False,
            name="frozen-deep-copy-kept-in-a-plain-list-on-purpose",
            code="""import copy

import torch
import torch.nn as nn


class Distill(nn.Module):
    def __init__(self, student):
        super().__init__()
        self.student = student
        self.teacher = [copy.deepcopy(student)]
        self.teacher[0].requires_grad_(False)

    def forward(self, x):
        with torch.no_grad():
            target = self.teacher[0](x)
        return (self.student(x) - target).pow(2).mean() + self.student(x).pow(2).mean()


def main():
    torch.manual_seed(0)
    model = Distill(nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 4))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.student.weight"]},
        ),
        Example(
            name="zero-initialized-layers-kept-in-a-plain-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def zero_module(m):
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class Control(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.encoder = nn.Linear(ch, ch)
        self.zero_convs = {"a": zero_module(nn.Linear(ch, ch)), "b": zero_module(nn.Linear(ch, ch))}

    def forward(self, x):
        h = torch.tanh(self.encoder(x))
        return self.zero_convs["a"](h) + self.zero_convs["b"](h)


def main():
    torch.manual_seed(0)
    model = Control()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)) + torch.randn(8, 4), torch.randn(8, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"zero_conv": model.zero_convs["a"]}, {"zero_conv_changed": bool(model.zero_convs["a"].weight.abs().sum() > 0)}
""",
            lines=(16,),
            expect={"facts": {"zero_conv_changed": False}},
            fixed_expect={"facts": {"zero_conv_changed": True}},
        ),
        Example(
            bad=False,
            name="zero-initialized-layers-kept-in-a-module-dict",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def zero_module(m):
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class Control(nn.Module):
    def __init__(self, ch=4):
        super().__init__()
        self.encoder = nn.Linear(ch, ch)
        self.zero_convs = nn.ModuleDict({"a": zero_module(nn.Linear(ch, ch)), "b": zero_module(nn.Linear(ch, ch))})

    def forward(self, x):
        h = torch.tanh(self.encoder(x))
        return self.zero_convs["a"](h) + self.zero_convs["b"](h)


def main():
    torch.manual_seed(0)
    model = Control()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = F.mse_loss(model(torch.randn(8, 4)) + torch.randn(8, 4), torch.randn(8, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"zero_conv": model.zero_convs["a"]}, {"zero_conv_changed": bool(model.zero_convs["a"].weight.abs().sum() > 0)}
""",
            expect={"facts": {"zero_conv_changed": True}},
        ),
        Example(
            name="blocks-from-a-factory-kept-in-a-tuple",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ff = nn.Linear(d, d)

    def forward(self, x):
        return x + torch.relu(self.ff(x))


def make_blocks(d, n):
    return [Block(d) for _ in range(n)]


class Net(nn.Module):
    def __init__(self, d=4, n=2):
        super().__init__()
        self.blocks = tuple(make_blocks(d, n))
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.blocks[0].ff.weight.detach().clone()
    loss = model(torch.randn(3, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}, {"blocks_changed": not torch.equal(before, model.blocks[0].ff.weight)}
""",
            lines=(21,),
            expect={'grad_ok': ['model.head.weight'], 'facts': {'blocks_changed': False}},
            fixed_expect={'facts': {'blocks_changed': True}},
        ),
        Example(
            name="layers-from-a-generator-kept-in-a-tuple",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, d=4, n=2):
        super().__init__()
        self.layers = tuple(nn.Linear(d, d) for _ in range(n))
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return self.head(x)


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.layers[0].weight.detach().clone()
    loss = model(torch.randn(3, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}, {"layers_changed": not torch.equal(before, model.layers[0].weight)}
""",
            lines=(8,),
            expect={'grad_ok': ['model.head.weight'], 'facts': {'layers_changed': False}},
            fixed_expect={'facts': {'layers_changed': True}},
        ),
        Example(
            bad=False,
            name="blocks-from-a-factory-in-a-module-list",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ff = nn.Linear(d, d)

    def forward(self, x):
        return x + torch.relu(self.ff(x))


def make_blocks(d, n):
    return [Block(d) for _ in range(n)]


class Net(nn.Module):
    def __init__(self, d=4, n=2):
        super().__init__()
        self.blocks = nn.ModuleList(make_blocks(d, n))
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(x)


def main():
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.blocks[0].ff.weight.detach().clone()
    loss = model(torch.randn(3, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"model": model}, {"blocks_changed": not torch.equal(before, model.blocks[0].ff.weight)}
""",
            expect={'grad_ok': ['model.head.weight', 'model.blocks.0.ff.weight'], 'facts': {'blocks_changed': True}},
        ),
        Example(
            name="list-beside-a-registered-buffer",
            code="""import torch
import torch.nn as nn


class RadialNet(nn.Module):
    def __init__(self, n_blocks=2, d=8):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, 3.0, d))
        self.blocks = []
        for _ in range(n_blocks):
            self.blocks.append(nn.Linear(d, d))
        self.head = nn.Linear(d, 1)

    def forward(self, r):
        h = torch.exp(-(r.unsqueeze(-1) - self.centers) ** 2)
        for block in self.blocks:
            h = h + torch.tanh(block(h))
        return self.head(h).squeeze(-1)


def main():
    torch.manual_seed(0)
    net = RadialNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.blocks[0].weight.detach().clone()
    loss = net(torch.rand(16) * 3).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"blocks_changed": not torch.equal(w0, net.blocks[0].weight)}
""",
            lines=(11,),
            expect={'facts': {'blocks_changed': False}},
            fixed_expect={'facts': {'blocks_changed': True}},
        ),
        Example(
            bad=False,
            name="list-registered-by-add-module-in-the-same-loop",
            code="""import torch
import torch.nn as nn


class RadialNet(nn.Module):
    def __init__(self, n_blocks=2, d=8):
        super().__init__()
        self.register_buffer("centers", torch.linspace(0.0, 3.0, d))
        self.blocks = []
        for i in range(n_blocks):
            block = nn.Linear(d, d)
            self.add_module(f"block{i}", block)
            self.blocks.append(block)
        self.head = nn.Linear(d, 1)

    def forward(self, r):
        h = torch.exp(-(r.unsqueeze(-1) - self.centers) ** 2)
        for block in self.blocks:
            h = h + torch.tanh(block(h))
        return self.head(h).squeeze(-1)


def main():
    torch.manual_seed(0)
    net = RadialNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.blocks[0].weight.detach().clone()
    loss = net(torch.rand(16) * 3).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}, {"blocks_changed": not torch.equal(w0, net.blocks[0].weight)}
""",
            expect={'grad_ok': ['net.block0.weight', 'net.head.weight'], 'facts': {'blocks_changed': True}},
        ),
        Example(
            bad=False,
            name="plain-list-of-parameterless-pooling-modules",
            code="""import torch
import torch.nn as nn


class Smooth(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.pool = nn.AvgPool1d(kernel_size=k, stride=1, padding=k // 2, count_include_pad=False)

    def forward(self, x):
        return self.pool(x.transpose(1, 2)).transpose(1, 2)


class TrendMixer(nn.Module):
    def __init__(self, kernels):
        super().__init__()
        self.smoothers = [Smooth(k) for k in kernels]
        self.mix = nn.Linear(1, len(kernels))

    def forward(self, x):
        trends = torch.stack([s(x) for s in self.smoothers], dim=-1)
        w = torch.softmax(self.mix(x.unsqueeze(-1)), dim=-1)
        return x - (trends * w).sum(-1)


def main():
    torch.manual_seed(0)
    model = TrendMixer([3, 5])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = model(torch.randn(2, 8, 3)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.mix.bias', 'model.mix.weight']},
        ),
    )

    def check(self, facts):
        kinds = None
        holders: dict = {}  # plain class -> [(module class, the assignment that holds an instance)]
        for info in facts.modules.classes.values():
            if info.is_module is not True:
                continue
            if kinds is None:
                kinds = _Kinds(facts)
            for m in info.methods.values():
                sn = self_name(m)
                if sn is None:
                    continue
                local = None
                for node in statements_of_type(m, (ast.Assign, ast.AnnAssign)):  # assignments are statements
                    if node.value is None:
                        continue
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if len(targets) != 1:
                        continue
                    attr = self_attr(targets[0], sn)
                    if not attr:
                        continue
                    if local is None:
                        local = _locals_from_ctor(m)
                    ckind, elts = _container_elements(node.value)
                    if ckind and elts:
                        ek = {kinds.element(e, local) for e in elts} - {None}
                        if not ek and _copies_of_arguments(facts, m, elts) and _elements_trained(info, attr):
                            ek = {"module"}
                        if not ek or len(ek) > 1:
                            continue
                        if self._registered(facts, info, attr):
                            continue
                        kind = ek.pop()
                        if kind == "param" and _handed_out(info, attr):
                            continue
                        yield self._literal_finding(facts, info, attr, node.value, ckind, kind)
                        continue
                    given = _given_container(facts, kinds, info, m, node.value, attr)
                    if given is not None:
                        if self._registered(facts, info, attr):
                            continue
                        ckind, kind, made = given
                        if kind == "param" and _handed_out(info, attr):
                            continue
                        yield self._literal_finding(facts, info, attr, node.value, ckind, kind, made=made)
                        continue
                    built = kinds.helper_container(node.value, info, sn)
                    if built is not None:
                        if self._registered(facts, info, attr):
                            continue
                        ckind, kind, made = built
                        if kind == "param" and _handed_out(info, attr):
                            continue
                        yield self._literal_finding(facts, info, attr, node.value, ckind, kind, made=made)
                        continue
                    held = facts.modules.classes.get(node.value.func.id) if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) else None
                    if held is not None and held.is_module is False and not held.is_autograd_function:
                        holders.setdefault(held.name, []).append((info, attr, node))
                        continue
                    empty = _is_empty_container(facts, node.value)
                    if empty:
                        fill = self._fill_site(facts, info, attr, empty, kinds)
                        if fill is None or self._registered(facts, info, attr):
                            continue
                        site, ek, key = fill
                        if ek == "param" and _handed_out(info, attr):
                            continue
                        yield self._filled_finding(facts, info, attr, node.value, empty, site, ek, key)

        for name, held_by in holders.items():
            if kinds is None:
                kinds = _Kinds(facts)
            f = self._plain_holder_finding(facts, facts.modules.classes[name], held_by, kinds)
            if f is not None:
                yield f

    def _plain_holder_finding(self, facts, plain, held_by: list, kinds: _Kinds):
        """A Module holds an object of an in-file plain class (``self.items = ItemStore(n, d)``) whose ``__init__``
        builds layers or Parameters of its own (``self.table = nn.Embedding(n, d)``): ``Module.__setattr__`` registers
        only Modules and Parameters, and ``parameters()`` does not look inside other objects, so those layers are in no
        optimizer built from the model and in no ``state_dict()``, while the module's methods use them. Not reported
        when the plain class is made to stand in for a Module (its own ``parameters`` / ``state_dict``), when the holder
        registers the pieces itself (``self.table = self.items.table``) or hands them out (``self.items.table.parameters()``),
        or when the holder never uses the object outside ``__init__``."""
        init = plain.methods.get("__init__")
        if init is None and _is_dataclass(plain.node) and not plain.node.bases and not {"parameters", "named_parameters", "state_dict", "to"} & set(plain.methods):
            return self._dataclass_holder_finding(facts, plain, held_by, kinds)
        if init is None or plain.node.bases or plain.node.keywords or {"parameters", "named_parameters", "state_dict", "to"} & set(plain.methods):
            return None
        sn = self_name(init)
        if sn is None:
            return None
        local = _locals_from_ctor(init)
        layers = []  # (attr, assignment) of the layers / Parameters the plain class builds
        for node in statements_of_type(init, (ast.Assign,)):
            if len(node.targets) == 1 and self_attr(node.targets[0], sn) and kinds.element(node.value, local):
                layers.append((self_attr(node.targets[0], sn), node))
        if not layers:
            return None
        used = None
        for info, attr, assign in held_by:
            if self._registered(facts, info, attr):
                continue
            reads = [n for m in info.methods.values() if m.name != "__init__" for n in walk_nodes(m) if isinstance(n, ast.Attribute) and n.attr == attr]
            outside = [] if reads else _outside_reads(facts, info, attr)
            if not reads and not outside:
                continue
            out_of_holder = any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == attr for m in info.methods.values() for n in walk_nodes(m)
                                if isinstance(n, ast.Attribute) and _hands_out(facts, m, n))
            if out_of_holder or any(_hands_out_outside(facts, n) for n in outside):
                continue
            used = (info, attr, assign)
            break
        if used is None:
            return None
        info, attr, assign = used
        names = ", ".join(f"`{a}`" for a, _ in layers[:3]) + (" ..." if len(layers) > 3 else "")
        return self.finding(
            facts,
            plain.node,
            f"`{plain.name}` is a plain class, not an `nn.Module`: the layers it builds ({names}) are not registered on "
            f"`{info.name}`, which holds one in `self.{attr}`, so `parameters()` misses them and they are never trained or saved",
            related=[(assign, f"`{info.name}` keeps the object here; only Modules and Parameters are registered"), (layers[0][1], "a layer built on the plain object")],
            fixes=[lambda: _make_module_fix(facts, plain, init)],
            explanation="`nn.Module` registers only attributes that are Modules or Parameters, and `parameters()`, `state_dict()` and "
            "`.to(device)` look no deeper: layers kept on an ordinary object get gradients through the forward pass but no optimizer "
            "built from the model holds them. Derive the class from `nn.Module` (and call `super().__init__()` first).",
        )

    def _dataclass_holder_finding(self, facts, plain, held_by: list, kinds: _Kinds):
        """A Module keeps an object of an in-file ``@dataclass`` built with layers (``self.heads = TaskHeads(sentiment=
        nn.Linear(...), topic=nn.Linear(...))``) and its methods use them: the dataclass is no Module, so those layers are
        not registered (the same as a plain class that builds its own)."""
        for info, attr, assign in held_by:
            call = assign.value
            if self._registered(facts, info, attr) or not isinstance(call, ast.Call):
                continue
            method = facts.enclosing(assign, (ast.FunctionDef, ast.AsyncFunctionDef))
            local = _locals_from_ctor(method) if method is not None else {}
            fields = [n.target.id for n in plain.node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
            layers = [(fields[i] if i < len(fields) else str(i), a) for i, a in enumerate(call.args) if kinds.element(a, local)]
            layers += [(k.arg, k.value) for k in call.keywords if k.arg and kinds.element(k.value, local)]
            if not layers:
                continue
            if not any(isinstance(n, ast.Attribute) and n.attr == attr for m in info.methods.values() if m.name != "__init__" for n in walk_nodes(m)):
                continue  # (never used outside the constructor)
            if any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == attr and _hands_out(facts, m, n)
                   for m in info.methods.values() for n in walk_nodes(m) if isinstance(n, ast.Attribute)):
                continue  # (the holder hands the pieces to an optimizer or registers them itself)
            if any(isinstance(st, ast.Assign) and any(isinstance(t, ast.Attribute) for tg in st.targets for t in walk_nodes(tg))
                   and any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == attr for n in walk_nodes(st.value))
                   for m in info.methods.values() for st in walk_nodes(m)):
                continue  # (``self.sentiment = self.heads.sentiment``: registered on the module as well)
            names = ", ".join(f"`{a}`" for a, _ in layers[:3]) + (" ..." if len(layers) > 3 else "")
            return self.finding(
                facts,
                assign,
                f"`{plain.name}` is a dataclass, not an `nn.Module`: the layers `{info.name}` puts in it ({names}) are not registered "
                f"by `self.{attr} = ...`, so `parameters()` misses them and they are never trained or saved",
                related=[(plain.node, "a dataclass: Module.__setattr__ registers only Modules and Parameters"), (layers[0][1], "a layer kept in it")],
                explanation="`nn.Module` registers only attributes that are Modules or Parameters, and `parameters()`, `state_dict()` and "
                "`.to(device)` look no deeper: layers kept in a dataclass get gradients through the forward pass but no optimizer "
                "built from the model holds them. Keep them in an `nn.ModuleDict` (or as attributes of the module itself).",
            )
        return None

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _registered(facts, info, attr: str) -> bool:
        if facts.modules.registers_later(info, attr):
            return True
        for v in _assignments(info, attr):
            if isinstance(v, ast.Call):
                q = facts.imports.qualname(v.func) or ""
                if is_module_ctor(q) or q.endswith(("ParameterList", "ParameterDict")):
                    return True
        return False

    @staticmethod
    def _fill_site(facts, info, attr: str, empty: str, kinds: _Kinds):
        for m in info.methods.values():
            sn = self_name(m)
            local = _locals_from_ctor(m)
            for node in walk_nodes(m):
                if empty == "list" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "insert", "extend"):
                    if self_attr(node.func.value, sn) == attr and node.args:
                        arg = node.args[-1]
                        if node.func.attr == "extend":
                            _, elts = _container_elements(arg)
                            eks = {kinds.element(e, local) for e in elts} - {None}
                            ek = eks.pop() if len(eks) == 1 else None
                        else:
                            ek = kinds.element(arg, local)
                            if ek is None and isinstance(arg, ast.Name):
                                # ``for layer in layers: self._layers.append(layer)``, ``layers`` given to the constructor
                                loop = _loop_over(facts, node, arg.id)
                                if loop is not None and isinstance(loop.iter, ast.Name):
                                    got = _constructor_elements(facts, kinds, info, m, loop.iter.id)
                                    ek = got[1] if got is not None else None
                        if ek:
                            return node, ek, None
                if empty == "dict" and isinstance(node, ast.Assign) and len(node.targets) == 1:
                    t = node.targets[0]
                    if isinstance(t, ast.Subscript) and self_attr(t.value, sn) == attr:
                        ek = kinds.element(node.value, local)
                        if ek:
                            return node, ek, t.slice
        # filled from outside the class (a PEFT-style ``inject_lora(model, cfg)`` doing ``model.lora_adapters[key] =
        # adapter``), when no other in-file class has an attribute of that name: the object filled is this class's
        if sum(1 for c in facts.modules.classes.values() if attr in c.attrs) != 1:
            return None
        for fn in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef)):
            if facts.enclosing(fn, (ast.ClassDef,)) is info.node or not any(isinstance(n, ast.Attribute) and n.attr == attr for n in walk_nodes(fn)):
                continue
            local = _locals_from_ctor(fn)
            for node in walk_nodes(fn):
                if empty == "dict" and isinstance(node, ast.Assign) and len(node.targets) == 1:
                    t = node.targets[0]
                    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) and t.value.attr == attr and not self_attr(t.value, "self"):
                        ek = kinds.element(node.value, local)
                        if ek:
                            return node, ek, t.slice
                if empty == "list" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "insert") and node.args:
                    recv = node.func.value
                    if isinstance(recv, ast.Attribute) and recv.attr == attr and not self_attr(recv, "self"):
                        ek = kinds.element(node.args[-1], local)
                        if ek:
                            return node, ek, None
        return None

    def _container_fix(self, facts, info, attr, container: str, ek: str, node: ast.AST, keys: list, empty: bool):
        cls = {("list", "module"): "ModuleList", ("tuple", "module"): "ModuleList", ("dict", "module"): "ModuleDict",
               ("list", "param"): "ParameterList", ("tuple", "param"): "ParameterList", ("dict", "param"): "ParameterDict"}[(container, ek)]
        ok = {"ModuleList": _LIST_OK, "ModuleDict": _DICT_OK, "ParameterList": _PLIST_OK, "ParameterDict": _PDICT_OK}[cls]
        uses = _attr_uses(info, attr)
        if uses - ok:
            return cls, []
        if any(isinstance(k, ast.Constant) and not isinstance(k.value, str) for k in keys) or any(_int_loop_key(facts, k) for k in keys):
            return cls, []  # (``nn.ModuleDict`` / ``nn.ParameterDict`` take string keys only)
        unsafe = container == "dict" and any(not isinstance(k, ast.Constant) for k in keys)

        def build():
            nn, extra = ensure_import(facts, "torch.nn")
            text = f"{nn}.{cls}()" if empty else f"{nn}.{cls}({facts.text(node)})"
            return fix(f"Use `{nn}.{cls}` so the layers are registered", replace_node(facts, node, text), *extra, unsafe=unsafe)

        return cls, [build]

    def _literal_finding(self, facts, info, attr, value, ckind, ek, made=None):
        keys = []
        if isinstance(value, ast.Dict):
            keys = [k for k in value.keys if k is not None]
        elif isinstance(value, ast.DictComp):
            keys = [value.key]
        cls, fixes = self._container_fix(facts, info, attr, ckind, ek, value, keys, empty=False)
        what = "layers" if ek == "module" else "parameters"
        return self.finding(
            facts,
            value,
            f"`self.{attr}` is a plain {ckind} of {what}: they are not registered on `{info.name}`, so `parameters()` misses them and they are never trained or saved (use `nn.{cls}`)",
            related=[(made, f"the plain {ckind} is made here")] if made is not None and made is not value else [],
            fixes=fixes,
            explanation=f"`nn.Module` registers only attributes that are Modules or Parameters; {what} inside a Python {ckind} are invisible to the optimizer, `state_dict()` and `.to(device)`.",
        )

    def _filled_finding(self, facts, info, attr, empty_node, container, site, ek, key):
        keys = [key] if key is not None else []
        cls, fixes = self._container_fix(facts, info, attr, container, ek, empty_node, keys, empty=True)
        what = "layer" if ek == "module" else "parameter"
        return self.finding(
            facts,
            site,
            f"this {what} goes into `self.{attr}`, a plain {container}: it is not registered on `{info.name}`, so it is never trained or saved (use `nn.{cls}`)",
            related=[(empty_node, f"`self.{attr}` is created as a plain {container} here")],
            fixes=fixes,
            explanation=f"`nn.Module` registers only attributes that are Modules or Parameters; a {what} inside a Python {container} is invisible to the optimizer, `state_dict()` and `.to(device)`.",
        )


def _int_loop_key(facts, key: ast.AST) -> bool:
    """Is ``key`` the counter of the ``for <key> in range(...)`` (or the index of ``enumerate``) loop around it: an int?"""
    if not isinstance(key, ast.Name):
        return False
    cur = facts.parent(key)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(cur, ast.For) and isinstance(cur.iter, ast.Call) and isinstance(cur.iter.func, ast.Name):
            t, f = cur.target, cur.iter.func.id
            if f == "range" and isinstance(t, ast.Name) and t.id == key.id:
                return True
            if f == "enumerate" and isinstance(t, ast.Tuple) and t.elts and isinstance(t.elts[0], ast.Name) and t.elts[0].id == key.id:
                return True
        cur = facts.parent(cur)
    return False


def _loop_over(facts, node: ast.AST, name: str) -> Optional[ast.For]:
    """The ``for <name> in ...`` loop around ``node`` that binds ``name``, when ``name`` is bound nowhere else in the
    loop's body."""
    cur = facts.parent(node)
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(cur, ast.For) and isinstance(cur.target, ast.Name) and cur.target.id == name:
            rebound = any(isinstance(x, ast.Name) and x.id == name and isinstance(x.ctx, ast.Store) for st in cur.body for x in walk_nodes(st))
            return None if rebound else cur
        cur = facts.parent(cur)
    return None


def _constructor_elements(facts, kinds, info, method: ast.AST, pname: str) -> Optional[tuple]:
    """``(container kind, element kind)`` of what every construction of ``info``'s class in the file passes as
    ``__init__`` parameter ``pname``, when each passes a plain list / tuple (a literal, a comprehension, or a local
    bound to one in the caller) of elements of one kind (layers, or Parameters): ``MergeLayer(branches)`` with
    ``branches = [nn.Sequential(...) for k in kernels]``. For a ``*pname`` parameter the container is the tuple of
    the positional arguments from its place on (kind ``"vararg"``): ``Difference(base, hole_a, hole_b)``. An element
    passed by a name of the caller is that name's layer only when the caller does nothing else with it that could
    train or register it (asks its ``parameters()``, passes it to another call, stores it on an object): an
    ensemble built from models that are trained on their own is not a container of untrained layers. None when any
    construction passes something else, or when there is none."""
    if getattr(method, "name", "") != "__init__":
        return None
    params = [a.arg for a in [*method.args.posonlyargs, *method.args.args]][1:]  # type: ignore[attr-defined]
    vararg = method.args.vararg.arg if method.args.vararg is not None else None  # type: ignore[attr-defined]
    if pname not in params and pname != vararg:
        return None
    idx = params.index(pname) if pname in params else len(params)
    found = set()
    # (the constructions of the class, found once per class among the lines that spell its name)
    for call, _holder in facts.flow.constructions.sites(info.name):
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        if pname == vararg:
            ckind, elts = "vararg", list(call.args[idx:])
        else:
            arg = call.args[idx] if idx < len(call.args) else next((k.value for k in call.keywords if k.arg == pname), None)
            if arg is None:
                return None
            if isinstance(arg, ast.Name):
                binds = [st for st in statements_of_type(scope, ast.Assign) if len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.targets[0].id == arg.id]
                if len(binds) != 1:
                    return None
                arg = binds[0].value
            ckind, elts = _container_elements(arg)
            if ckind not in ("list", "tuple"):
                return None
        if not elts:
            return None
        local = _locals_from_ctor(scope)
        if any(isinstance(e, ast.Name) and _trained_elsewhere(facts, scope, e.id, call) for e in elts):
            return None
        eks = {kinds.element(e, local) for e in elts}
        if len(eks) != 1 or None in eks:
            return None
        found.add((ckind, eks.pop()))
    return found.pop() if len(found) == 1 else None


def _copies_of_arguments(facts, method: ast.AST, elts: list) -> bool:
    """Is every element ``copy.deepcopy(p)`` of a parameter ``p`` of ``__init__`` (a new object with its own
    parameters, whatever the caller does with ``p``)?"""
    if getattr(method, "name", "") != "__init__":
        return False
    params = {a.arg for a in [*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs]}  # type: ignore[attr-defined]
    return all(
        isinstance(e, ast.Call) and len(e.args) == 1 and not e.keywords and isinstance(e.args[0], ast.Name) and e.args[0].id in params
        and facts.imports.qualname(e.func) == "copy.deepcopy"
        for e in elts
    )


def _elements_trained(info, attr: str) -> bool:
    """Do the class's methods both call an element of ``self.<attr>`` (``self.heads[k](x)``: a Module, as a tensor is
    not callable) and switch its parameters on (``self.heads[k].requires_grad_(True)``): parts it means to train?"""
    called = trained = False
    for m in info.methods.values():
        sn = self_name(m)
        for node in walk_nodes(m):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Subscript) and self_attr(f.value, sn) == attr:
                called = True
            elif (isinstance(f, ast.Attribute) and f.attr == "requires_grad_" and isinstance(f.value, ast.Subscript)
                  and self_attr(f.value.value, sn) == attr
                  and (not node.args or isinstance(node.args[0], ast.Constant) and node.args[0].value is True)):
                trained = True
    return called and trained


_ELEMENT_NEUTRAL_CALLS = {"len", "isinstance", "print", "id", "type", "repr", "str"}
_REGISTERING_ATTRS = {"parameters", "named_parameters", "modules", "named_modules", "children", "named_children", "state_dict", "requires_grad_", "train"}


def _trained_elsewhere(facts, scope: ast.AST, name: str, construction: ast.Call) -> bool:
    """Does ``scope`` use the object bound to ``name`` where it could be trained or registered besides handing it to
    ``construction``: its ``parameters()`` (or modules, or state) asked for, passed to another call, or stored on
    an object or in a container another call gets?"""
    for node in walk_nodes(scope):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = facts.parent(node)
        if parent is construction:
            continue
        if isinstance(parent, ast.Attribute):
            if parent.attr in _REGISTERING_ATTRS:
                return True
            continue
        if isinstance(parent, (ast.Call, ast.keyword)):
            call = parent if isinstance(parent, ast.Call) else facts.parent(parent)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _ELEMENT_NEUTRAL_CALLS:
                continue
            return True
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and any(not isinstance(t, ast.Name) for t in ([parent.target] if isinstance(parent, ast.AnnAssign) else parent.targets)):
            return True
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Starred)):
            return True
    return False


# (``\bin`` / ``\bself`` written as ``in(?<!\win)`` / ``self(?<!\wself)``: the same matches, and each branch starts with a
# literal the engine looks for first, instead of trying ``\b`` at every position: 4x faster)
_CONTAINER_USE = re.compile(r"in(?<!\win)\s+self\.(\w+)\b|self(?<!\wself)\.(\w+)\s*\[|[(,]\s*self\.(\w+)\s*[),]")


def _held_as_container(facts, kinds, info, attr: str) -> bool:
    """Does the class's text use ``self.<attr>`` as a container of parts: iterate it (``in self.blocks``), index it
    (``self.blocks[i]``) or pass it whole to a call (``len(self.blocks)``, ``zip(self.blocks, ...)``)? (one scan of
    the class's text, for all its attributes)"""
    key = ("containers", info.name)
    held = kinds._fn_cache.get(key)
    if held is None:
        text = "".join(facts.source.line(n) for n in range(info.node.lineno, (info.node.end_lineno or info.node.lineno) + 1))
        held = kinds._fn_cache[key] = {a for m in _CONTAINER_USE.finditer(text) for a in m.groups() if a}
    return attr in held


def _given_container(facts, kinds, info, method: ast.AST, value: ast.AST, attr: str) -> Optional[tuple]:
    """``self.<attr> = <value>`` in ``__init__`` keeping a container the constructor is given: ``value`` is the
    parameter itself, ``list(p)`` / ``tuple(p)``, ``[*p]`` or ``[m for m in p]``, and every construction of the class in
    the file passes a plain container of one kind of element (``_constructor_elements``). (container kind, element
    kind, where the container is made) or None."""
    name = None
    if isinstance(value, ast.Name):
        name = value.id
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Name):
        name = value.args[0].id
    elif isinstance(value, ast.List) and len(value.elts) == 1 and isinstance(value.elts[0], ast.Starred) and isinstance(value.elts[0].value, ast.Name):
        name = value.elts[0].value.id
    elif isinstance(value, ast.ListComp) and len(value.generators) == 1 and not value.generators[0].ifs and isinstance(value.generators[0].iter, ast.Name):
        gen = value.generators[0]
        if isinstance(gen.target, ast.Name) and isinstance(value.elt, ast.Name) and value.elt.id == gen.target.id:
            name = gen.iter.id  # type: ignore[attr-defined]
    if name is None or getattr(method, "name", "") != "__init__" or not _held_as_container(facts, kinds, info, attr) or not facts.flow.constructions.sites(info.name):
        return None
    got = _constructor_elements(facts, kinds, info, method, name)
    if got is None or any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in walk_nodes(method)):
        return None  # (nothing, or the parameter is rebound before it is kept)
    ckind, ek = got
    if isinstance(value, ast.Name):
        ckind = "tuple" if ckind == "vararg" else ckind
    else:
        ckind = "tuple" if isinstance(value, ast.Call) and value.func.id == "tuple" else "list"  # type: ignore[attr-defined]
    return ckind, ek, value


def _outside_reads(facts, holder, attr: str) -> list:
    """``model.margin_loss(emb, labels)`` / ``model.module.margin_loss.fc``: reads of the holder's attribute ``attr`` made
    outside its class (a training loop calling the plain object as a loss), when no other class of the file has an
    attribute of that name (then the object read is the holder's). The ``attr`` nodes."""
    if any(attr in other.attr_values for other in facts.modules.classes.values() if other is not holder):
        return []
    out = []
    for n in facts.walk(ast.Attribute):
        if n.attr != attr or not isinstance(n.ctx, ast.Load) or (isinstance(n.value, ast.Name) and n.value.id == "self"):
            continue
        out.append(n)
    return out


def _hands_out_outside(facts, node: ast.Attribute) -> bool:
    """Does ``<obj>.<holder attr>`` outside the class hand the plain object's layers to an optimizer: its
    ``.parameters()``, or a piece's ``.weight`` / ``.bias`` given to an optimizer or a parameter group (a snapshot
    ``....weight.detach().clone()`` hands nothing out)?"""
    parent = facts.parent(node)
    while isinstance(parent, ast.Attribute):
        if parent.attr in ("parameters", "named_parameters"):
            return True
        if parent.attr in ("weight", "bias"):
            cur = facts.parent(parent)
            while cur is not None and not isinstance(cur, ast.stmt):
                if isinstance(cur, ast.Call) and (is_optimizer_ctor(facts.imports.qualname(cur.func) or "")
                                                  or (isinstance(cur.func, ast.Attribute) and cur.func.attr == "add_param_group")):
                    return True
                cur = facts.parent(cur)
            return False
        parent = facts.parent(parent)
    return isinstance(parent, ast.Assign) and parent.value is node and any(isinstance(t, ast.Attribute) for t in parent.targets)


def _hands_out(facts, method, node: ast.Attribute) -> bool:
    """Does ``self.<holder>.<piece>`` (``node``) get registered or handed to an optimizer: assigned to an attribute
    (``self.table = self.items.table``), or asked for its parameters (``self.items.table.parameters()``)?"""
    parent = facts.parent(node)
    if isinstance(parent, ast.Assign) and parent.value is node:
        return any(isinstance(t, ast.Attribute) for t in parent.targets)
    while isinstance(parent, ast.Attribute):
        if parent.attr in ("parameters", "named_parameters", "weight", "bias"):
            return True
        parent = facts.parent(parent)
    return False


def _make_module_fix(facts, plain, init):
    """``class Store:`` -> ``class Store(nn.Module):`` with ``super().__init__()`` first in its ``__init__``."""
    nn, extra = ensure_import(facts, "torch.nn")
    header = facts.source.line(plain.node.lineno)
    name_at = header.find(f"class {plain.name}")
    if name_at < 0 or not init.body:
        return None
    colon = header.find(":", name_at)
    if colon < 0 or header[name_at + len(f"class {plain.name}"):colon].strip():
        return None
    first = init.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        if len(init.body) < 2:
            return None
        first = init.body[1]  # after the docstring
    at = Pos(plain.node.lineno, colon)
    return fix(f"Make `{plain.name}` an `{nn}.Module`", Edit(at, at, f"({nn}.Module)"), insert_before_stmt(facts, first, "super().__init__()"), *extra)


def _handed_out(info, attr: str) -> bool:
    """Does a method other than ``__init__`` / ``forward`` return ``self.<attr>`` or an element of it? A module
    that keeps parameters in a plain container on purpose hands them to its optimizer itself (ZeRO-style
    sharded chunks: ``def get_trainable_chunk(self): return [self.chunk[0]]``)."""
    for name, m in info.methods.items():
        if name in ("__init__", "forward"):
            continue
        sn = self_name(m)
        for node in walk_nodes(m):
            if isinstance(node, ast.Return) and node.value is not None:
                if any(isinstance(n, ast.Attribute) and self_attr(n, sn) == attr for n in walk_nodes(node.value)):
                    return True
    return False
