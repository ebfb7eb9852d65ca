"""GG920 function-differentiated-twice: a custom Function whose ``backward`` is ``@once_differentiable`` on the path
that ``torch.autograd.grad(..., create_graph=True)`` differentiates, with the result backpropagated: backward raises."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import apply_calls, function_classes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _once_differentiable(fn: ast.AST) -> Optional[ast.AST]:
    """The ``@once_differentiable`` decorator of ``fn``, if it has one."""
    for d in getattr(fn, "decorator_list", ()):
        if (isinstance(d, ast.Name) and d.id == "once_differentiable") or (isinstance(d, ast.Attribute) and d.attr == "once_differentiable"):
            return d
    return None


def _program(rule_bad: bool) -> str:
    backward = (
        """    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x
""" if rule_bad else """    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x
""")
    return """import torch
import torch.nn as nn
from torch.autograd.function import once_differentiable


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

""" + backward + """

class Field(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(2, 8)
        self.outer = nn.Linear(8, 1)

    def forward(self, p):
        return self.outer(Square.apply(self.inner(p))).squeeze(-1)


def main():
    torch.manual_seed(0)
    field = Field()
    opt = torch.optim.Adam(field.parameters(), lr=1e-2)
    for _ in range(2):
        p = torch.rand(16, 2).requires_grad_(True)
        value = field(p)
        grad_p = torch.autograd.grad(value.sum(), p, create_graph=True)[0]
        loss = value.pow(2).mean() + ((grad_p.norm(dim=-1) - 1) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"field": field}
"""


class FunctionDifferentiatedTwice(Rule):
    code = "GG920"
    name = "function-differentiated-twice"
    summary = ("A custom `autograd.Function` with an `@once_differentiable` backward is differentiated by `autograd.grad(..., "
               "create_graph=True)` and the result backpropagated: backward raises.")
    severity = Severity.ERROR
    needs = ("once_differentiable",)
    docs = """
## What it does
Flags the `@once_differentiable` decorator of a custom `torch.autograd.Function`'s `backward` when, in this file, a
value computed through that Function is differentiated with `torch.autograd.grad(outputs, inputs, create_graph=True)`
with respect to a tensor it is computed from, and the gradient is backpropagated. "Computed through" means by a model
whose `forward` applies the Function (directly, in a method, or in a part it builds) or by a function of the file that
applies it (a functional forward over a dict of weights, as MAML's inner loop runs it). "Backpropagated" means the
gradient is used afterwards in the function that calls `backward()` (a gradient penalty, an eikonal term on the
normals of an SDF, an input-gradient regularizer), or returned, folded into what the function returns (adapted weights
`p - lr * g`), to a caller that uses it before its `backward()` / `manual_backward()`.

## Why is this bad?
`create_graph=True` asks autograd to record the backward pass so it can be differentiated again. A backward marked
`@once_differentiable` runs without recording; its outputs carry an error node instead, and backpropagating through
them raises `RuntimeError: trying to differentiate twice a function that was marked with @once_differentiable`: the
step that uses the penalty never runs.

## Example
```python
class GridEncode(torch.autograd.Function):
    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out): ...

normals = torch.autograd.grad(sdf.sum(), x, create_graph=True)[0]
loss = recon + 0.1 * ((normals.norm(dim=-1) - 1) ** 2).mean()
loss.backward()          # raises
```

## Use instead
Write the Function's `backward` with differentiable torch ops and drop `@once_differentiable` (so the backward
itself can be differentiated), or compute the encoding with plain torch ops for the pass that needs second
derivatives.

## Fix safety
No automatic fix: removing the decorator is only correct when the backward is written with differentiable ops.
"""
    examples = (
        Example(
            name="inner-loop-helper-differentiates-the-custom-activation-for-a-meta-gradient",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


class ClippedSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-3, 3) ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x.clamp(-3, 3) * (x.abs() < 3)


def learner(x, params):
    h = ClippedSquare.apply(F.linear(x, params["0.weight"], params["0.bias"]))
    return F.linear(h, params["1.weight"], params["1.bias"])


def inner_adapt(net, x_s, y_s, lr=0.1):
    params = dict(net.named_parameters())
    loss = F.mse_loss(learner(x_s, params), y_s)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {n: p - lr * g for (n, p), g in zip(params.items(), grads)}


def meta_train(net, tasks, meta_opt):
    for x_s, y_s, x_q, y_q in tasks:
        fast = inner_adapt(net, x_s, y_s)
        meta_loss = F.mse_loss(learner(x_q, fast), y_q)
        meta_opt.zero_grad()
        meta_loss.backward()
        meta_opt.step()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 1))
    meta_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tasks = [tuple(torch.randn(6, d) for d in (3, 1, 3, 1)) for _ in range(2)]
    meta_train(net, tasks, meta_opt)
    return {"net": net}
""",
            lines=(14,),
            expect={"error": "differentiate twice"},
            fixable=False,
        ),
        Example(
            name="custom-activation-only-on-the-query-path-of-a-second-order-inner-loop",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


class ClippedSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-3, 3) ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x.clamp(-3, 3) * (x.abs() < 3)


def body(x, params):
    return torch.tanh(F.linear(x, params["0.weight"], params["0.bias"]))


def inner_adapt(net, head, x_s, y_s, lr=0.1):
    params = dict(net.named_parameters())
    loss = F.mse_loss(head(body(x_s, params)), y_s)
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
    return {n: p - lr * g for (n, p), g in zip(params.items(), grads)}


def meta_train(net, head, tasks, meta_opt):
    for x_s, y_s, x_q, y_q in tasks:
        fast = inner_adapt(net, head, x_s, y_s)
        # the custom activation only on the query path: differentiated once, by this backward
        meta_loss = F.mse_loss(ClippedSquare.apply(body(x_q, fast)).sum(-1, keepdim=True), y_q)
        meta_opt.zero_grad()
        meta_loss.backward()
        meta_opt.step()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8))
    head = nn.Linear(8, 1)
    meta_opt = torch.optim.Adam([*net.parameters(), *head.parameters()], lr=1e-3)
    tasks = [tuple(torch.randn(6, d) for d in (3, 1, 3, 1)) for _ in range(2)]
    meta_train(net, head, tasks, meta_opt)
    return {"net": net}
""",
            bad=False,
            expect={"grad_ok": ["net.0.weight", "net.0.bias"]},
        ),
        Example(name="input-gradient-penalty-through-a-once-differentiable-function", code=_program(True), lines=(13,),
                expect={"error": "trying to differentiate twice a function that was marked with @once_differentiable"}),
        Example(bad=False, name="input-gradient-penalty-through-a-differentiable-backward", code=_program(False),
                expect={"grad_ok": ["field.inner.weight", "field.outer.weight"]}),
    )

    def check(self, facts):
        once = {}
        for info in function_classes(facts):
            bw = info.methods.get("backward")
            deco = _once_differentiable(bw) if bw is not None else None
            if deco is not None:
                once[info.name] = deco
        if not once or "create_graph" not in facts.source.text:
            return
        # the scopes that apply each such Function, and the Module classes whose forward reaches one of them
        applying: dict = {}  # class or function name -> (Function name, the apply call)
        for fn_name in once:
            for call in apply_calls(facts, fn_name):
                scope = facts.enclosing(call, _FUNCTIONS)
                if scope is None:
                    continue
                owner = next((i.name for i in facts.modules.classes.values() if i.methods.get(scope.name) is scope), None)
                applying.setdefault(owner or scope.name, (fn_name, call))
        if not applying:
            return
        reaches = _classes_reaching(facts, applying)
        funcs = _functions_reaching(facts, {k: v for k, v in applying.items() if k not in facts.modules.classes})
        for call in facts.walk(ast.Call):
            if not _autograd_grad_with_graph(facts, call):
                continue
            found = self._differentiated_twice(facts, call, reaches, funcs, once)
            if found is not None:
                yield found

    def _differentiated_twice(self, facts, call: ast.Call, reaches: dict, funcs: dict, once: dict):
        scope = facts.enclosing(call, _FUNCTIONS)
        if scope is None or len(call.args) < 2:
            return None
        inputs = {n.id for n in walk_nodes(call.args[1]) if isinstance(n, ast.Name)}
        values = [call.args[0]]
        for name in {n.id for n in walk_nodes(call.args[0]) if isinstance(n, ast.Name)}:
            defs = facts.semantic.reaching_defs(scope, name, call, facts.parent)
            if len(defs) == 1 and defs[0].value is not None:
                values.append(defs[0].value)
        for value in values:
            got = _computed_through(facts, scope, value, inputs, reaches, funcs)
            if got is None:
                continue
            cls, (fn_name, apply) = got
            used = _result_used_before_backward(facts, scope, call) or _returned_to_a_backward(facts, scope, call)
            if used is None:
                continue
            return self.finding(
                facts,
                once[fn_name],
                f"`{fn_name}.backward` is `@once_differentiable`, but `torch.autograd.grad(..., create_graph=True)` at line "
                f"{call.lineno} differentiates `{cls}` through it, and the gradient it returns reaches the backward at line "
                f"{getattr(used, 'lineno', 0)}: that backward raises `trying to differentiate twice a function that was marked with "
                "@once_differentiable`",
                related=[(apply, f"`{fn_name}` applied here"), (call, "differentiated with create_graph=True here"), (used, "backpropagated here")],
                explanation="A backward marked `@once_differentiable` is not recorded for a second differentiation; the "
                "gradients `create_graph=True` returns through it carry an error node that raises when backpropagated. "
                "Write the backward with differentiable torch ops and drop the decorator.",
            )
        return None


def _computed_through(facts, scope, value: ast.AST, inputs: set, reaches: dict, funcs: dict):
    """``(what, (Function, apply call))`` when ``value`` is computed from the differentiated ``inputs`` by a call that
    applies a once-differentiable Function: a model of an in-file class that reaches one, or a function of the file
    that applies one (``F.cross_entropy(functional_forward(x, params), y)``); None otherwise."""
    for sub in walk_nodes(value):
        if not isinstance(sub, ast.Call) or not any(isinstance(n, ast.Name) and n.id in inputs for a in sub.args for n in walk_nodes(a)):
            continue  # (not computed from the inputs by this call)
        if isinstance(sub.func, ast.Name) and sub.func.id in funcs:
            return sub.func.id, funcs[sub.func.id]
        cls = _model_class(facts, scope, sub)
        if cls is not None and cls in reaches:
            return cls, reaches[cls]
    return None


def _functions_reaching(facts, applying: dict) -> dict:
    """Function name -> (Function, apply call) for the top-level functions of the file that apply a once-differentiable
    Function or call (directly, by name) a function that does."""
    out = dict(applying)
    functions = {n.name: n for n in facts.tree.body if isinstance(n, _FUNCTIONS)}
    changed = True
    while changed:
        changed = False
        for name, fn in functions.items():
            if name in out:
                continue
            for n in walk_nodes(fn):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in out:
                    out[name] = out[n.func.id]
                    changed = True
                    break
    return out


def _returned_to_a_backward(facts, scope, call: ast.Call) -> Optional[ast.AST]:
    """The backward that a caller of ``scope`` runs after calling it, when ``scope`` returns a value built from the gradient
    ``call`` returns (an inner loop returning adapted weights ``p - lr * g``); None otherwise."""
    st = facts.statement_of(call)
    if not isinstance(st, ast.Assign):
        return None
    derived = {n.id for t in st.targets for n in walk_nodes(t) if isinstance(n, ast.Name)}
    body = [n for n in walk_nodes(scope) if isinstance(n, (ast.Assign, ast.Return)) and n.lineno > st.lineno]
    changed = True
    while changed:
        changed = False
        for n in body:
            if isinstance(n, ast.Assign) and n.value is not None and any(isinstance(r, ast.Name) and r.id in derived for r in walk_nodes(n.value)):
                new = {t.id for tg in n.targets for t in walk_nodes(tg) if isinstance(t, ast.Name)} - derived
                if new:
                    derived |= new
                    changed = True
    if not any(isinstance(n, ast.Return) and n.value is not None and any(isinstance(r, ast.Name) and r.id in derived for r in walk_nodes(n.value)) for n in body):
        return None
    for c in facts.walk(ast.Call):
        f = c.func
        if not ((isinstance(f, ast.Name) and f.id == scope.name) or (isinstance(f, ast.Attribute) and f.attr == scope.name and isinstance(f.value, ast.Name) and f.value.id == "self")):
            continue
        caller = facts.enclosing(c, _FUNCTIONS)
        if caller is None or caller is scope:
            continue
        backs = [n for n in walk_nodes(caller) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr in ("backward", "manual_backward") and n.lineno > c.lineno]
        if not backs:
            continue
        back = min(backs, key=lambda n: n.lineno)
        cst = facts.statement_of(c)
        if isinstance(cst, ast.Assign) and cst.value is c:  # (what the caller binds is used before its backward)
            names = {n.id for t in cst.targets for n in walk_nodes(t) if isinstance(n, ast.Name)}
            if not any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in names and c.lineno < n.lineno <= back.lineno for n in walk_nodes(caller)):
                continue
        return back
    return None


def _autograd_grad_with_graph(facts, call: ast.Call) -> bool:
    q = facts.imports.qualname(call.func) or ""
    if q not in ("torch.autograd.grad", "torch.autograd.functional.grad"):
        return False
    return any(k.arg == "create_graph" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)


def _classes_reaching(facts, applying: dict) -> dict:
    """Module class -> (Function, apply call) for the classes whose methods apply a once-differentiable Function, call a
    function of the file that does, or hold (``self.<part> = Cls(...)``) a part whose class does."""
    mm = facts.modules
    out = {k: v for k, v in applying.items() if k in mm.classes}
    funcs = {k: v for k, v in applying.items() if k not in mm.classes}
    changed = True
    while changed:
        changed = False
        for info in mm.classes.values():
            if info.name in out or not info.is_module:
                continue
            got = None
            for m in info.methods.values():
                for n in walk_nodes(m):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in funcs:
                        got = funcs[n.func.id]
                        break
                if got is not None:
                    break
            if got is None:
                for values in info.attr_values.values():
                    for v in values:
                        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in out:
                            got = out[v.func.id]
                            break
                    if got is not None:
                        break
            if got is not None:
                out[info.name] = got
                changed = True
    return out


def _model_class(facts, scope, call: ast.Call) -> Optional[str]:
    """The in-file class of the model ``call`` runs: ``model(x)`` / ``model.method(x)`` with ``model = Cls(...)`` bound once
    (in the function or at the top level), or ``self.part(x)`` in a method of a class whose ``part`` is ``Cls(...)``."""
    f = call.func
    if isinstance(f, ast.Attribute) and not (isinstance(f.value, ast.Name) and f.value.id == "self"):
        f = f.value  # ``model.encode(x)``: the model
    if isinstance(f, ast.Name):
        return facts.semantic.bound_class(scope, f.id, facts.modules.classes)
    return None


def _result_used_before_backward(facts, scope, call: ast.Call) -> Optional[ast.AST]:
    """The ``.backward()`` call after ``call`` in ``scope`` when the name(s) the gradient is bound to are read between
    the two (the gradient enters what is backpropagated); None otherwise."""
    st = facts.statement_of(call)
    if not isinstance(st, ast.Assign):
        return None
    names = {n.id for t in st.targets for n in walk_nodes(t) if isinstance(n, ast.Name)}
    read = False
    for n in walk_nodes(scope):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in names and n.lineno > st.lineno:
            read = True
    if not read:
        return None
    backs = [n for n in walk_nodes(scope) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward" and n.lineno > st.lineno]
    return min(backs, key=lambda n: n.lineno) if backs else None
