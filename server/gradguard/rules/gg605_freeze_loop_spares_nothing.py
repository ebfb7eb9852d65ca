"""GG605 freeze-loop-spares-nothing: a freeze inside ``for m in model.modules()`` that spares some module types
freezes them anyway (``modules()`` yields ``model`` itself first, and ``m.parameters()`` recurses)."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

_MAX_DEPTH = 8
_UNFREEZE = re.compile(r"\.requires_grad\s*=\s*(?!False\b)[A-Za-z_]|requires_grad_\(\s*(?!False\b|requires_grad\s*=\s*False\b)[^\s)]|requires_grad_\(\s*\)")


class FreezeLoopSparesNothing(Rule):
    code = "GG605"
    name = "freeze-loop-spares-nothing"
    summary = (
        "A freeze in `for m in model.modules()` that spares some layer types freezes them too: the first `m` is `model` "
        "itself and `m.parameters()` recurses."
    )
    severity = Severity.WARNING
    needs = ("modules(",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags a loop over `model.modules()` (or `named_modules()`) that freezes the parameters of each module an
`isinstance` test lets through (`if not isinstance(m, nn.LayerNorm): for p in m.parameters(): p.requires_grad =
False`, or `m.requires_grad_(False)`), when `model` itself passes the test and contains layers the test spares.
A file that sets `requires_grad` back on anywhere (the spared layers unfrozen after the loop, perhaps) is left
alone: the end state is not known from the loop.

## Why is this bad?
`modules()` yields the module it is called on first, then every container (a `Sequential`, a transformer
block) before the layers inside them, and `m.parameters()` (like `m.requires_grad_()`) recurses into all of
`m`'s submodules. So the very first iteration freezes every parameter of `model`, the layers the test meant
to keep trainable (norm layers for norm-tuning, biases, adapters) included. Nothing raises: they get no
gradient and the run trains only what lies outside `model`.

## Example
```python
for m in backbone.modules():
    if not isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)):
        for p in m.parameters():
            p.requires_grad = False
```

## Use instead
```python
for m in backbone.modules():
    if not isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)):
        for p in m.parameters(recurse=False):
            p.requires_grad = False
```
(each parameter belongs to exactly one module, so `recurse=False` freezes exactly the parameters of the layers
the test lets through), or freeze everything first and then unfreeze the layers to keep.

## Fix safety
The fix adds `recurse=False` to `m.parameters()`: it changes which parameters train (the spared layers
train again), so it is unsafe. A loop that calls `m.requires_grad_(False)` gets no fix.
"""
    examples = (
        Example(
            name="norm-tuning-freeze-catches-the-containers",
            code="""import torch
import torch.nn as nn


def freeze_all_but_norms(model):
    for m in model.modules():
        if not isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
            for p in m.parameters():
                p.requires_grad = False


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 8))
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        return self.norm(self.body(x))


def main():
    torch.manual_seed(0)
    model = Net()
    freeze_all_but_norms(model)
    head = nn.Linear(8, 2)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        head(model(torch.randn(6, 4))).pow(2).mean().backward()
        opt.step()
    return {"model": model, "head": head}
""",
            lines=(8,),
            expect={"grad_none": ["model.norm.weight", "model.body.1.weight"], "grad_ok": ["head.weight"]},
            fixed_expect={"grad_ok": ["model.norm.weight", "model.body.1.weight", "head.weight"], "grad_none": ["model.body.0.weight"]},
        ),
        Example(
            name="named-modules-skip-with-continue-and-requires-grad-call",
            code="""import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, x):
        return self.bn(self.fc(x)).relu()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(Block(), Block(), nn.Linear(4, 1))
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm1d):
            continue
        m.requires_grad_(False)
    extra = nn.Linear(1, 1)
    extra(model(torch.randn(8, 4))).mean().backward()
    return {"model": model}
""",
            lines=(21,),
            fixable=False,  # no fix is offered for requires_grad_(): the loop must be rewritten over parameters(recurse=False)
            expect={"grad_none": ["model.0.bn.weight", "model.1.bn.weight", "model.2.weight"]},
        ),
        Example(
            name="module-method-freezes-itself-but-the-norms",
            code="""import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.norm(self.proj(x)))

    def tune_norms_only(self):
        for m in self.modules():
            if isinstance(m, nn.LayerNorm):
                continue
            for p in m.parameters():
                p.requires_grad_(False)


def main():
    torch.manual_seed(0)
    enc = Encoder()
    enc.tune_norms_only()
    scale = torch.ones(1, requires_grad=True)
    (enc(torch.randn(5, 4)) * scale).sum().backward()
    return {"enc": enc}
""",
            lines=(19,),
            expect={"grad_none": ["enc.norm.weight", "enc.proj.weight"]},
            fixed_expect={"grad_ok": ["enc.norm.weight"], "grad_none": ["enc.proj.weight", "enc.out.weight"]},
        ),
        Example(
            bad=False,
            name="own-parameters-only",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    for m in model.modules():
        if not isinstance(m, nn.LayerNorm):
            for p in m.parameters(recurse=False):
                p.requires_grad = False
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.zero_grad()
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.1.weight"], "grad_none": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="freeze-only-the-chosen-layer-type",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            for p in m.parameters():
                p.requires_grad = False
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.zero_grad()
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.3.weight"], "grad_none": ["model.1.weight"]},
        ),
        Example(
            bad=False,
            name="same-loop-then-the-norms-unfrozen-again",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    for m in model.modules():
        if not isinstance(m, nn.LayerNorm):
            for p in m.parameters():
                p.requires_grad = False
    model[1].requires_grad_(True)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.zero_grad()
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.1.weight"], "grad_none": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="freeze-all-then-unfreeze-the-norms",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            for p in m.parameters():
                p.requires_grad = True
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.zero_grad()
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.1.weight"], "grad_none": ["model.0.weight"]},
        ),
    )

    def check(self, facts):
        if "requires_grad" in facts.source.text and _UNFREEZE.search(facts.source.text):  # (every match holds the word)
            return  # something is unfrozen again (the spared layers after the loop, perhaps): the end state is not known here
        for loop in facts.walk(ast.For):
            got = _modules_loop(loop)
            if got is None:
                continue
            root, var = got
            for freeze, cond, spared_when in _filtered_freezes(loop, var):
                roots = _root_classes(facts, loop, root)
                if not roots:
                    continue
                # every call's module is frozen whole (the test lets it through) and holds a layer the test spares
                if any(_isinstance_test(facts, cond, var, c) in (None, spared_when) for _, c, _ in roots):
                    continue
                spared = [s for _, c, ctor in roots for s in _built_inside(facts, c, ctor) if _isinstance_test(facts, cond, var, s) == spared_when]
                if not spared:
                    continue
                call, cls, _ = roots[0]
                rname = facts.text(root)
                shown = _short(spared[0])
                fixes = [lambda f=freeze, c=call: _recurse_false(facts, f)] if _params_call(freeze, var) is not None else []
                walk = f"{rname}.{loop.iter.func.attr}()"
                related = [(loop.iter, f"`{walk}` yields `{rname}` itself first, then its containers")]
                if call is not None:
                    related.append((call, f"`{rname}` is a `{_short(cls)}` here: every parameter under it is frozen"))
                yield self.finding(
                    facts,
                    freeze,
                    f"this freezes every parameter of `{rname}`, the `{shown}` layers the `isinstance` test spares included: "
                    f"`{walk}` yields `{rname}` itself (a `{_short(cls)}`, which the test lets through) first, and "
                    f"`{_receiver_text(freeze, var)}` recurses into all its submodules",
                    related=related,
                    fixes=fixes,
                    explanation="`Module.modules()` starts with the module itself and yields containers before the layers in them; "
                    "`parameters()` and `requires_grad_()` cover every submodule. Freeze only each module's own parameters "
                    "(`m.parameters(recurse=False)`), or freeze everything and then unfreeze the layers to keep.",
                )


def _modules_loop(loop: ast.For) -> Optional[tuple]:
    """``for m in X.modules()`` / ``for name, m in X.named_modules()``: (X, the module variable)."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("modules", "named_modules")):
        return None
    if it.func.attr == "modules" and (it.args or it.keywords):
        return None
    t = loop.target
    if it.func.attr == "named_modules":
        if not (isinstance(t, ast.Tuple) and len(t.elts) == 2 and isinstance(t.elts[1], ast.Name)):
            return None
        t = t.elts[1]
    if not isinstance(t, ast.Name):
        return None
    return it.func.value, t.id


def _filtered_freezes(loop: ast.For, var: str):
    """(freezing statement, test, the test's value for the layers it spares): ``if TEST: <freeze>`` spares the
    layers the test is False for; ``if TEST: continue`` then ``<freeze>`` those it is True for."""
    skip = None
    for st in loop.body:
        if isinstance(st, ast.If) and not st.orelse and len(st.body) == 1 and isinstance(st.body[0], ast.Continue):
            skip = st.test
            continue
        if isinstance(st, ast.If) and not st.orelse:
            for inner in st.body:
                if _freezes(inner, var):
                    yield inner, st.test, False
        elif skip is not None and _freezes(st, var):
            yield st, skip, True


def _params_call(st: ast.stmt, var: str) -> Optional[ast.Call]:
    """``m.parameters()`` / ``m.named_parameters()`` (recursing) as the iterable of ``st``, a ``for``."""
    if not isinstance(st, ast.For):
        return None
    it = st.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("parameters", "named_parameters")):
        return None
    if not (isinstance(it.func.value, ast.Name) and it.func.value.id == var) or it.args:
        return None
    for k in it.keywords:
        if k.arg != "recurse" or not (isinstance(k.value, ast.Constant) and k.value.value is True):
            return None
    return it


def _freezes(st: ast.stmt, var: str) -> bool:
    """``for p in m.parameters(): p.requires_grad = False`` (or ``p.requires_grad_(False)``), or ``m.requires_grad_(False)``."""
    if _params_call(st, var) is not None:
        t = st.target  # type: ignore[attr-defined]
        p = t.elts[-1] if isinstance(t, ast.Tuple) and t.elts else t
        if not isinstance(p, ast.Name):
            return False
        return any(_sets_off(s, p.id) for s in st.body)  # type: ignore[attr-defined]
    return _sets_off(st, var)


def _sets_off(st: ast.stmt, name: str) -> bool:
    if isinstance(st, ast.Assign) and len(st.targets) == 1:
        t = st.targets[0]
        return (isinstance(t, ast.Attribute) and t.attr == "requires_grad" and isinstance(t.value, ast.Name) and t.value.id == name
                and isinstance(st.value, ast.Constant) and st.value.value is False)
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
        c = st.value
        if isinstance(c.func, ast.Attribute) and c.func.attr == "requires_grad_" and isinstance(c.func.value, ast.Name) and c.func.value.id == name:
            arg = c.args[0] if c.args else next((k.value for k in c.keywords if k.arg == "requires_grad"), None)
            return isinstance(arg, ast.Constant) and arg.value is False
    return False


def _receiver_text(st: ast.stmt, var: str) -> str:
    call = _params_call(st, var)
    return f"{var}.{call.func.attr}()" if call is not None else f"{var}.requires_grad_()"  # type: ignore[attr-defined]


def _short(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


def _recurse_false(facts, st: ast.stmt):
    call = _params_call(st, _params_var(st))
    if call is None:
        return None
    return fix("Freeze each module's own parameters (`recurse=False`)", replace_node(facts, call, f"{facts.text(call.func)}(recurse=False)"), unsafe=True)


def _params_var(st: ast.stmt) -> str:
    it = getattr(st, "iter", None)
    return it.func.value.id if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and isinstance(it.func.value, ast.Name) else ""


# ---- what class the looped-over module is, and what it builds ---------------------------------------------------------

def _root_classes(facts, loop: ast.For, root: ast.AST) -> list:
    """[(the call that passes the module, or None; its class)] for the module ``X.modules()`` walks: known for every
    way it arrives (a helper's parameter: at each call of the helper in the file), else []."""
    fn = facts.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef))
    owner = facts.enclosing(fn, (ast.ClassDef,)) if fn is not None else None
    if isinstance(root, ast.Name) and root.id == "self" and owner is not None and fn.args.args and fn.args.args[0].arg == "self":
        return [(None, owner.name, None)] if owner.name in facts.modules.classes and facts.modules.classes[owner.name].is_module else []
    if isinstance(root, ast.Name) and fn is not None and root.id in [a.arg for a in fn.args.args]:
        if facts.enclosing(fn, (ast.ClassDef,)) is not None or facts.semantic.bindings(fn, root.id) != [b for b in facts.semantic.bindings(fn, root.id) if b.kind == "param"]:
            return []  # a method, or the parameter is rebound
        pos = [a.arg for a in fn.args.args].index(root.id)
        out = []
        for call in facts.walk(ast.Call):
            if not (isinstance(call.func, ast.Name) and call.func.id == fn.name):
                continue
            arg = call.args[pos] if pos < len(call.args) else next((k.value for k in call.keywords if k.arg == root.id), None)
            got = _class_of(facts, arg, facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree) if arg is not None else None
            if got is None:
                return []
            out.append((call, *got))
        return out
    got = _class_of(facts, root, fn or facts.tree)
    return [(None, *got)] if got else []


def _class_of(facts, expr: ast.AST, scope: ast.AST, depth: int = 0) -> Optional[tuple]:
    """(class, the call that built it) of the module ``expr`` is: an in-file class name or a qualified ``torch.nn``
    name."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Name) and expr.func.id in facts.modules.classes:
            return expr.func.id, expr
        q = facts.imports.qualname(expr.func)
        return (q, expr) if q and q.startswith("torch.nn.") else None
    if isinstance(expr, ast.Name):
        vals = facts.semantic.assigned_values(scope, expr.id)
        return _class_of(facts, vals[0], scope, depth + 1) if vals and len(vals) == 1 else None
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        owner = facts.enclosing(scope, (ast.ClassDef,)) if not isinstance(scope, ast.ClassDef) else scope
        info = facts.modules.classes.get(owner.name) if owner is not None else None
        if info is None:
            return None
        vals = info.attr_values.get(expr.attr)
        return _class_of(facts, vals[0], info.methods.get("__init__") or scope, depth + 1) if vals and len(vals) == 1 else None
    return None


def _built_inside(facts, cls: str, ctor: Optional[ast.AST] = None, depth: int = 0, seen: Optional[set] = None) -> list:
    """The layer classes an in-file Module class builds anywhere in its body, and those its in-file parts build;
    for a ``torch.nn`` container, those its constructor's arguments build (``nn.Sequential(Block(), nn.Linear(4, 1))``)."""
    seen = seen if seen is not None else set()
    info = facts.modules.classes.get(cls)
    if cls in seen or depth > _MAX_DEPTH:
        return []
    if info is None:
        if ctor is None or not isinstance(ctor, ast.Call) or _short(cls) not in ("Sequential", "ModuleList", "ModuleDict"):
            return []
        body: ast.AST = ast.Tuple(elts=[*ctor.args, *(k.value for k in ctor.keywords)], ctx=ast.Load())
    else:
        body = info.node
    seen.add(cls)
    out: list = []
    for call in (facts.walk_from(body) if info is not None else ast.walk(body)):
        if not isinstance(call, ast.Call):
            continue
        if isinstance(call.func, ast.Name) and call.func.id in facts.modules.classes:
            out.append(call.func.id)
            out.extend(_built_inside(facts, call.func.id, None, depth + 1, seen))
        else:
            q = facts.imports.qualname(call.func)
            if q and q.startswith("torch.nn.") and q[9:10].isupper():
                out.append(q)
    return out


def _isinstance_test(facts, test: ast.AST, var: str, cls: str) -> Optional[bool]:
    """The value of ``test`` for a module of class ``cls`` when it only asks ``isinstance(var, ...)`` (with
    ``not`` / ``and`` / ``or``); None when it asks anything else."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        v = _isinstance_test(facts, test.operand, var, cls)
        return None if v is None else not v
    if isinstance(test, ast.BoolOp):
        vals = [_isinstance_test(facts, v, var, cls) for v in test.values]
        if any(v is None for v in vals):
            return None
        return all(vals) if isinstance(test.op, ast.And) else any(vals)
    if (isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance" and len(test.args) == 2
            and isinstance(test.args[0], ast.Name) and test.args[0].id == var):
        types = _types(facts, test.args[1])
        if types is None:
            return None
        return any(_is_subclass(facts, cls, t) for t in types)
    return None


def _types(facts, expr: ast.AST, depth: int = 0) -> Optional[list]:
    """The classes of an ``isinstance`` second argument: a class, a tuple of them, or a module-level name for one."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Tuple):
        out: list = []
        for e in expr.elts:
            got = _types(facts, e, depth + 1)
            if got is None:
                return None
            out.extend(got)
        return out
    if isinstance(expr, ast.Name) and expr.id in facts.modules.classes:
        return [expr.id]
    q = facts.imports.qualname(expr)
    if q and q.startswith("torch.nn."):
        return [q]
    if isinstance(expr, ast.Name):
        vals = facts.semantic.assigned_values(facts.tree, expr.id)
        return _types(facts, vals[0], depth + 1) if vals and len(vals) == 1 else None
    return None


def _is_subclass(facts, cls: str, base: str, depth: int = 0) -> bool:
    if cls == base or _canonical(cls) == _canonical(base):
        return True
    info = facts.modules.classes.get(cls)
    if info is None or depth > _MAX_DEPTH:
        return False
    return any(_is_subclass(facts, b, base, depth + 1) for b in info.base_names)


def _canonical(q: str) -> str:
    """``torch.nn.modules.normalization.LayerNorm`` and ``torch.nn.LayerNorm`` name one class."""
    return "torch.nn." + q.rsplit(".", 1)[-1] if q.startswith("torch.nn.") else q
