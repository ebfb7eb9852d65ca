"""GG917 function-gradient-gated-on-another-input: a custom Function's ``backward`` computes the gradient of one
input only when ``ctx.needs_input_grad`` says another input requires grad."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import apply_calls, forward_inputs, function_classes
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import freezes_anything
from gradguard.rules.base import Example, Rule

_LINEAR = """import torch
import torch.nn as nn


class LinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
%s
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
%s
        return grad_x, grad_w, grad_out.sum(0)


class FastLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.3)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearFn.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(FastLinear(4, 8), nn.Tanh(), FastLinear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
"""


class FunctionGradientGatedOnAnotherInput(Rule):
    code = "GG917"
    name = "function-gradient-gated-on-another-input"
    summary = "A custom Function's `backward` computes an input's gradient only when `ctx.needs_input_grad` says another input requires grad: where that one is data, the first one gets None."
    severity = Severity.WARNING
    needs = ("needs_input_grad",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
In a custom `torch.autograd.Function`, follows each gradient `backward` returns back to the test that decides
whether it is computed, and flags the test when it reads `ctx.needs_input_grad[j]` for another input than the one
the gradient is for: `grad_weight = ... if ctx.needs_input_grad[0] else None` returned in the weight's place (the
flag may be kept from `forward` as `ctx.compute_weight_grad = ctx.needs_input_grad[0]`, or unpacked,
`need_x, need_w, _ = ctx.needs_input_grad`). A test that also reads the gradient's own flag
(`needs_input_grad[0] or needs_input_grad[1]` for a shared intermediate) is not flagged.

## Why is this bad?
`ctx.needs_input_grad[j]` is True when input `j` of `forward` requires grad. Gating another input's gradient on
it ties the two together: wherever the Function is applied to an input `j` that does not require grad (the
data batch, in a first layer), `backward` returns None for the other input, its `.grad` stays None and the
optimizer never moves it; the layers further in train, which hides it.

## Example
```python
grad_w = grad_out.t() @ x if ctx.needs_input_grad[0] else None   # forward(ctx, x, weight, bias)
return grad_x, grad_w, grad_b
```

## Use instead
```python
grad_w = grad_out.t() @ x if ctx.needs_input_grad[1] else None
```

## Fix safety
The fix makes the test read the flag of the input whose gradient it guards. It is safe: the gradient is now
computed exactly when autograd asks for it.
"""
    examples = (
        Example(
            name="weight-gradient-gated-on-the-input-s-flag-kept-in-forward",
            code=_LINEAR % (
                "        ctx.weight_grad = ctx.needs_input_grad[0]",
                "        grad_x = grad_out @ weight\n        grad_w = grad_out.t() @ x if ctx.weight_grad else None",
            ),
            lines=(8,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.0.bias", "model.2.weight"]},
        ),
        Example(
            name="weight-gradient-gated-on-the-input-s-flag-unpacked",
            code=_LINEAR % (
                "        pass",
                "        need_x, need_w, _ = ctx.needs_input_grad\n        grad_x = grad_w = None\n"
                "        if need_x:\n            grad_x = grad_out @ weight\n            grad_w = grad_out.t() @ x",
            ),
            lines=(15,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.0.bias", "model.2.weight"]},
            fixable=False,
        ),
        Example(
            name="weight-gradient-gated-on-the-input-s-flag-read-directly",
            code=_LINEAR % (
                "        pass",
                "        grad_x = grad_w = None\n"
                "        if ctx.needs_input_grad[0]:\n            grad_w = grad_out.t() @ x\n"
                "        if ctx.needs_input_grad[0]:\n            grad_x = grad_out @ weight",
            ),
            lines=(16,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.0.bias", "model.2.weight"]},
        ),
        Example(
            name="both-gradients-computed-under-the-input-s-flag-after-a-tuple-of-nones",
            code=_LINEAR % (
                "        pass",
                "        grad_x, grad_w = None, None\n"
                "        if ctx.needs_input_grad[0]:\n            grad_x = grad_out @ weight\n            grad_w = grad_out.t() @ x",
            ),
            lines=(16,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.0.bias", "model.2.weight"]},
            fixable=False,
        ),
        Example(
            bad=False,
            name="tuple-of-nones-then-each-gradient-under-its-own-flag",
            code=_LINEAR % (
                "        pass",
                "        grad_x, grad_w = None, None\n"
                "        if ctx.needs_input_grad[0]:\n            grad_x = grad_out @ weight\n"
                "        if ctx.needs_input_grad[1]:\n            grad_w = grad_out.t() @ x",
            ),
            expect={"grad_ok": ["model.0.weight", "model.0.bias", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="each-gradient-gated-on-its-own-flag",
            code=_LINEAR % (
                "        pass",
                "        grad_x = grad_out @ weight if ctx.needs_input_grad[0] else None\n"
                "        grad_w = grad_out.t() @ x if ctx.needs_input_grad[1] else None",
            ),
            expect={"grad_ok": ["model.0.weight", "model.0.bias", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="shared-work-gated-on-either-flag",
            code=_LINEAR % (
                "        pass",
                "        grad_x = grad_w = None\n"
                "        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:\n"
                "            g = grad_out.clone()\n            grad_x = g @ weight\n            grad_w = g.t() @ x",
            ),
            expect={"grad_ok": ["model.0.weight", "model.0.bias", "model.2.weight"]},
        ),
        Example(
            name="weight-gradient-gated-on-an-and-of-the-input-and-bias-flags",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight, bias)
        return input.mm(weight.t()) + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[2]:
            grad_weight = grad_output.t().mm(input)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class CustomLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(CustomLinear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 2, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            lines=(18,),
            expect={"grad_none": ["model.0.weight"], "grad_ok": ["model.0.bias", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="weight-gradient-gated-on-its-own-flag-and-the-bias-flag",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight, bias)
        return input.mm(weight.t()) + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1] and ctx.needs_input_grad[2]:
            grad_weight = grad_output.t().mm(input)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class CustomLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(CustomLinear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = F.cross_entropy(model(torch.randn(16, 4)), torch.randint(0, 2, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.0.bias", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="gradient-gated-on-an-input-that-is-always-a-trained-layers-output",
            code="""import torch
import torch.nn as nn
from torch.autograd import Function


class LeakyIntegrate(Function):
    @staticmethod
    def forward(ctx, x, decay):
        ctx.save_for_backward(x, decay)
        return x * decay

    @staticmethod
    def backward(ctx, grad_out):
        x, decay = ctx.saved_tensors
        grad_x = grad_decay = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_out * decay
            grad_decay = (grad_out * x).sum().reshape(1)
        return grad_x, grad_decay


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 4)
        self.decay = nn.Parameter(torch.tensor([0.25]))

    def forward(self, x):
        return LeakyIntegrate.apply(self.inp(x), self.decay)


def main():
    torch.manual_seed(0)
    block = Block()
    opt = torch.optim.SGD(block.parameters(), lr=0.1)
    for _ in range(3):
        loss = block(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"block": block}
""",
            expect={'grad_ok': ['block.decay', 'block.inp.bias', 'block.inp.weight']},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            fwd, bwd = mm.method(info.name, "forward"), mm.method(info.name, "backward")
            if fwd is None or bwd is None:
                continue
            inputs = forward_inputs(facts, info, fwd)
            if inputs is None:
                continue
            names = inputs[0]
            flags = _flags(fwd, bwd)
            if not flags and not any(_flag_index(n) is not None for n in walk_nodes(bwd)):
                continue  # (no flag named, and no ``ctx.needs_input_grad[j]`` read directly)
            reported: set = set()
            for ret in (n for n in walk_nodes(bwd) if isinstance(n, ast.Return)):
                if not (isinstance(ret.value, ast.Tuple) and len(ret.value.elts) == len(names)):
                    continue
                for k, e in enumerate(ret.value.elts):
                    if not isinstance(e, ast.Name):
                        continue
                    gated = _gated_on(bwd, e.id, flags, k)
                    if gated is None:
                        continue
                    j, flag = gated
                    if j == k or j >= len(names) or id(flag) in reported:
                        continue
                    if _always_requires_grad(facts, info.name, j):
                        continue  # (every apply hands input j the output of a trainable layer: the gate is always open)
                    reported.add(id(flag))
                    fixes: list = []
                    conj = _flag_conjunction(bwd, flag, e.id)
                    if conj is not None and bwd.args.args:
                        # (``if ctx.needs_input_grad[0] and ctx.needs_input_grad[2]:`` guarding it alone: its own flag instead)
                        ctx_name = bwd.args.args[0].arg
                        fixes.append(lambda c=conj, k=k, n=names[k], cn=ctx_name: fix(f"Test `{cn}.needs_input_grad[{k}]`, the flag of `{n}`", replace_node(facts, c, f"{cn}.needs_input_grad[{k}]")))
                    elif isinstance(flag, ast.Subscript) and isinstance(flag.slice, ast.Constant) and _sole_guard(bwd, flag, flags, e.id):
                        fixes.append(lambda f=flag, k=k, n=names[k]: fix(f"Test `ctx.needs_input_grad[{k}]`, the flag of `{n}`", replace_node(facts, f.slice, str(k))))
                    yield self.finding(
                        facts,
                        flag,
                        f"`{info.name}.backward` computes the gradient of `{names[k]}` (input {k}) only when `{names[j]}` (input {j}) requires grad: "
                        f"where `{names[j]}` does not (data, in a first layer), `{names[k]}` gets no gradient",
                        related=[(e, f"the gradient returned for `{names[k]}`")],
                        fixes=fixes,
                        explanation=f"`ctx.needs_input_grad[{j}]` tells whether `{names[j]}` requires grad, not `{names[k]}`; gate the gradient of "
                        f"`{names[k]}` on `ctx.needs_input_grad[{k}]`.",
                    )


def _flag_index(node: ast.AST) -> Optional[int]:
    """``ctx.needs_input_grad[j]`` -> j."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "needs_input_grad"
            and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
        return node.slice.value
    return None


def _flags(fwd: ast.AST, bwd: ast.AST) -> dict:
    """Names a test may read as an input's flag -> (j, the node that reads ``needs_input_grad``): ``ctx.<attr>`` set
    once in ``forward`` to ``ctx.needs_input_grad[j]`` (key ``ctx.<attr>``), a name bound once in ``backward`` to it
    or unpacked from ``ctx.needs_input_grad`` (key the name)."""
    out: dict = {}
    counts: dict = {}
    for scope, attrs in ((fwd, True), (bwd, False)):
        for n in walk_nodes(scope):
            if not isinstance(n, ast.Assign) or len(n.targets) != 1:
                continue
            t = n.targets[0]
            if attrs and isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                key = f"{t.value.id}.{t.attr}"
                counts[key] = counts.get(key, 0) + 1
                j = _flag_index(n.value)
                if j is not None:
                    out[key] = (j, n.value)
            elif not attrs and isinstance(t, ast.Name):
                counts[t.id] = counts.get(t.id, 0) + 1
                j = _flag_index(n.value)
                if j is not None:
                    out[t.id] = (j, n.value)
            elif not attrs and isinstance(t, ast.Tuple) and isinstance(n.value, (ast.Attribute, ast.Subscript)):
                src: ast.AST = n.value
                if isinstance(src, ast.Subscript) and isinstance(src.slice, ast.Slice) and src.slice.lower is None and src.slice.step is None:
                    src = src.value  # ``ctx.needs_input_grad[:2]``
                if isinstance(src, ast.Attribute) and src.attr == "needs_input_grad":
                    for j, el in enumerate(t.elts):
                        if isinstance(el, ast.Name):
                            counts[el.id] = counts.get(el.id, 0) + 1
                            out[el.id] = (j, n.value)
                else:
                    for el in t.elts:
                        if isinstance(el, ast.Name):
                            counts[el.id] = counts.get(el.id, 0) + 1
    return {k: v for k, v in out.items() if counts.get(k) == 1}


def _test_flags(test: ast.AST, flags: dict) -> Optional[list]:
    """The flags a guard reads, as ``[(j, node)]`` when it is a flag or an ``and`` of terms some of which are flags
    (every one must hold); None when it reads flags any other way (``or``, ``not``)."""
    terms = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    out = []
    for t in terms:
        j = _flag_index(t)
        if j is not None:
            out.append((j, t))
            continue
        key = t.id if isinstance(t, ast.Name) else (f"{t.value.id}.{t.attr}" if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) else None)
        if key is not None and key in flags:
            out.append(flags[key])
            continue
        if any(_flag_index(x) is not None or (isinstance(x, ast.Name) and x.id in flags) for x in walk_nodes(t)):
            return None
    return out


def _gated_on(bwd: ast.AST, name: str, flags: dict, own: Optional[int] = None) -> Optional[tuple]:
    """``(j, flag node)`` when every value ``backward`` gives ``name`` other than None is computed only under one
    input's flag ``j`` (the body of ``if <flag>:``, or ``<value> if <flag> else None``), and never under its own;
    None otherwise. A guard that is an ``and`` of other inputs' flags only (``needs_input_grad[0] and
    needs_input_grad[2]`` for input ``own`` = 1) gates it on each of them: the first is the one named."""
    parents: dict = {}
    for n in walk_nodes(bwd):
        for c in ast.iter_child_nodes(n):
            parents[id(c)] = n
    gate: Optional[tuple] = None
    computed = False
    for n in walk_nodes(bwd):
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name:
            return None
        if not isinstance(n, ast.Assign) or not any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            if isinstance(n, ast.Assign) and any(isinstance(x, ast.Name) and x.id == name and isinstance(x.ctx, ast.Store) for t in n.targets for x in walk_nodes(t)):
                if _unpacked_none(n, name):
                    continue  # ``dlow, dhigh = None, None``: not computed here
                return None  # unpacked or stored some other way
            continue
        v = n.value
        if isinstance(v, ast.Constant) and v.value is None:
            continue
        computed = True
        found: list = []
        if isinstance(v, ast.IfExp) and isinstance(v.orelse, ast.Constant) and v.orelse.value is None:
            got = _test_flags(v.test, flags)
            if got is None:
                return None
            found.extend(got)
        cur = parents.get(id(n))
        child: ast.AST = n
        while cur is not None and cur is not bwd:
            if isinstance(cur, ast.If) and child in cur.body:
                got = _test_flags(cur.test, flags)
                if got is None:
                    return None
                found.extend(got)
            elif isinstance(cur, ast.If):
                return None  # computed in an else branch
            child, cur = cur, parents.get(id(cur))
        js = {j for j, _ in found}
        if len(js) > 1 and own is not None and own not in js:
            found = sorted(found, key=lambda f: f[0])  # (every one must hold: the value is None where any input does not require grad)
            js = {found[0][0]}
        if len(js) != 1:
            return None
        j = js.pop()
        if gate is not None and gate[0] != j:
            return None
        gate = gate or next(f for f in found)
    return gate if computed else None


def _unpacked_none(n: ast.Assign, name: str) -> bool:
    """``a, b = None, None`` (a literal tuple, element by element): does the assignment give ``name`` None?"""
    if len(n.targets) != 1 or not isinstance(n.targets[0], (ast.Tuple, ast.List)) or not isinstance(n.value, (ast.Tuple, ast.List)):
        return False
    elts, vals = n.targets[0].elts, n.value.elts
    if len(elts) != len(vals) or any(isinstance(e, ast.Starred) for e in (*elts, *vals)):
        return False
    return any(isinstance(e, ast.Name) and e.id == name and isinstance(v, ast.Constant) and v.value is None for e, v in zip(elts, vals))


def _flag_conjunction(bwd: ast.AST, flag: ast.AST, name: str) -> Optional[ast.BoolOp]:
    """The ``and`` of ``ctx.needs_input_grad[j]`` reads holding ``flag``, when it is the test of an ``if`` whose body
    assigns ``name`` alone; else None."""
    for n in walk_nodes(bwd):
        if isinstance(n, ast.If) and isinstance(n.test, ast.BoolOp) and isinstance(n.test.op, ast.And) and any(v is flag for v in n.test.values):
            if not all(_flag_index(v) is not None for v in n.test.values):
                return None
            stored = {x.id for st in n.body for x in walk_nodes(st) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)}
            return n.test if stored == {name} else None
    return None


def _sole_guard(bwd: ast.AST, flag: ast.AST, flags: dict, name: str) -> bool:
    """Does ``flag`` (a ``ctx.needs_input_grad[j]`` read) guard the gradient ``name`` alone: read once, directly or
    through the ``ctx.<attr>`` / name that keeps it, as the test of ``<value> if <test> else None`` assigned to
    ``name`` or of an ``if`` whose body assigns ``name`` only? Then changing its index changes no other gradient."""
    keys = [k for k, (_j, node) in flags.items() if node is flag]
    if len(keys) > 1:
        return False  # one unpacking names several flags
    if keys:
        key = keys[0]
        reads = [x for x in walk_nodes(bwd) if (isinstance(x, ast.Name) and x.id == key and isinstance(x.ctx, ast.Load))
                 or (isinstance(x, ast.Attribute) and isinstance(x.value, ast.Name) and f"{x.value.id}.{x.attr}" == key)]
    else:
        reads = [x for x in walk_nodes(bwd) if x is flag]  # type: ignore[misc]
    if len(reads) != 1:
        return False
    read = reads[0]

    def tests(t: ast.AST) -> bool:
        return t is read or (isinstance(t, ast.BoolOp) and read in t.values)
    for n in walk_nodes(bwd):
        if isinstance(n, ast.If) and tests(n.test):
            stored = {x.id for st in n.body for x in walk_nodes(st) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Store)}
            return stored == {name}
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.IfExp) and tests(n.value.test):
            return len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    return False


def _always_requires_grad(facts, cls: str, j: int) -> bool:
    """Does every ``cls.apply(...)`` of the file give input ``j`` the output of a layer with parameters the object builds
    (``Fn.apply(self.inp(x), self.decay)``)? In a file that freezes nothing, that output always requires grad, so a
    gradient gated on ``ctx.needs_input_grad[j]`` is always computed."""
    calls = apply_calls(facts, cls)
    if not calls or freezes_anything(facts):
        return False
    for call in calls:
        if j >= len(call.args) or any(isinstance(a, ast.Starred) for a in call.args):
            return False
        a = call.args[j]
        if not (isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and isinstance(a.func.value, ast.Name) and a.func.value.id == "self"):
            return False
        fn = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
        owner = facts.flow.owner.get(id(fn)) if fn is not None else None
        if owner is None or facts.modules.attr_torch_ctor(owner, a.func.attr) is None or facts.modules.parameterless_attr(owner, a.func.attr):
            return False
    return True
