"""GG101 backward-return-value: using what ``Tensor.backward()`` returns (always None)."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Applicability, Severity
from gradguard.core.torchapi import EXTENSION_LOADERS
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


def _extension_object(facts, scope, name: str) -> bool:
    """Is ``name`` (in ``scope``, else at module level) bound only to what an extension loader returns?"""
    for where in (scope, facts.tree):
        binds = facts.semantic.bindings(where, name)
        if binds:
            return all(b.value is not None and isinstance(b.value, ast.Call) and (facts.imports.qualname(b.value.func) or "") in EXTENSION_LOADERS for b in binds)
    return False

class BackwardReturnValue(Rule):
    code = "GG101"
    name = "backward-return-value"
    summary = "The return value of `Tensor.backward()` is used, but it is always `None`."
    severity = Severity.ERROR
    needs = ("backward",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `Tensor.backward()` calls whose result is used, when the receiver is a tensor that carries gradient
(a loss built from modules or parameters). A hand-written layer's own `backward(grad_out)` method (a class
in the file that defines `backward`) is not `Tensor.backward` and is left alone.

The result counts as used when it is read: `loss = loss.backward()` followed by `loss.item()`, or
`backward()` inside an expression, a call or a `return`. Assigning it to `_` (the usual way to silence a
notebook's output) or to a name that is never read before it is rebound uses nothing and is not reported.

A `backward(...)` method of an object of no known kind given the loss (`self.balancer.backward(losses, out)`, an engine's
`backward(loss)`) returns what that object's class returns: not reported. Nor is `flow.backward(z)` on a module of no
known class when the program's own Module classes define a `backward` method (a normalizing flow's inverse).
A None only returned by a function whose callers do not read it (a wrapper named `backward` itself, which mirrors
`Tensor.backward`, or a function the file calls only as statements of their own) is not reported.
It is an error when the use raises on None (an attribute such as `.item()`, arithmetic, indexing,
unpacking, iterating, calling); a warning when the None is only passed on, returned or printed, because
what happens next depends on code that may not care.

## Why is this bad?
`backward()` accumulates gradients into the leaves and returns `None`. `loss = loss.backward()` throws
the loss away; the next `loss.item()` fails with `AttributeError: 'NoneType' object has no attribute 'item'`.

## Example
```python
loss = criterion(model(x), y)
loss = loss.backward()
running += loss.item()
```

## Use instead
```python
loss = criterion(model(x), y)
loss.backward()
running += loss.item()
```

## Fix safety
Dropping the assignment `loss = ` in `loss = loss.backward()` is safe: the value assigned is always None.
"""
    examples = (
        Example(
            bad=False,
            name="extension-kernels-backward-method-returns-gradients",
            code="""import torch
import torch.nn as nn

_EXT = None


class _Kernels:
    def forward(self, x):
        return (x * 2,)

    def backward(self, grad, x):
        return (grad * 2,)


def get_kernels():
    global _EXT
    if _EXT is None:
        _EXT = _Kernels()
    return _EXT


class Double(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_kernels().forward(x)[0]

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_input = get_kernels().backward(grad_output, x)[0]
        return grad_input


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = Double.apply(net(torch.randn(2, 3))).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            name="rebind-loss",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    total = 0.0
    for _ in range(2):
        loss = net(torch.randn(4, 3)).pow(2).mean()
        loss = loss.backward()
        total += loss.item()
    return {"net": net}
""",
            lines=(11,),
            expect={"error": "'NoneType' object has no attribute 'item'"},
        ),
        Example(
            bad=False,
            name="manual-layer-backward",
            code="""import torch


class Square:
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return 2 * self.x * grad


def main():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    layer = Square()
    out = layer.forward(w.detach())
    g = layer.backward(torch.ones(2))
    (w * g).sum().backward()
    return {"w": w}
""",
            expect={"grad_ok": ["w"]},
        ),
        Example(
            bad=False,
            name="discarded-with-underscore",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        loss = net(torch.randn(4, 3)).pow(2).mean()
        _ = loss.backward()
        opt.step()
        assert loss.item() >= 0
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight", "net.bias"]},
        ),
        Example(
            bad=False,
            name="assigned-never-read",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        loss = net(torch.randn(4, 3)).pow(2).mean()
        out = loss.backward()
        opt.step()
        out = float(loss)
        assert out >= 0
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight", "net.bias"]},
        ),
        Example(
            name="accumulate-the-none",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    total = 0.0
    for _ in range(2):
        opt.zero_grad()
        loss = net(torch.randn(4, 3)).pow(2).mean()
        total += loss.backward()
        opt.step()
    return {"net": net}
""",
            lines=(13,),
            fixable=False,
            expect={"error": "unsupported operand type"},
        ),
        Example(
            bad=False,
            name="wrapper-named-backward-returns-its-none",
            code="""import torch
import torch.nn as nn


class GradAccumulator:
    def __init__(self, model):
        self.model = model
        self.buffers = {n: torch.zeros_like(p) for n, p in model.named_parameters()}

    def backward(self, loss):
        result = loss.backward()
        for n, p in self.model.named_parameters():
            self.buffers[n] += p.grad
        return result


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    acc = GradAccumulator(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        acc.backward(model(torch.randn(8, 4)).pow(2).mean())
        opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.weight']},
        ),
        Example(
            bad=False,
            name="normalizing-flow-inverse-named-backward",
            code="""import torch
import torch.nn as nn


class AffineFlow(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.s = nn.Parameter(torch.zeros(d))
        self.t = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return x * self.s.exp() + self.t, self.s.sum()

    def backward(self, z):
        return (z - self.t) * (-self.s).exp(), -self.s.sum()


class NormalizingFlow(nn.Module):
    def __init__(self, flows):
        super().__init__()
        self.flows = nn.ModuleList(flows)

    def forward(self, x):
        log_det = 0
        for flow in self.flows:
            x, ld = flow.forward(x)
            log_det = log_det + ld
        return x, log_det

    def backward(self, z):
        log_det = 0
        for flow in self.flows[::-1]:
            z, ld = flow.backward(z)
            log_det = log_det + ld
        return z, log_det


def main():
    torch.manual_seed(0)
    model = NormalizingFlow([AffineFlow(2), AffineFlow(2)])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        z, log_det = model(torch.randn(32, 2))
        loss = (0.5 * z.pow(2).sum(1) - log_det).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, _ = model.backward(torch.randn(4, 2))
    return {"model": model}
""",
            expect={'grad_ok': ['model.flows.0.s']},
        ),
        Example(
            bad=False,
            name="loss-balancer-object-backward-returns-the-loss",
            code="""from types import SimpleNamespace

import torch
import torch.nn as nn


def balanced_backward(losses, out):
    grads = [torch.autograd.grad(l, out, retain_graph=True)[0] for l in losses.values()]
    total = sum(g / (g.norm() + 1e-8) for g in grads)
    out.backward(total)
    return sum(losses.values()).detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    balancer = SimpleNamespace(backward=balanced_backward)
    metrics = {}
    for _ in range(2):
        out = model(torch.randn(8, 4))
        losses = {"l1": out.abs().mean(), "l2": out.pow(2).mean()}
        opt.zero_grad()
        metrics["total"] = balancer.backward(losses, out)
        opt.step()
    return {"model": model}, {"logged": bool(metrics["total"] > 0)}
""",
            expect={'grad_ok': ['model.weight'], 'facts': {'logged': True}},
        ),
        Example(
            bad=False,
            name="from-scratch-network-whose-backward-returns-its-gradients",
            code="""import torch
import torch.nn as nn


class ScratchNet:
    def __init__(self, n_in, n_out):
        self.w = torch.zeros(n_out, n_in).normal_(0.0, 0.1)
        self.b = torch.zeros(n_out)

    def forward(self, x):
        return torch.sigmoid(x @ self.w.t() + self.b)

    def backward(self, x, out, y):
        delta = 2.0 * (out - y) / y.size(0) * out * (1.0 - out)
        return delta.t() @ x, delta.sum(dim=0)


def train_scratch(model, batches, lr=0.5):
    for x, y in batches:
        out = model.forward(x)
        grad_w, grad_b = model.backward(x, out, y)
        model.w -= lr * grad_w
        model.b -= lr * grad_b


def main():
    torch.manual_seed(0)
    data = [(torch.rand(8, 4), torch.rand(8, 2)) for _ in range(5)]
    scratch = ScratchNet(4, 2)
    train_scratch(scratch, data)
    ref = nn.Linear(4, 2)
    opt = torch.optim.SGD(ref.parameters(), lr=0.5)
    for x, y in data:
        loss = (torch.sigmoid(ref(x)) - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"ref": ref}, {"scratch_trained": bool(scratch.w.abs().sum() > 0)}
""",
            expect={'grad_ok': ['ref.bias', 'ref.weight'], 'facts': {'scratch_trained': True}},
        ),
        Example(
            bad=False,
            name="extension-namespace-backward-returns-a-gradient",
            code="""import types

import torch

ext = types.SimpleNamespace(
    forward=lambda x: (x ** 2).sum(-1),
    backward=lambda g, x: 2 * x * g.unsqueeze(-1),
)


class SquareSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, scale):
        ctx.save_for_backward(logits)
        ctx.scale = scale
        return ext.forward(logits) * scale

    @staticmethod
    def backward(ctx, grad_output):
        (logits,) = ctx.saved_tensors
        grad_in = ext.backward(grad_output.float() * ctx.scale, logits)
        return grad_in, None


def main():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 4))
    SquareSum.apply(w, 1.0).sum().backward()
    return {}, {"grad_matches": bool(torch.allclose(w.grad, 2 * w.detach()))}
""",
            expect={'facts': {'grad_matches': True}},
        ),
    )

    def check(self, facts):
        for fl in facts.backward_flows:
            for site in fl.backward_sites:
                call = site.node
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "backward"):
                    continue
                if isinstance(site.stmt, ast.Expr) and site.stmt.value is call:
                    continue  # ``loss.backward()`` as a statement (known without indexing the file's parents)
                if site.on_object:
                    continue  # (``self.balancer.backward(losses, out)``: an object's own method, whose result is its own)
                parent = facts.parent(call)
                if isinstance(parent, ast.Expr) or parent is None:
                    continue
                if not (site.loss.live or site.loss.cut) or site.loss.kind not in ("tensor", None):
                    continue
                if isinstance(call.func.value, ast.Call) and not any(r != "?" and not r.startswith("arg:") for r in site.loss.live):
                    continue  # ``get_ext().backward(g, x)``: a method of an object some call returns (a compiled
                    # extension), unless it is known to be a loss of this program
                if isinstance(parent, ast.Await):
                    continue
                if isinstance(call.func.value, ast.Name) and _extension_object(facts, fl.node, call.func.value.id):
                    continue  # ``L2WRAP = load(name=..., sources=[...])``: a compiled extension's own ``backward``
                if not any(r != "?" and not r.startswith("arg:") for r in site.loss.live) and _classes_with_own_backward(facts):
                    continue  # (a receiver of no known origin, in a program whose own classes define ``backward``: maybe theirs)
                related = []
                fixes = []
                receiver = call.func.value
                severity = Severity.WARNING
                if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
                    name = parent.targets[0].id
                    if name == "_":
                        continue  # the conventional "discard this value": nothing reads it
                    use = _next_use(facts, fl.node, parent, name)
                    if use is None:
                        continue  # assigned and never read (or rebound first): the None is not used
                    if _returned_to_no_reader(facts, fl.node, use):
                        continue
                    related.append((use, f"`{name}` is None here"))
                    what = f"`{name}` is now None"
                    if _raises_on_none(facts, use):
                        severity = Severity.ERROR
                    if isinstance(receiver, ast.Name) and receiver.id == name:
                        fixes.append(lambda p=parent, c=call: fix("Call backward() as a statement and keep the loss", replace_node(facts, p, facts.text(c))))
                elif isinstance(parent, ast.Assign) and any(isinstance(t, (ast.Tuple, ast.List)) for t in parent.targets):
                    what = "unpacking None raises `TypeError: cannot unpack non-iterable NoneType object`"
                    severity = Severity.ERROR
                elif _returned_to_no_reader(facts, fl.node, call):
                    continue
                elif _raises_on_none(facts, call):
                    what = "its result is None, and this use of it raises"
                    severity = Severity.ERROR
                else:
                    what = "its result is None"
                yield self.finding(
                    facts,
                    call,
                    f"`backward()` returns None: {what}",
                    severity=severity,
                    related=related,
                    fixes=fixes,
                    explanation="`Tensor.backward()` computes gradients into `.grad` of the leaves and returns `None`; any later use of the result fails (e.g. `AttributeError: 'NoneType' object has no attribute 'item'`).",
                )


def _classes_with_own_backward(facts) -> bool:
    """Does the program define a class (a Module or a plain class; not an autograd.Function, whose ``backward`` autograd
    calls) with a ``backward`` method of its own (a loss term that backpropagates and returns its value, a from-scratch
    network returning hand-computed gradients)? An object of such a class answers ``obj.backward(...)`` with that
    method's result, not ``Tensor.backward``'s None."""
    return any(not info.is_autograd_function and "backward" in info.methods for info in facts.modules.classes.values())


def _returned_to_no_reader(facts, fn: ast.AST, node: ast.AST) -> bool:
    """Is ``node`` (the None ``backward()`` gave) returned by ``fn``, where no caller reads what ``fn`` returns: a wrapper
    named ``backward`` itself (``grad_accumulator.backward(loss)`` mirrors ``Tensor.backward``, whose callers expect
    None), or a function the file calls, every call a statement of its own?"""
    if not isinstance(facts.parent(node), ast.Return) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if fn.name == "backward":
        return True
    calls = [c for c in facts.nodes_near(ast.Call, (fn.name,))
             if (isinstance(c.func, ast.Name) and c.func.id == fn.name) or (isinstance(c.func, ast.Attribute) and c.func.attr == fn.name)]
    # (no call in the file: what its callers do with the None is not known, and the function says it returns a value)
    return bool(calls) and all(isinstance(facts.parent(c), ast.Expr) for c in calls)


def _raises_on_none(facts, node: ast.AST) -> bool:
    """Does this use of a value that is None raise? Attribute access, subscripting, arithmetic, iteration,
    unpacking and calling it do; passing it on, returning, printing or comparing it do not (by themselves)."""
    parent = facts.parent(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        return True
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return True
    if isinstance(parent, ast.Call) and parent.func is node:
        return True
    if isinstance(parent, ast.BinOp):
        return True
    if isinstance(parent, ast.UnaryOp) and not isinstance(parent.op, ast.Not):
        return True
    if isinstance(parent, ast.AugAssign) and parent.value is node:
        return True
    if isinstance(parent, ast.AugAssign) and parent.target is node:
        return True
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
        return True
    if isinstance(parent, ast.Starred):
        return True
    return False


def _next_use(facts, scope: ast.AST, assign: ast.Assign, name: str):
    """The first read of ``name`` after ``assign`` in this scope, in evaluation order, unless ``name`` is
    rebound before it (then the None is never read there). A store happens after the right-hand side of
    its statement is evaluated: in ``loss = loss * 2`` the read comes first."""
    after = (assign.end_lineno, assign.end_col_offset)
    events = []
    for node in _walk_scope(scope):
        if not (isinstance(node, ast.Name) and node.id == name) or node is assign.targets[0]:
            continue
        pos: tuple[Optional[int], Optional[int]] = (node.lineno, node.col_offset)
        if isinstance(node.ctx, ast.Store):
            stmt = facts.parent(node)
            while stmt is not None and not isinstance(stmt, ast.stmt):
                stmt = facts.parent(stmt)
            if isinstance(stmt, ast.AugAssign):
                events.append((pos, 0, node))  # ``x += 1`` reads x
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                pos = (stmt.end_lineno, stmt.end_col_offset)
            events.append((pos, 1, node))
        elif isinstance(node.ctx, ast.Load):
            events.append((pos, 0, node))
    for pos, is_store, node in sorted(events, key=lambda e: (e[0], e[1])):
        if pos < after:
            continue
        return None if is_store else node
    return None


def _walk_scope(scope: ast.AST):
    """Nodes of ``scope`` without entering nested functions, lambdas or classes (their own names)."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
