"""GG301 raw-tensor-on-module: a weight stored on an ``nn.Module`` as a plain tensor, not an ``nn.Parameter``."""
from __future__ import annotations

import ast
import re
from typing import Optional, cast

from gradguard.core.astindex import statements_of_type, walk_nodes
from gradguard.core.classes import may_have_parameters, self_attr, self_name, tensor_ctor
from gradguard.core.model import Applicability, Edit, Severity
from gradguard.core.torchapi import is_optimizer_ctor
from gradguard.fixes import ensure_import, fix, replace_node
from gradguard.rules.base import Example, Rule


def ctor_call(facts, value: ast.AST) -> Optional[ast.Call]:
    ti = tensor_ctor(facts, value)
    return ti["call"] if ti else None


def container_of_tensors(facts, value: ast.AST) -> Optional[dict]:
    """``[torch.randn(d, requires_grad=True) for _ in range(n)]``, ``{r: torch.empty(..).requires_grad_() for r
    in rels}``, or such a list/dict literal: a plain container whose every element is a tensor created right
    here. The ctor info of its elements plus ``container`` ('list' or 'dict'), or None."""
    if isinstance(value, ast.ListComp):
        elts, kind = [value.elt], "list"
    elif isinstance(value, ast.DictComp):
        elts, kind = [value.value], "dict"
    elif isinstance(value, (ast.List, ast.Tuple)) and value.elts:
        elts, kind = list(value.elts), "list"
    elif isinstance(value, ast.Dict) and value.values and None not in value.keys:
        elts, kind = list(value.values), "dict"
    else:
        return None
    infos = [tensor_ctor(facts, e) for e in elts]
    if not all(infos):
        return None
    return {"requires_grad": all(i["requires_grad"] for i in infos), "random": any(i["random"] for i in infos), "call": infos[0]["call"], "container": kind}  # type: ignore[index]


def raw_tensor_attrs(facts, info) -> dict:
    """attr -> (assign node, value node, ctor info) for plain tensors created in ``__init__`` (alone, or as
    every element of a plain list or dict: info ``container``)."""
    init = info.methods.get("__init__")
    out: dict = {}
    if init is None:
        return out
    sn = self_name(init)
    for node in statements_of_type(init, ast.Assign):  # (statements only: the same assignments, in the same order)
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            attr = self_attr(node.targets[0], sn)
            if attr:
                ti = tensor_ctor(facts, node.value) or container_of_tensors(facts, node.value) or _made_leaf(facts, init, node)
                if ti:
                    out.setdefault(attr, (node, node.value, ti))
    return out


def _made_leaf(facts, init: ast.AST, stmt: ast.Assign) -> Optional[dict]:
    """``self.U = (U[:, :r] * S[:r]).contiguous().requires_grad_()``: a tensor computed in ``__init__`` (from an SVD, a
    checkpoint) and made a leaf that requires grad by ``.requires_grad_()``, as the engine reads the constructor (a
    module's ``.requires_grad_()`` returns the module, which assigning registers)."""
    v = stmt.value
    if not (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "requires_grad_"):
        return None
    flag = v.args[0] if v.args else next((k.value for k in v.keywords if k.arg == "requires_grad"), None)
    if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is True) and not _constructed_true(facts, init, flag):
        return None
    base: ast.AST = v.func.value
    while isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute):
        base = base.func.value  # (``.contiguous()``, ``.clone()`` ... before it)
    root = base
    while isinstance(root, (ast.Subscript, ast.Attribute)):
        root = root.value
    params = {a.arg for a in ast.walk(init.args) if isinstance(a, ast.arg)}  # type: ignore[attr-defined]
    if isinstance(root, ast.Name) and (root.id in params or root.id == "self"):
        return None  # what the constructor is given (a module too has ``requires_grad_()``), or one of its own parts
    for ev in facts.flow.flow(init).events:
        if ev.what == "attr_assign" and ev.stmt is stmt and ev.value is not None:
            if ev.value.kind == "tensor":  # (on a non-leaf, requires_grad_() raises: past it, a leaf)
                return {"requires_grad": True, "random": False, "call": v}
            return None
    return None


def _constructed_true(facts, init: ast.AST, flag: ast.AST) -> bool:
    """``requires_grad_(learnable)`` with ``learnable`` a constructor parameter that every in-file construction of the
    class leaves true (given, or its default)."""
    if not (isinstance(flag, ast.Name) and isinstance(init, ast.FunctionDef)):
        return False
    cls = facts.enclosing(init, (ast.ClassDef,))
    if cls is None:
        return False
    values = facts.flow.constructions.init_argument(cls.name, flag.id)
    return bool(values) and all(isinstance(x, bool) and x for x in values)


def _reads_elsewhere(info, attr: str) -> bool:
    for m in info.methods.values():
        if m.name == "__init__":
            continue
        sn = self_name(m)
        for node in walk_nodes(m):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and self_attr(node, sn) == attr:
                return True
    return False


def _touched_as_registered(facts, info, attr: str, stmt: Optional[ast.AST] = None) -> bool:
    """``register_buffer("attr", ..)``, ``self.attr = nn.Parameter(self.attr)`` or similar anywhere in the class
    (a registration under another literal name, ``register_buffer("adj", adj)``, does not touch ``attr``), except in
    the other branch of an ``if`` whose one branch makes the raw tensor ``stmt`` (``if learn: self.t = v.requires_grad_()
    else: self.register_buffer("t", v)``: the two never run together)."""
    for node in walk_nodes(info.node):
        if isinstance(node, ast.Call) and not (stmt is not None and _exclusive_branches(facts, stmt, node)):
            fname = node.func.attr if isinstance(node.func, ast.Attribute) else (node.func.id if isinstance(node.func, ast.Name) else "")
            if fname in ("register_buffer", "register_parameter", "register_module"):
                name = node.args[0] if node.args else None
            elif fname == "setattr":
                name = node.args[1] if len(node.args) > 1 else None
            else:
                name = None
            if fname in ("register_buffer", "register_parameter", "setattr", "register_module"):
                # a name given as a string literal registers that name only; a computed one may be any
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or name.value == attr:
                    return True
            q = facts.imports.qualname(node.func) or ""
            if q.endswith("Parameter"):
                for sub in walk_nodes(node):
                    if isinstance(sub, ast.Attribute) and sub.attr == attr:
                        return True
    return False


def _exclusive_branches(facts, a: ast.AST, b: ast.AST) -> bool:
    """Are ``a`` and ``b`` in the two branches (body and else) of one ``if`` statement?"""
    def side(node, top):
        cur, prev = facts.parent(node), node
        while cur is not None:
            if cur is top:
                return "body" if any(prev is x for x in top.body) else "orelse" if any(prev is x for x in top.orelse) else None
            cur, prev = facts.parent(cur), cur
        return None
    cur = facts.parent(a)
    while cur is not None:
        if isinstance(cur, ast.If):
            sa, sb = side(a, cur), side(b, cur)
            if sa and sb:
                return sa != sb
        cur = facts.parent(cur)
    return False


def optimizer_calls(facts) -> list:
    out = []
    for node in facts.walk(ast.Call):
        q = facts.imports.qualname(node.func) or ""
        if q and is_optimizer_ctor(q):
            out.append(node)
    return out


def _mentioned_in_optimizer(facts, opt_calls, attr: str, cls: str, value: ast.AST) -> bool:
    """Is ``.<attr>`` handed to an optimizer: named in its parameters, or, for a leaf (``value`` ends with
    ``.requires_grad_()`` or is made with ``requires_grad=True``), returned by a method of ``cls`` called there
    (``Adam(model.arch_parameters())`` with ``def arch_parameters(self): return [self._alphas]``)? (A computed tensor
    handed over so is no leaf: the optimizer raises, and that is this rule's finding.)"""
    leaf = isinstance(value, ast.Call) and ((isinstance(value.func, ast.Attribute) and value.func.attr == "requires_grad_")
                                            or any(k.arg == "requires_grad" for k in value.keywords))
    for call in opt_calls:
        for a in [*call.args[:1], *[k.value for k in call.keywords if k.arg == "params"]]:
            for sub in walk_nodes(a):
                if isinstance(sub, ast.Attribute) and sub.attr == attr:
                    return True
                if leaf and isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and facts.modules.returns_attr(facts.modules.method(cls, sub.func.attr), attr):
                    return True
    return False


def _optimizer_over_instance(facts, opt_calls, cls: str):
    """An optimizer given ``x.parameters()`` where ``x = cls(...)`` in the same function."""
    for call in opt_calls:
        first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)
        if not (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "parameters"):
            continue
        recv = first.func.value
        if not isinstance(recv, ast.Name):
            continue
        scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        for node in walk_nodes(scope):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == recv.id for t in node.targets):
                v = node.value
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == cls:
                    return call
    return None


_PARAMETERS_CALL = re.compile(r"\.parameters\(")


def _optimizers_by_class(facts) -> dict:
    """In-file Module class -> an optimizer constructor given the parameters of one of its instances (by the
    flow model: ``opt(list(a.parameters()) + list(b.parameters()))``, a helper's returned list...)."""
    out: dict = {}
    origins = facts.flow.root_origins
    for fl in facts.flows_matching(_PARAMETERS_CALL):  # an instance's parameters are handed over by ``x.parameters()``
        for o in fl.optimizers:
            for r in o.covered:
                origin = origins.get(r)
                if origin is not None and origin.kind == "module" and origin.cls:
                    out.setdefault(origin.cls, o.node)
    return out


def _updated_by_program(facts, info, attr: str) -> bool:
    """Does any code write ``<obj>.<attr>`` outside ``__init__``: assign it, index-assign it, call an in-place
    method on it or go through ``.data``? Then it is state the program maintains (EMA centers, running stats)."""
    init = info.methods.get("__init__")
    inside = {id(n) for n in walk_nodes(init)} if init is not None else set()
    for node in facts.walk(ast.Attribute):
        if node.attr != attr or id(node) in inside:
            continue
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        cur, parent = node, facts.parent(node)
        while isinstance(parent, ast.Subscript) and parent.value is cur:  # ``self.x[c]`` is a view of ``self.x``
            if isinstance(parent.ctx, ast.Store):
                return True
            cur, parent = parent, facts.parent(parent)
        if isinstance(parent, ast.Attribute) and (parent.attr == "data" or (parent.attr.endswith("_") and not parent.attr.startswith("_"))):
            return True
        if isinstance(parent, ast.AugAssign) and parent.target is cur:
            return True
    return False


def wrap_fixes(facts, value: ast.AST, attr: str, stmt: ast.Assign, requires_grad: bool):
    def as_parameter():
        nn, extra = ensure_import(facts, "torch.nn")
        start, end = facts.start(value), facts.end(value)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "requires_grad_" and len(value.args) == 1 and isinstance(value.args[0], ast.Name) and not value.keywords:
            # ``t.requires_grad_(learnable)``: the flag goes to the Parameter, which otherwise always requires grad
            return fix(f"Wrap in `{nn}.Parameter(...)`", replace_node(facts, value, f"{nn}.Parameter({facts.text(value.func.value)}, requires_grad={value.args[0].id})"), *extra)
        edits = [Edit(start, start, f"{nn}.Parameter("), Edit(end, end, ")")]
        call = ctor_call(facts, value)
        if call is not None:
            parts = [*call.args, *call.keywords]
            for k, kw in enumerate(parts):
                if isinstance(kw, ast.keyword) and kw.arg == "requires_grad" and k > 0 and hasattr(kw, "lineno"):
                    edits.insert(1, Edit(facts.end(parts[k - 1]), facts.end(kw), ""))  # nn.Parameter already requires grad
        return fix(f"Wrap in `{nn}.Parameter(...)`", *edits, *extra)

    def as_buffer():
        tgt = cast(ast.Attribute, stmt.targets[0])  # raw_tensor_attrs only collects ``self.<attr> = ...``
        return fix(
            f"Register as a buffer: `register_buffer({attr!r}, ...)` (saved and moved, not trained)",
            replace_node(facts, stmt, f"{facts.text(tgt.value)}.register_buffer({attr!r}, {facts.text(value)})"),
            preferred=False,
        )

    return [as_parameter] + ([] if requires_grad else [as_buffer])


class RawTensorOnModule(Rule):
    code = "GG301"
    name = "raw-tensor-on-module"
    summary = "A weight is stored on an `nn.Module` as a plain tensor: it is not a parameter, so nothing trains it."
    severity = Severity.WARNING
    # every kind of evidence of weight intent needs one of these: requires_grad=True on the tensor, an
    # optimizer over the module's parameters, or a read of the tensor's .grad
    needs = ("requires_grad", "optim", ".grad")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags tensors assigned to `self.<name>` in the `__init__` of an `nn.Module` subclass, read again in
another method (e.g. `forward`), that are meant to be weights but are not wrapped in `nn.Parameter`:
- created with `requires_grad=True` (or `.requires_grad_()`), and not handed to an optimizer by name (nor by a method of
  the class that returns it, `Adam(model.arch_parameters())` with `return [self._alphas]`);
- or the module registers no parameter at all while `model.parameters()` of an instance is given to
  an optimizer (`ValueError: optimizer got an empty parameter list`);
- or `.grad` of such a tensor is read (it is always `None`: the tensor never requires grad).

A Module class with no parameters at all whose `parameters()` an optimizer is given (`list(model.parameters())
+ list(center_loss.parameters())`) keeps what it meant to learn in buffers: each buffer it reads in `forward`
is reported (fix: `register_parameter`), unless the program updates that buffer itself (in place, by
assignment, through `.data`: running statistics, EMA centers).

A buffer made to require grad in `__init__` (`B.requires_grad_(True)` then `self.register_buffer("B", B)`, or inline:
`self.register_buffer("alphas", torch.randn(3).mul_(1e-3).requires_grad_())`)
is the same mistake: a buffer is never in `parameters()`. The fix registers it as a parameter that keeps
the tensor's own `requires_grad`.

The same for a plain list or dict on the module whose every element is such a tensor created with
`requires_grad` (`self.rel = {r: torch.empty(d, d).requires_grad_() for r in relations}`): neither the
container nor its tensors are registered. The fix wraps it in `nn.ParameterList` / `nn.ParameterDict`,
which turn each tensor into a registered `nn.Parameter` (a ParameterDict takes only string keys: the
fix is unsafe unless the keys are string literals).

Plain tensors used as constants (masks, fixed projections, positional tables, running state) are left
alone unless one of these signals says they are meant to be trained. A tensor the class registers itself
(`register_buffer` / `register_parameter` / `setattr` under its name, or a name computed at run time) is left
alone too; registering another name (`register_buffer("adj", adj)`) registers nothing else.

## Why is this bad?
Only `nn.Parameter`s (and submodules) are registered by `nn.Module.__setattr__`. A raw tensor is missing
from `model.parameters()`, so the optimizer never updates it (or refuses an empty parameter list); it is
absent from `state_dict()` checkpoints and not moved by `model.to(device)`.

## Example
```python
class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.tensor(1.0, requires_grad=True)

    def forward(self, x):
        return x * self.scale
```

## Use instead
```python
        self.scale = nn.Parameter(torch.tensor(1.0))
```
or, for a tensor that must be saved and moved but not trained, `self.register_buffer("scale", ...)`.

## Fix safety
Wrapping the tensor in `nn.Parameter(...)` is safe when it is meant to be trained: it is registered,
appears in `parameters()` and `state_dict()`, and the optimizer updates it. `nn` is imported in the
file's alias style when missing. Registering a buffer is offered as an alternative for constants.
"""
    examples = (
        Example(
            bad=False,
            name="raw-architecture-weights-handed-to-their-optimizer-by-a-method",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class SearchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
        self.head = nn.Linear(4, 2)
        self._alphas = torch.zeros(2).normal_(0, 1e-3).requires_grad_(True)

    def arch_parameters(self):
        return [self._alphas]

    def forward(self, x):
        w = F.softmax(self._alphas, dim=-1)
        return self.head(sum(w[i] * op(x) for i, op in enumerate(self.ops)))


class Architect:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.Adam(model.arch_parameters(), lr=0.1)

    def step(self, x, y):
        self.optimizer.zero_grad()
        F.cross_entropy(self.model(x), y).backward()
        self.optimizer.step()


def main():
    torch.manual_seed(0)
    model = SearchNet()
    architect = Architect(model)
    w_opt = torch.optim.SGD(model.parameters(), lr=0.1)
    a0 = model.arch_parameters()[0].detach().clone()
    for _ in range(2):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        architect.step(x, y)
        w_opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        w_opt.step()
    return {"model": model}, {"alphas_changed": not torch.equal(a0, model.arch_parameters()[0])}
""",
            expect={'facts': {'alphas_changed': True}},
        ),
        Example(
            name="tensor-made-to-require-grad-by-a-constructor-flag-left-true",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def dct_bases(channels, size):
    ks = torch.arange(size) + 0.5
    return torch.stack([torch.cos(math.pi * (c % 3) * ks / size) for c in range(channels)])


class SpectralPool(nn.Module):
    def __init__(self, channels, size, learnable=True):
        super().__init__()
        self.bases = dct_bases(channels, size).requires_grad_(learnable)
        self.fc = nn.Linear(channels, 2)

    def forward(self, x):
        return self.fc((x * self.bases).sum(-1))


def main():
    torch.manual_seed(0)
    model = SpectralPool(4, 6)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    b0 = model.bases.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 4, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"bases_changed": not torch.equal(b0, model.bases)}
""",
            lines=(16,),
            expect={"grad_ok": ["model.fc.weight"], "facts": {"bases_changed": False}},
            fixed_expect={"grad_ok": ["model.fc.weight", "model.bases"], "facts": {"bases_changed": True}},
        ),
        Example(
            bad=False,
            name="tensor-kept-fixed-by-a-constructor-flag-every-construction-turns-off",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def dct_bases(channels, size):
    ks = torch.arange(size) + 0.5
    return torch.stack([torch.cos(math.pi * (c % 3) * ks / size) for c in range(channels)])


class SpectralPool(nn.Module):
    def __init__(self, channels, size, learnable=True):
        super().__init__()
        self.bases = dct_bases(channels, size).requires_grad_(learnable)
        self.fc = nn.Linear(channels, 2)

    def forward(self, x):
        return self.fc((x * self.bases).sum(-1))


def main():
    torch.manual_seed(0)
    model = SpectralPool(4, 6, learnable=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    b0 = model.bases.detach().clone()
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(torch.randn(8, 4, 6)), torch.randint(0, 2, (8,))).backward()
        optimizer.step()
    return {"model": model}, {"bases_changed": not torch.equal(b0, model.bases)}
""",
            expect={"grad_ok": ["model.fc.weight"], "facts": {"bases_changed": False}},
        ),
        Example(
            name="svd-factors-made-leaves-with-requires-grad-in-init",
            code="""import torch
import torch.nn as nn


class LowRank(nn.Module):
    def __init__(self, dense, rank):
        super().__init__()
        U, S, Vh = torch.linalg.svd(dense.detach(), full_matrices=False)
        self.U = (U[:, :rank] * S[:rank]).contiguous().requires_grad_()
        self.V = Vh[:rank].contiguous().requires_grad_()
        self.bias = nn.Parameter(torch.zeros(dense.size(0)))

    def forward(self, x):
        return (x @ self.V.t()) @ self.U.t() + self.bias


def main():
    torch.manual_seed(0)
    layer = LowRank(torch.randn(6, 4), 2)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    u0 = layer.U.detach().clone()
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}, {"factors_changed": not torch.equal(u0, layer.U.detach())}
""",
            lines=(9, 10),
            expect={"grad_ok": ["layer.bias"], "facts": {"factors_changed": False}},
        ),
        Example(
            bad=False,
            name="module-given-to-init-made-trainable-with-requires-grad",
            code="""import torch
import torch.nn as nn


class Adapter(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder.requires_grad_()
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))


def main():
    torch.manual_seed(0)
    model = Adapter(nn.Linear(4, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.encoder.weight", "model.head.weight"]},
        ),
        Example(
            name="learned-prototypes-registered-as-a-buffer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PrototypeLoss(nn.Module):
    def __init__(self, n_classes, dim):
        super().__init__()
        self.register_buffer("prototypes", torch.randn(n_classes, dim))

    def forward(self, feats, labels):
        return (feats - self.prototypes[labels]).pow(2).sum(1).mean()


def main():
    torch.manual_seed(0)
    net = nn.Linear(6, 4)
    proto = PrototypeLoss(3, 4)
    params = list(net.parameters()) + list(proto.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    before = proto.prototypes.clone()
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        loss = F.mse_loss(net(x), torch.zeros(8, 4)) + proto(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net, "proto.prototypes": proto.prototypes}, {"changed": not torch.equal(before, proto.prototypes)}
""",
            lines=(9,),
            expect={"grad_none": ["proto.prototypes"], "facts": {"changed": False}},
            fixed_expect={"grad_ok": ["proto.prototypes"], "facts": {"changed": True}},
        ),
        Example(
            bad=False,
            name="prototypes-buffer-updated-by-the-program",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class PrototypeLoss(nn.Module):
    def __init__(self, n_classes, dim, momentum=0.5):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("prototypes", torch.randn(n_classes, dim))

    def forward(self, feats, labels):
        return (feats - self.prototypes[labels]).pow(2).sum(1).mean()

    @torch.no_grad()
    def update(self, feats, labels):
        for c in labels.unique():
            mean = feats[labels == c].mean(0)
            self.prototypes[c].mul_(self.momentum).add_((1 - self.momentum) * mean)


def main():
    torch.manual_seed(0)
    net = nn.Linear(6, 4)
    proto = PrototypeLoss(3, 4)
    params = list(net.parameters()) + list(proto.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    before = proto.prototypes.clone()
    for _ in range(3):
        x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
        feats = net(x)
        loss = proto(feats, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        proto.update(feats.detach(), y)
    return {"net": net}, {"changed": not torch.equal(before, proto.prototypes)}
""",
            expect={"grad_ok": ["net.weight"], "facts": {"changed": True}},
        ),
        Example(
            name="learned-frequencies-registered-as-a-buffer",
            code="""import math

import torch
import torch.nn as nn


class FourierFeatures(nn.Module):
    def __init__(self, n_freq=8, learnable=True):
        super().__init__()
        B = torch.randn(2, n_freq) * 3.0
        if learnable:
            B.requires_grad_(True)
        self.register_buffer("B", B)

    def forward(self, v):
        proj = 2 * math.pi * v @ self.B
        return torch.cat([proj.cos(), proj.sin()], -1)


def main():
    torch.manual_seed(0)
    enc = FourierFeatures()
    head = nn.Linear(16, 1)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=0.05)
    b0 = enc.B.detach().clone()
    for _ in range(2):
        loss = head(enc(torch.rand(10, 2))).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}, {"frequencies_changed": not torch.equal(b0, enc.B.detach())}
""",
            lines=(13,),
            expect={"grad_ok": ["head.weight"], "facts": {"frequencies_changed": False}},
            fixed_expect={"grad_ok": ["head.weight"], "facts": {"frequencies_changed": True}},
        ),
        Example(
            bad=False,
            name="fixed-frequencies-buffer",
            code="""import math

import torch
import torch.nn as nn


class FourierFeatures(nn.Module):
    def __init__(self, n_freq=8):
        super().__init__()
        self.register_buffer("B", torch.randn(2, n_freq) * 3.0)

    def forward(self, v):
        proj = 2 * math.pi * v @ self.B
        return torch.cat([proj.cos(), proj.sin()], -1)


def main():
    torch.manual_seed(0)
    enc = FourierFeatures()
    head = nn.Linear(16, 1)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    loss = head(enc(torch.rand(10, 2))).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"head": head}
""",
            expect={"grad_ok": ["head.weight"]},
        ),
        Example(
            name="relation-weights-in-a-plain-dict",
            code="""import torch
import torch.nn as nn


class RelationLayer(nn.Module):
    def __init__(self, d, relations):
        super().__init__()
        self.self_loop = nn.Linear(d, d)
        self.rel = {r: nn.init.xavier_uniform_(torch.empty(d, d)).requires_grad_() for r in relations}

    def forward(self, x, rel):
        return self.self_loop(x) + x @ self.rel[rel]


def main():
    torch.manual_seed(0)
    layer = RelationLayer(4, ("cites", "wrote"))
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    w0 = layer.rel["cites"].detach().clone()
    for _ in range(2):
        loss = layer(torch.randn(5, 4), "cites").pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"layer": layer}, {"rel_changed": not torch.equal(w0, layer.rel["cites"].detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["layer.self_loop.weight"], "facts": {"rel_changed": False}},
            fixed_expect={"grad_ok": ["layer.self_loop.weight"], "facts": {"rel_changed": True}},
        ),
        Example(
            name="scales-in-a-plain-list",
            code="""import torch
import torch.nn as nn


class Scaled(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.scales = [torch.ones(d, requires_grad=True) for _ in range(n)]

    def forward(self, x):
        for block, s in zip(self.blocks, self.scales):
            x = block(x) * s
        return x


def main():
    torch.manual_seed(0)
    model = Scaled(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    s0 = model.scales[0].detach().clone()
    for _ in range(2):
        loss = model(torch.randn(3, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"scale_changed": not torch.equal(s0, model.scales[0].detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["model.blocks.0.weight"], "facts": {"scale_changed": False}},
            fixed_expect={"grad_ok": ["model.blocks.0.weight", "model.scales.0"], "facts": {"scale_changed": True}},
        ),
        Example(
            bad=False,
            name="list-of-leaves-given-to-the-optimizer",
            code="""import torch
import torch.nn as nn


class Mixture(nn.Module):
    def __init__(self, d, k):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.centers = [torch.randn(d, requires_grad=True) for _ in range(k)]

    def forward(self, x):
        h = self.proj(x)
        return torch.stack([(h - c).pow(2).sum(-1) for c in self.centers], -1)


def main():
    torch.manual_seed(0)
    model = Mixture(4, 3)
    opt = torch.optim.SGD(list(model.parameters()) + model.centers, lr=0.1)
    c0 = model.centers[0].detach().clone()
    loss = model(torch.randn(6, 4)).min(-1).values.mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"center_changed": not torch.equal(c0, model.centers[0].detach())}
""",
            expect={"grad_ok": ["model.proj.weight"], "facts": {"center_changed": True}},
        ),
        Example(
            name="only-raw-tensors",
            code="""import torch
import torch.nn as nn


class LowRank(nn.Module):
    def __init__(self, n_in, n_out, k=2):
        super().__init__()
        self.a = torch.randn(n_out, k) * 0.1
        self.b = torch.randn(k, n_in) * 0.1

    def forward(self, x):
        return x @ (self.a @ self.b).t()


def main():
    torch.manual_seed(0)
    layer = LowRank(5, 2)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(torch.randn(3, 5)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer}
""",
            lines=(8, 9),
            expect={"error": "optimizer got an empty parameter list"},
            fixed_expect={"grad_ok": ["layer.a", "layer.b"]},
        ),
        Example(
            name="requires-grad-temperature",
            code="""import torch
from torch import nn as tnn


class Scorer(tnn.Module):
    def __init__(self):
        super().__init__()
        self.proj = tnn.Linear(4, 3)
        self.temp = torch.ones(1, requires_grad=True)

    def forward(self, x):
        return self.proj(x) / self.temp


def main():
    torch.manual_seed(0)
    model = Scorer()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    t0 = model.temp.detach().clone()
    for _ in range(2):
        loss = nn_loss(model(torch.randn(6, 4)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"temp_changed": not torch.equal(t0, model.temp.detach())}


def nn_loss(out):
    return (out - 1.0).pow(2).mean()
""",
            lines=(9,),
            expect={"grad_ok": ["model.proj.weight"], "facts": {"temp_changed": False}},
        ),
        Example(
            name="node-embeddings-beside-a-registered-buffer",
            code="""import torch
import torch.nn as nn


class NodeClassifier(nn.Module):
    def __init__(self, adj, n_nodes, d=4):
        super().__init__()
        self.register_buffer("adj", adj)
        self.node_emb = torch.randn(n_nodes, d, requires_grad=True)
        self.lin = nn.Linear(d, 2)

    def forward(self):
        return self.adj @ self.lin(self.node_emb)


def main():
    torch.manual_seed(0)
    model = NodeClassifier(torch.eye(5), 5)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    e0 = model.node_emb.detach().clone()
    for _ in range(2):
        loss = model().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"model": model}, {"emb_changed": not torch.equal(e0, model.node_emb.detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["model.lin.weight"], "facts": {"emb_changed": False}},
            fixed_expect={"grad_ok": ["model.lin.weight", "model.node_emb"], "facts": {"emb_changed": True}},
        ),
        Example(
            bad=False,
            name="raw-tensors-registered-by-computed-names",
            code="""import torch
import torch.nn as nn


class Affine(nn.Module):
    def __init__(self, d, learned=("scale",)):
        super().__init__()
        self.register_buffer("mask", torch.ones(d))
        self.scale = torch.ones(d, requires_grad=True)
        for name in learned:
            setattr(self, name, nn.Parameter(getattr(self, name).detach()))

    def forward(self, x):
        return x * self.scale * self.mask


def main():
    torch.manual_seed(0)
    model = Affine(4)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    s0 = model.scale.detach().clone()
    loss = (model(torch.randn(3, 4)) - 1).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}, {"scale_changed": not torch.equal(s0, model.scale.detach())}
""",
            expect={"grad_ok": ["model.scale"], "facts": {"scale_changed": True}},
        ),
        Example(
            bad=False,
            name="constant-mask-and-parameter",
            code="""import torch
import torch.nn as nn


class Masked(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d, d) * 0.1)
        self.mask = torch.tril(torch.ones(d, d))
        self.noise = torch.randn(d) * 0.01

    def forward(self, x):
        return x @ (self.weight * self.mask).t() + self.noise


def main():
    torch.manual_seed(0)
    m = Masked(4)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    loss = m(torch.randn(3, 4)).pow(2).sum()
    loss.backward()
    opt.step()
    return {"m": m}
""",
            expect={"grad_ok": ["m.weight"]},
        ),
        Example(
            bad=False,
            name="separately-optimized-leaf",
            code="""import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(3, 2)
        self.log_alpha = torch.zeros(1, requires_grad=True)

    def forward(self, x):
        return self.net(x) * self.log_alpha.exp()


def main():
    torch.manual_seed(0)
    pi = Policy()
    opt = torch.optim.Adam(list(pi.parameters()) + [pi.log_alpha], lr=0.1)
    loss = pi(torch.randn(5, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"pi": pi, "alpha": pi.log_alpha}
""",
            expect={"grad_ok": ["pi.net.weight", "alpha"]},
        ),
        Example(
            name="architecture-weights-registered-as-a-buffer-made-to-require-grad-inline",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class MixedOp(nn.Module):
    def __init__(self, d=6):
        super().__init__()
        self.ops = nn.ModuleList([nn.Linear(d, d), nn.Linear(d, d)])
        self.register_buffer("alphas", torch.randn(2).mul_(1e-3).requires_grad_())

    def forward(self, x):
        w = F.softmax(self.alphas, dim=0)
        return sum(wi * op(x) for wi, op in zip(w, self.ops))


def main():
    torch.manual_seed(0)
    net = MixedOp()
    arch = [p for n, p in net.named_parameters() if "alphas" in n]
    a_opt = torch.optim.Adam(arch or [torch.zeros(1, requires_grad=True)], lr=0.1)
    before = net.alphas.detach().clone()
    for _ in range(2):
        a_opt.zero_grad()
        net(torch.randn(4, 6)).pow(2).mean().backward()
        a_opt.step()
    return {"net": net}, {"alphas_changed": not torch.equal(before, net.alphas)}
""",
            lines=(10,),
            expect={"facts": {"alphas_changed": False}},
            fixed_expect={"facts": {"alphas_changed": True}},
        ),
        Example(
            name="buffer-made-not-to-require-grad-inline",
            bad=False,
            code="""import torch
import torch.nn as nn


class Masked(nn.Module):
    def __init__(self, d=6):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.register_buffer("mask", torch.ones(d).requires_grad_(False))

    def forward(self, x):
        return self.fc(x) * self.mask


def main():
    torch.manual_seed(0)
    net = Masked()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    net(torch.randn(4, 6)).pow(2).mean().backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.fc.weight"]},
        ),
        Example(
            name="learnable-temperature-made-a-leaf-in-one-branch-buffer-in-the-other",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledCosine(nn.Module):
    def __init__(self, dim=8, init_temperature=0.1, learnable=True):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        scale = torch.tensor(math.log(1.0 / init_temperature))
        if learnable:
            self.log_scale = scale.clone().requires_grad_(True)
        else:
            self.register_buffer("log_scale", scale)

    def forward(self, a, b):
        a, b = F.normalize(self.proj(a), dim=-1), F.normalize(self.proj(b), dim=-1)
        logits = self.log_scale.exp() * a @ b.t()
        return F.cross_entropy(logits, torch.arange(len(a)))


def main():
    torch.manual_seed(0)
    head = ScaledCosine()
    before = head.log_scale.detach().clone()
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    for _ in range(2):
        loss = head(torch.randn(4, 8), torch.randn(4, 8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}, {"scale_changed": not torch.equal(before, head.log_scale.detach())}
""",
            lines=(14,),
            expect={"facts": {"scale_changed": False}},
            fixed_expect={"facts": {"scale_changed": True}},
        ),
        Example(
            bad=False,
            name="learnable-temperature-parameter-in-one-branch-buffer-in-the-other",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledCosine(nn.Module):
    def __init__(self, dim=8, init_temperature=0.1, learnable=True):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        scale = torch.tensor(math.log(1.0 / init_temperature))
        if learnable:
            self.log_scale = nn.Parameter(scale.clone())
        else:
            self.register_buffer("log_scale", scale)

    def forward(self, a, b):
        a, b = F.normalize(self.proj(a), dim=-1), F.normalize(self.proj(b), dim=-1)
        logits = self.log_scale.exp() * a @ b.t()
        return F.cross_entropy(logits, torch.arange(len(a)))


def main():
    torch.manual_seed(0)
    head = ScaledCosine()
    before = head.log_scale.detach().clone()
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    for _ in range(2):
        loss = head(torch.randn(4, 8), torch.randn(4, 8))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head}, {"scale_changed": not torch.equal(before, head.log_scale.detach())}
""",
            expect={"facts": {"scale_changed": True}},
        ),
    )

    def _container_finding(self, facts, info, attr: str, value: ast.AST, container: str):
        what = "list" if container == "list" else "dict"
        return self.finding(
            facts,
            value,
            f"`self.{attr}` keeps tensors that require grad in a plain {what}: a module registers neither the {what} nor its tensors, so they are missing from `{info.name}.parameters()` and the optimizer never updates them",
            fixes=[lambda: _container_fix(facts, value, container)],
            explanation="`nn.Module` registers `nn.Parameter` attributes, submodules and `nn.ParameterList`/`nn.ParameterDict`; "
            "tensors inside a Python list or dict get a `.grad` but are never stepped, zeroed, saved or moved by `.to(device)`.",
        )

    def _buffers_requiring_grad(self, facts, info):
        """``self.register_buffer("B", B)`` in ``__init__`` where ``B`` was made to require grad there
        (``torch.randn(..., requires_grad=True)``, ``B.requires_grad_(True)``, ``B.requires_grad = True``, on any
        path): the intent is a learned tensor, but a buffer is never in ``parameters()``."""
        init = info.methods.get("__init__")
        if init is None or "register_buffer" not in facts.text(init):
            return
        sn = self_name(init)
        made: dict = {}  # local name -> the node that made it require grad
        for node in walk_nodes(init):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                ti = tensor_ctor(facts, node.value)
                if ti and ti["requires_grad"]:
                    made[node.targets[0].id] = node
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_" and isinstance(node.func.value, ast.Name):
                if not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False):
                    made[node.func.value.id] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute) and node.targets[0].attr == "requires_grad" and isinstance(node.targets[0].value, ast.Name):
                if isinstance(node.value, ast.Constant) and node.value.value is True:
                    made[node.targets[0].value.id] = node
        for node in walk_nodes(init):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register_buffer" and isinstance(node.func.value, ast.Name) and node.func.value.id == sn and len(node.args) >= 2):
                continue
            name_node, value = node.args[0], node.args[1]
            if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
                continue
            why = None
            if isinstance(value, ast.Name) and value.id in made and made[value.id].lineno <= node.lineno:
                why = made[value.id]
            elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "requires_grad_" and not value.keywords
                  and (not value.args or (isinstance(value.args[0], ast.Constant) and value.args[0].value is True))):
                why = value  # ``register_buffer("alphas", torch.randn(3).mul_(1e-3).requires_grad_())``
            else:
                ti = tensor_ctor(facts, value)
                if ti and ti["requires_grad"]:
                    why = value
            if why is None:
                continue
            attr = name_node.value
            st = facts.parent(node)

            def build(call=node, attr=attr, value=value, st=st):
                if not (isinstance(st, ast.Expr) and st.value is call):
                    return None
                nn, extra = ensure_import(facts, "torch.nn")
                if isinstance(value, ast.Call):  # ``X.requires_grad_()``: a parameter of ``X`` (which requires grad by default)
                    made = f"{nn}.Parameter({facts.text(value.func.value)})"  # type: ignore[attr-defined]
                else:
                    v = facts.text(value)
                    made = f"{nn}.Parameter({v}, requires_grad={v}.requires_grad)"
                return fix(
                    f"Register `{attr}` as a parameter (it trains when it requires grad)",
                    replace_node(facts, call, f"{sn}.register_parameter({attr!r}, {made})"),
                    *extra,
                )

            yield self.finding(
                facts,
                node,
                f"`{attr}` requires grad but is registered as a buffer: buffers are not in `{info.name}.parameters()`, so the optimizer never updates it",
                related=[(why, "made to require grad here")] if why is not value else [],
                fixes=[build] if isinstance(value, ast.Name) or why is value and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "requires_grad_" else [],
                explanation="`register_buffer` is for state that is saved and moved with the module but not trained; a buffer that requires "
                "grad gets a `.grad`, yet optimizers built from `parameters()` never see it. `nn.Parameter` (or `register_parameter`) makes it trainable.",
            )

    def _buffers_of_parameterless_module(self, facts, info, handed: dict):
        """A Module class with no parameters at all whose ``parameters()`` an optimizer is given (``params =
        list(model.parameters()) + list(center_loss.parameters())``): the tensors it keeps as buffers and reads in
        ``forward`` are what the author meant to train, and a buffer is never in ``parameters()``. Buffers the
        program updates itself (in place, by assignment, through ``.data``) are state kept on purpose."""
        opt = handed.get(info.name)
        init = info.methods.get("__init__")
        if opt is None or init is None or may_have_parameters(facts, info):
            return
        sn = self_name(init)
        for node in walk_nodes(init):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "register_buffer" and isinstance(node.func.value, ast.Name) and node.func.value.id == sn and len(node.args) >= 2):
                continue
            name_node, value = node.args[0], node.args[1]
            if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
                continue
            attr = name_node.value
            ti = tensor_ctor(facts, value)
            if not ti or ti["requires_grad"] or not _reads_elsewhere(info, attr) or _updated_by_program(facts, info, attr):
                continue
            st = facts.parent(node)

            def build(call=node, attr=attr, value=value, st=st, sn=sn):
                if not (isinstance(st, ast.Expr) and st.value is call):
                    return None
                nn, extra = ensure_import(facts, "torch.nn")
                return fix(f"Register `{attr}` as a parameter", replace_node(facts, call, f"{sn}.register_parameter({attr!r}, {nn}.Parameter({facts.text(value)}))"), *extra)

            yield self.finding(
                facts,
                node,
                f"`{attr}` is a buffer and `{info.name}` has no parameters: the optimizer given `{info.name}.parameters()` (line {opt.lineno}) gets "
                f"nothing from it, so `{attr}` never changes",
                related=[(opt, f"`{info.name}.parameters()` is empty here")],
                fixes=[build],
                explanation="`register_buffer` is for state that is saved and moved with the module but not trained: buffers do not require grad "
                "and are not in `parameters()`. A tensor meant to be learned is an `nn.Parameter` (`register_parameter`).",
            )

    def check(self, facts):
        handed: Optional[dict] = None
        for info in facts.modules.classes.values():
            if info.is_module is True:
                yield from self._buffers_requiring_grad(facts, info)
                if "register_buffer" in facts.text(info.node) and not may_have_parameters(facts, info):
                    if handed is None:
                        handed = _optimizers_by_class(facts)
                    yield from self._buffers_of_parameterless_module(facts, info, handed)
        opt_calls = None
        grad_reads = None
        for info in facts.modules.classes.values():
            if info.is_module is not True or "__init__" not in info.methods:
                continue
            raws = raw_tensor_attrs(facts, info)
            if not raws:
                continue
            if opt_calls is None:
                opt_calls = optimizer_calls(facts)
            used = {a: v for a, v in raws.items() if _reads_elsewhere(info, a) and not _touched_as_registered(facts, info, a, v[0])}
            if not used:
                continue
            empty_opt = None
            if not may_have_parameters(facts, info):
                empty_opt = _optimizer_over_instance(facts, opt_calls, info.name)
            for attr, (stmt, value, ti) in used.items():
                if _mentioned_in_optimizer(facts, opt_calls, attr, info.name, value):
                    continue
                if ti.get("container"):
                    if ti["requires_grad"]:
                        yield self._container_finding(facts, info, attr, value, ti["container"])
                    continue
                if empty_opt is not None:
                    yield self.finding(
                        facts,
                        value,
                        f"`self.{attr}` is a plain tensor, not an `nn.Parameter`: `{info.name}` registers no parameters, so the optimizer gets an empty parameter list",
                        severity=Severity.ERROR,
                        related=[(empty_opt, f"`{info.name}.parameters()` is empty here")],
                        fixes=wrap_fixes(facts, value, attr, stmt, ti["requires_grad"]),
                        explanation="`nn.Module` registers only `nn.Parameter`s and submodules; `torch.optim` raises `ValueError: optimizer got an empty parameter list`.",
                    )
                elif ti["requires_grad"]:
                    yield self.finding(
                        facts,
                        value,
                        f"`self.{attr}` requires grad but is not an `nn.Parameter`: it is missing from `{info.name}.parameters()` and `state_dict()`, so the optimizer never updates it",
                        fixes=wrap_fixes(facts, value, attr, stmt, True),
                        explanation="A raw tensor attribute gets a `.grad`, but `model.parameters()` does not list it: `optimizer.step()` leaves it at its initial value, and checkpoints and `.to(device)` skip it.",
                    )
                else:
                    if grad_reads is None:
                        grad_reads = [n for n in facts.walk(ast.Attribute) if n.attr == "grad" and isinstance(n.value, ast.Attribute)]
                    for g in grad_reads:
                        if g.value.attr == attr and _unique_attr(facts, attr, info.name):
                            # on the assignment, where the `nn.Parameter` fix goes; the read is the evidence
                            yield self.finding(
                                facts,
                                value,
                                f"`self.{attr}` is a plain tensor (not an `nn.Parameter`) and does not require grad: its `.grad`, read at line {g.lineno}, is always None",
                                related=[(g, "`.grad` read here: always None")],
                                fixes=wrap_fixes(facts, value, attr, stmt, False),
                                explanation="Only tensors that require grad get a `.grad`; a raw tensor on a Module is a constant to autograd and to the optimizer.",
                            )
                            break


def _container_fix(facts, value: ast.AST, container: str):
    """``nn.ParameterList(...)`` / ``nn.ParameterDict(...)`` around the container: both make each tensor an
    ``nn.Parameter`` and register it. A ParameterDict takes only string keys: unsafe when they are not known."""
    nn, extra = ensure_import(facts, "torch.nn")
    cls = "ParameterList" if container == "list" else "ParameterDict"
    keys = value.keys if isinstance(value, ast.Dict) else []
    sure = container == "list" or (keys and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in keys))
    text = facts.text(value)
    if isinstance(value, ast.Tuple) and not text.startswith("("):
        text = f"({text})"
    return fix(f"Register the tensors: wrap in `{nn}.{cls}(...)`", replace_node(facts, value, f"{nn}.{cls}({text})"), *extra, unsafe=not sure)


def _unique_attr(facts, attr: str, cls: str) -> bool:
    """No other class in the file defines ``self.<attr>``."""
    for info in facts.modules.classes.values():
        if info.name == cls:
            continue
        for node in walk_nodes(info.node):
            if isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.ctx, ast.Store):
                return False
    return True
