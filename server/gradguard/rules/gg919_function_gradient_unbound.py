"""GG919 function-gradient-unbound: a custom Function's ``backward`` returns a gradient bound only on some paths."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import function_classes
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, insert_before_stmt
from gradguard.rules.base import Example, Rule


def _targets(node: ast.AST) -> set:
    return {n.id for n in walk_nodes(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _unbound_returns(body: list, bound: frozenset, assigned: set, out: list, under: Optional[dict] = None, last: Optional[dict] = None) -> frozenset:
    """Walk ``body`` with the names ``bound`` on every path so far; append ``(return, name, guard)`` for each name a
    ``return`` reads that the function assigns somewhere but that is not bound on every path to it. Returns the names
    bound after ``body`` (on every path that goes on). ``under``: test (its source text) -> names an earlier ``if`` with
    that test binds; a later ``if`` with the same test, whose names nothing rebinds (``ctx.sequence_parallel``, or
    ``tp_mode`` bound once before both, ``tp_mode = ctx.tp_mode``), runs on the same paths, so they are bound in its body.
    ``last``: name -> the last line the function assigns it on."""
    under = {} if under is None else under
    last = {} if last is None else last
    for st in body:
        if isinstance(st, ast.Return):
            if st.value is not None:
                for n in walk_nodes(st.value):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in assigned and n.id not in bound:
                        out.append((st, n))
            return bound
        if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            tg = st.targets if isinstance(st, ast.Assign) else [st.target]
            bound = bound | frozenset().union(*(_targets(t) for t in tg))
        elif isinstance(st, ast.If):
            stable = not any(isinstance(n, ast.Name) and n.id in assigned and last.get(n.id, 0) >= st.lineno for n in walk_nodes(st.test)) and not any(
                isinstance(n, (ast.Call, ast.NamedExpr)) for n in walk_nodes(st.test))
            key = ast.unparse(st.test) if stable else None  # (not ast.dump: its recursive closure leaves a reference cycle)
            a = _unbound_returns(st.body, bound | under.get(key, frozenset()), assigned, out, under, last)
            b = _unbound_returns(st.orelse, bound, assigned, out, under, last)
            if key is not None:
                under[key] = under.get(key, frozenset()) | (a - bound)
            bound = bound | (a & b)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            bound = _unbound_returns(st.body, bound | frozenset().union(*(_targets(i.optional_vars) for i in st.items if i.optional_vars)), assigned, out, under, last)
        elif isinstance(st, (ast.For, ast.AsyncFor, ast.While)):
            _unbound_returns(st.body, bound | (_targets(st.target) if isinstance(st, (ast.For, ast.AsyncFor)) else frozenset()), assigned, out, under, last)
            _unbound_returns(st.orelse, bound, assigned, out, under, last)  # (the body may not run: it binds nothing for sure)
        elif isinstance(st, ast.Try):
            _unbound_returns(st.body, bound, assigned, out, under, last)
            for h in st.handlers:
                _unbound_returns(h.body, bound, assigned, out, under, last)
            bound = _unbound_returns(st.finalbody, bound, assigned, out, under, last)
        elif isinstance(st, (ast.Raise, ast.Break, ast.Continue)):
            return bound
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = bound | {st.name}
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            bound = bound | {(a.asname or a.name).split(".")[0] for a in st.names}
    return bound


def _guard(fn: ast.AST, name: str):
    """The ``if`` test that guards the first assignment of ``name`` in ``fn`` (``ctx.needs_input_grad[0]``), if any."""
    for n in walk_nodes(fn):
        if isinstance(n, ast.If) and any(name in _targets(t) for st in n.body for t in walk_nodes(st) if isinstance(t, (ast.Assign, ast.AnnAssign, ast.AugAssign))):
            return n.test
    return None


class FunctionGradientUnbound(Rule):
    code = "GG919"
    name = "function-gradient-unbound"
    summary = "A custom Function's `backward` returns a gradient it binds only on some paths: it raises `UnboundLocalError` on the others."
    severity = Severity.WARNING
    needs = ("Function",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags a name that the `backward` of a `torch.autograd.Function` subclass returns but binds only on some paths: the
usual shape computes each input's gradient under `if ctx.needs_input_grad[i]:` and returns them all, without first
setting them to `None`.

## Why is this bad?
`ctx.needs_input_grad[i]` is False whenever input `i` does not require grad: the data a first layer is given, a frozen
weight, a bias passed as a constant. The assignment is then skipped, and `return grad_input, grad_weight, grad_bias`
raises `UnboundLocalError: cannot access local variable 'grad_input'` in the middle of `loss.backward()`. Training
stops at the first step, even though the very same Function works in a layer whose input requires grad (a deeper
layer, or a unit test that made every input require grad).

## Example
```python
@staticmethod
def backward(ctx, grad_out):
    x, weight = ctx.saved_tensors
    if ctx.needs_input_grad[0]:
        grad_input = grad_out @ weight
    if ctx.needs_input_grad[1]:
        grad_weight = grad_out.t() @ x
    return grad_input, grad_weight
```

## Use instead
```python
@staticmethod
def backward(ctx, grad_out):
    x, weight = ctx.saved_tensors
    grad_input = grad_weight = None
    if ctx.needs_input_grad[0]:
        grad_input = grad_out @ weight
    if ctx.needs_input_grad[1]:
        grad_weight = grad_out.t() @ x
    return grad_input, grad_weight
```

## Fix safety
Safe: the fix binds the names to `None` at the top of `backward`, which is what autograd expects as the gradient of an
input that does not need one (the path that binds them is unchanged).
"""
    examples = (
        Example(
            name="input-gradient-bound-only-when-the-input-needs-it",
            code="""import torch
import torch.nn as nn


class MatMulBias(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            grad_input = grad_out @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_out.t() @ x
        grad_bias = grad_out.sum(0)
        return grad_input, grad_weight, grad_bias


class Layer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return MatMulBias.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer(4, 3)
    loss = layer(torch.randn(5, 4)).pow(2).mean()
    loss.backward()
    return {"layer": layer}
""",
            lines=(19,),
            expect={"error": "grad_input"},
            fixed_expect={"grad_ok": ["layer.weight", "layer.bias"]},
        ),
        Example(
            name="gradients-set-to-none-first",
            bad=False,
            code="""import torch
import torch.nn as nn


class MatMulBias(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_input = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_out @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_out.t() @ x
        return grad_input, grad_weight, grad_out.sum(0)


class Layer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return MatMulBias.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer(4, 3)
    loss = layer(torch.randn(5, 4)).pow(2).mean()
    loss.backward()
    return {"layer": layer}
""",
            expect={"grad_ok": ["layer.weight", "layer.bias"]},
        ),
        Example(
            name="gradient-bound-on-both-branches",
            bad=False,
            code="""import torch


class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-1, 1)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            grad = g * (x.abs() <= 1)
        else:
            grad = None
        return grad


def main():
    x = torch.randn(6, requires_grad=True)
    Clip.apply(x * 2).sum().backward()
    return {"x": x}
""",
            expect={"grad_ok": ["x"]},
        ),
        Example(
            name="gradient-bound-and-returned-under-the-same-test",
            bad=False,
            code="""import torch
import torch.nn as nn


class ScaledLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, split):
        ctx.save_for_backward(x, weight)
        ctx.split = split
        return x @ weight.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_input = grad_out @ weight
        if ctx.split:
            halves = grad_input.chunk(2, dim=0)
            sub_grad_input = torch.cat([halves[0], halves[1]], dim=0)
        grad_weight = grad_out.t() @ x
        if ctx.split:
            return sub_grad_input, grad_weight, None
        return grad_input, grad_weight, None


class Layer(nn.Module):
    def __init__(self, d_in, d_out, split):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * 0.1)
        self.split = split

    def forward(self, x):
        return ScaledLinear.apply(x, self.weight, self.split)


def main():
    torch.manual_seed(0)
    a, b = Layer(4, 3, split=True), Layer(4, 3, split=False)
    x = torch.randn(6, 4)
    (a(x).pow(2).mean() + b(x).pow(2).mean()).backward()
    return {"a": a, "b": b}
""",
            expect={"grad_ok": ["a.weight", "b.weight"]},
        ),
        Example(
            bad=False,
            name="bound-under-the-same-test-of-a-local-set-once",
            code="""import torch


class ScatterOrReduce(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, mode):
        ctx.save_for_backward(x, w)
        ctx.mode = mode
        return x @ w

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        mode = ctx.mode
        if mode == "scatter":
            grad_x = grad_out @ w.t()
        elif mode == "reduce":
            grad_x = (grad_out @ w.t()).clone()
        else:
            raise ValueError(mode)
        grad_w = x.t() @ grad_out
        if mode == "scatter":
            return grad_x, grad_w, None
        elif mode == "reduce":
            return grad_x, grad_w, None
        else:
            raise ValueError(mode)


def main():
    torch.manual_seed(0)
    w = torch.randn(4, 2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    for mode in ("scatter", "reduce"):
        loss = ScatterOrReduce.apply(torch.randn(3, 4), w, mode).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"w": w}
""",
            expect={'grad_ok': ['w']},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            bwd = mm.method(info.name, "backward")
            if not isinstance(bwd, (ast.FunctionDef, ast.AsyncFunctionDef)) or not bwd.body:
                continue
            params = frozenset(a.arg for a in (*bwd.args.posonlyargs, *bwd.args.args, *bwd.args.kwonlyargs)) | frozenset(
                a.arg for a in (bwd.args.vararg, bwd.args.kwarg) if a is not None)
            assigned: set = set()
            last: dict = {}
            for n in walk_nodes(bwd):
                if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                        assigned |= _targets(t)
                        for name in _targets(t):
                            last[name] = max(last.get(name, 0), n.end_lineno or n.lineno)
                elif isinstance(n, (ast.For, ast.AsyncFor, ast.NamedExpr)):
                    for name in _targets(n.target):
                        last[name] = max(last.get(name, 0), n.end_lineno or n.lineno)
            if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in walk_nodes(bwd)):
                continue
            hits: list = []
            _unbound_returns(bwd.body, params, assigned - params, hits, None, last)
            if not hits:
                continue
            names = list(dict.fromkeys(n.id for _st, n in hits))
            first = bwd.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str) and len(bwd.body) > 1:
                first = bwd.body[1]  # (after the docstring)

            def build(first=first, names=tuple(names)):
                return fix(f"Set {', '.join(f'`{n}`' for n in names)} to None first", insert_before_stmt(facts, first, " = ".join(names) + " = None"))

            done: set = set()
            for _st, n in hits:
                if n.id in done:
                    continue
                first_finding = not done
                done.add(n.id)
                guard = _guard(bwd, n.id)
                when = f"only when `{ast.unparse(guard)}` holds" if guard is not None else "only on some paths"
                yield self.finding(
                    facts,
                    n,
                    f"`backward` of `{info.name}` returns `{n.id}`, which it binds {when}: on the other paths (an input that does not require "
                    "grad: data, a frozen weight) backward() raises UnboundLocalError",
                    related=[(guard, "bound only under this test")] if guard is not None else [],
                    fixes=[build] if first_finding else [],  # (one edit binds them all)
                    explanation="`ctx.needs_input_grad[i]` is False for an input that does not require grad; the gradient is then never "
                    "assigned and returning it raises. Bind every returned gradient to None first (None is the gradient autograd expects "
                    "for an input that needs none).",
                )
