"""GG912 function-gradient-count: a custom Function's ``backward`` returns a different number of gradients
than ``forward`` takes inputs."""
from __future__ import annotations

import ast
from functools import partial
from typing import Optional, cast

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import apply_calls, forward_inputs, function_classes
from gradguard.core.model import Applicability, Severity
from gradguard.core.paramnames import single_binding
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

# tensor methods / torch functions that return one tensor
ONE_TENSOR_METHODS = {
    "mul", "div", "add", "sub", "neg", "clone", "view", "reshape", "expand", "expand_as", "view_as", "reshape_as", "sum",
    "mean", "t", "transpose", "permute", "contiguous", "to", "float", "double", "half", "type_as", "masked_fill",
    "mm", "matmul", "bmm", "exp", "log", "sign", "abs", "clamp", "where", "squeeze", "unsqueeze", "flatten", "mul_",
    "div_", "add_", "neg_", "zero_", "fill_", "sqrt", "pow", "new_zeros", "new_ones", "cpu", "cuda", "detach",
}
TUPLE_TORCH = {"split", "chunk", "unbind", "autograd.grad", "broadcast_tensors", "meshgrid", "sort", "max", "min", "topk", "std_mean", "var_mean"}


def _returns(fn):
    stack = [st for st in fn.body if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _single_tensor(facts, expr, fn, depth=0) -> bool:
    if isinstance(expr, (ast.BinOp,)):
        return not isinstance(expr.left, (ast.Tuple, ast.List)) and not isinstance(expr.right, (ast.Tuple, ast.List))
    if isinstance(expr, ast.UnaryOp):
        return True
    if isinstance(expr, ast.Call):
        q = facts.imports.qualname(expr.func) or ""
        if q.startswith("torch."):
            return q[len("torch."):] not in TUPLE_TORCH and not q.startswith("torch.autograd.")
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in ONE_TENSOR_METHODS:
            return True
        return False
    if isinstance(expr, ast.Name) and depth < 2:
        values = []
        for node in walk_nodes(fn):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and t.id == expr.id:
                        if isinstance(node, ast.AugAssign):
                            continue
                        values.append(node.value)
                    elif any(isinstance(n, ast.Name) and n.id == expr.id for n in walk_nodes(t)):
                        return False  # unpacked / for-target: unknown
            elif isinstance(node, (ast.For, ast.comprehension, ast.With)):
                tgt = node.target if not isinstance(node, ast.With) else None
                if tgt is not None and any(isinstance(n, ast.Name) and n.id == expr.id for n in walk_nodes(tgt)):
                    return False
        args = [*fn.args.posonlyargs, *fn.args.args]
        if any(p.arg == expr.id for p in args):
            return True  # grad_output itself
        return bool(values) and all(v is not None and _single_tensor(facts, v, fn, depth + 1) for v in values)
    return False


def returned_count(facts, ret: ast.Return, fn) -> Optional[tuple]:
    """(count, elements or None) of gradients a return statement hands back; None when unknown."""
    v = ret.value
    if v is None:
        return 1, None
    if isinstance(v, ast.Tuple):
        if any(isinstance(e, ast.Starred) for e in v.elts):
            return None
        return len(v.elts), v.elts
    if isinstance(v, ast.Constant) and v.value is None:
        return 1, None
    if _single_tensor(facts, v, fn):
        return 1, None
    return None


class FunctionGradientCount(Rule):
    code = "GG912"
    name = "function-gradient-count"
    summary = "A custom `torch.autograd.Function.backward` returns a different number of gradients than `forward` takes inputs."
    severity = Severity.ERROR
    needs = ("Function",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Counts the inputs of a custom `torch.autograd.Function.forward` (excluding `ctx`, or as passed by the
`.apply(...)` calls in the file when some have defaults) and the values each `return` of its `backward`
hands back (a tuple literal, or one tensor expression), and flags a mismatch. Extra trailing `None`s are
accepted, as torch does. Returns whose arity cannot be known statically (a tuple built elsewhere,
`*grads`) are left alone.

Also flags a gradient returned (never None) at a position where every `.apply(...)` in the file passes a
Python number: a numeric literal, or `self.<attr>` whose every value is a number (assigned a literal, or an
`__init__` parameter whose default and whose argument at every in-file construction are numbers), an entry of the
config table every construction passes (`self.cfg["k"]` with `Model(CFG)`, `CFG = {"k": 8, ...}` written nowhere), or
`int(...)`, `float(...)`, `len(...)`, `round(x)`. Autograd accepts gradients only for tensor inputs and raises; the fix
returns `None` there.

## Why is this bad?
Autograd needs exactly one gradient (or `None`) per input of `forward`. A mismatch raises on the first
backward: `RuntimeError: function FooBackward returned an incorrect number of gradients (expected 2,
got 1)`.

## Example
```python
class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.alpha
```

## Use instead
```python
    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.alpha, None
```

## Fix safety
Padding the return with `None` for the missing trailing inputs is unsafe: it declares that those inputs get
no gradient. That is right for hyper-parameters and flags (the usual case), but if one of them is a tensor
that should be trained its `.grad` stays None; write its real gradient instead. Where `backward` computed a
gradient for a missing input and dropped it (a name `grad_<input>`, `<input>_grad`, `d_<input>` bound in `backward`
and not returned, as an LSQ step size's `grad_scale`), the fix returns that name in its place.
"""
    examples = (
        Example(
            name="backward-computes-the-second-gradient-and-drops-it",
            code="""import torch
import torch.nn as nn


class ScaledTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        y = torch.tanh(alpha * x)
        ctx.save_for_backward(x, alpha, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, alpha, y = ctx.saved_tensors
        common = grad_out * (1 - y * y)
        grad_x = common * alpha
        grad_alpha = (common * x).sum().reshape(alpha.shape)
        return grad_x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.alpha = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return ScaledTanh.apply(self.fc(x), self.alpha).sum(-1)


def main():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(torch.randn(8, 4)) - 1).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(18,),
            expect={"error": "incorrect number of gradients"},
            fixed_expect={"grad_ok": ["model.fc.weight", "model.alpha"]},
        ),
        Example(
            name="gradient-for-a-clip-level-that-is-a-float",
            code="""import torch
import torch.nn as nn


class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return x.clamp(min=0.0, max=alpha)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad_alpha = (grad_out * (x >= ctx.alpha)).sum()
        return grad_out * (x < ctx.alpha), grad_alpha


class ClipReLU(nn.Module):
    def __init__(self, alpha=6.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return Clip.apply(x, self.alpha)


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), ClipReLU(2.0))
    loss = net(torch.randn(3, 4)).sum()
    loss.backward()
    return {"net": net}
""",
            lines=(16,),
            expect={"error": "returned a gradient different than None"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="learned-clip-level-is-a-parameter",
            code="""import torch
import torch.nn as nn


class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x, alpha)
        return torch.minimum(x.clamp(min=0.0), alpha)

    @staticmethod
    def backward(ctx, grad_out):
        x, alpha = ctx.saved_tensors
        grad_alpha = (grad_out * (x >= alpha)).sum().reshape(alpha.shape)
        return grad_out * (x < alpha), grad_alpha


class ClipReLU(nn.Module):
    def __init__(self, alpha=6.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor([alpha]))

    def forward(self, x):
        return Clip.apply(x, self.alpha)


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), ClipReLU(0.5))
    loss = net(torch.randn(3, 4)).sum()
    loss.backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.0.weight", "net.1.alpha"]},
        ),
        Example(
            name="scale-without-alpha-grad",
            code="""import torch


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.alpha


def main():
    torch.manual_seed(0)
    x = torch.randn(4, requires_grad=True)
    Scale.apply(x, 3.0).sum().backward()
    return {"x": x}
""",
            lines=(12,),
            expect={"error": "returned an incorrect number of gradients (expected 2, got 1)"},
        ),
        Example(
            name="three-inputs-two-grads",
            code="""import torch


class Blend(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, t):
        ctx.t = t
        return a * (1 - t) + b * t

    @staticmethod
    def backward(ctx, g):
        grad_a = g * (1 - ctx.t)
        grad_b = g * ctx.t
        return grad_a, grad_b


def main():
    torch.manual_seed(0)
    a = torch.randn(3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    Blend.apply(a, b, 0.25).pow(2).sum().backward()
    return {"a": a, "b": b}
""",
            lines=(14,),
            expect={"error": "returned an incorrect number of gradients (expected 3, got 2)"},
        ),
        Example(
            bad=False,
            name="grad-per-input",
            code="""import torch


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha, clamp=None):
        ctx.alpha = alpha
        return x * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.alpha, None, None


def main():
    torch.manual_seed(0)
    x = torch.randn(4, requires_grad=True)
    Scale.apply(x, 2.0).sum().backward()
    return {"x": x}
""",
            expect={"grad_ok": ["x"]},
        ),
        Example(
            name="recompute-function-one-none-short-before-the-starred-inputs",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Recompute(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run_function, scale, *args):
        ctx.run_function, ctx.scale = run_function, scale
        ctx.save_for_backward(*args)
        with torch.no_grad():
            return run_function(*args) * scale

    @staticmethod
    def backward(ctx, grad_out):
        inputs = [x.detach().requires_grad_(x.requires_grad) for x in ctx.saved_tensors]
        with torch.enable_grad():
            out = ctx.run_function(*inputs) * ctx.scale
        torch.autograd.backward(out, grad_out)
        grads = tuple(x.grad for x in inputs)
        return (None,) + grads


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def inner(self, a, b):
        return torch.tanh(self.fc(a + b))

    def forward(self, a, b):
        return Recompute.apply(self.inner, 0.5, a, b)


def main():
    torch.manual_seed(0)
    stem, block, head = nn.Linear(4, 4), Block(), nn.Linear(4, 2)
    params = [*stem.parameters(), *block.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        x = torch.randn(8, 4)
        h = stem(x)
        loss = F.cross_entropy(head(block(h, h * 2)), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"stem": stem, "head": head}
""",
            lines=(21,),
            expect={"error": "incorrect number of gradients"},
        ),
        Example(
            bad=False,
            name="recompute-function-one-none-per-named-input",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Recompute(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run_function, scale, *args):
        ctx.run_function, ctx.scale = run_function, scale
        ctx.save_for_backward(*args)
        with torch.no_grad():
            return run_function(*args) * scale

    @staticmethod
    def backward(ctx, grad_out):
        inputs = [x.detach().requires_grad_(x.requires_grad) for x in ctx.saved_tensors]
        with torch.enable_grad():
            out = ctx.run_function(*inputs) * ctx.scale
        torch.autograd.backward(out, grad_out)
        grads = tuple(x.grad for x in inputs)
        return (None, None) + grads


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def inner(self, a, b):
        return torch.tanh(self.fc(a + b))

    def forward(self, a, b):
        return Recompute.apply(self.inner, 0.5, a, b)


def main():
    torch.manual_seed(0)
    stem, block, head = nn.Linear(4, 4), Block(), nn.Linear(4, 2)
    params = [*stem.parameters(), *block.parameters(), *head.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.1)
    for _ in range(2):
        x = torch.randn(8, 4)
        h = stem(x)
        loss = F.cross_entropy(head(block(h, h * 2)), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"stem": stem, "head": head}
""",
            expect={"grad_ok": ["stem.weight", "head.weight"]},
        ),
        Example(
            name="gradient-for-k-given-from-the-config-table",
            code="""import torch
import torch.nn as nn

CFG = {"d": 6, "k": 2, "coef": 1 / 32}


class TopK(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre, k):
        vals, idx = pre.topk(k, dim=-1)
        ctx.save_for_backward(idx)
        return torch.zeros_like(pre).scatter(-1, idx, vals)

    @staticmethod
    def backward(ctx, grad_output):
        (idx,) = ctx.saved_tensors
        grad_pre = torch.zeros_like(grad_output).scatter(-1, idx, grad_output.gather(-1, idx))
        return grad_pre, grad_pre.sum()


class SparseCoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Linear(cfg["d"], cfg["d"])

    def forward(self, x):
        return TopK.apply(self.encoder(x), self.cfg["k"])


def main():
    torch.manual_seed(0)
    model = SparseCoder(CFG)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(4, CFG["d"])).pow(2).mean() * CFG["coef"]
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(18,),
            expect={'error': 'returned a gradient different than None at position 2'},
            fixed_expect={'grad_ok': ['model.encoder.weight']},
        ),
        Example(
            bad=False,
            name="none-for-k-given-from-the-config-table",
            code="""import torch
import torch.nn as nn

CFG = {"d": 6, "k": 2, "coef": 1 / 32}


class TopK(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre, k):
        vals, idx = pre.topk(k, dim=-1)
        ctx.save_for_backward(idx)
        return torch.zeros_like(pre).scatter(-1, idx, vals)

    @staticmethod
    def backward(ctx, grad_output):
        (idx,) = ctx.saved_tensors
        grad_pre = torch.zeros_like(grad_output).scatter(-1, idx, grad_output.gather(-1, idx))
        return grad_pre, None


class SparseCoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Linear(cfg["d"], cfg["d"])

    def forward(self, x):
        return TopK.apply(self.encoder(x), self.cfg["k"])


def main():
    torch.manual_seed(0)
    model = SparseCoder(CFG)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(4, CFG["d"])).pow(2).mean() * CFG["coef"]
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={'grad_ok': ['model.encoder.weight']},
        ),
        Example(
            bad=False,
            name="index-function-whose-only-output-is-marked-non-differentiable",
            code="""import torch
import torch.nn as nn
from torch.autograd import Function


class NearestCenters(Function):
    @staticmethod
    def forward(ctx, k, points, centers):
        idx = torch.cdist(centers, points).topk(k, largest=False).indices
        ctx.mark_non_differentiable(idx)
        return idx

    @staticmethod
    def backward(ctx, grad_idx):
        return None, None


def main():
    torch.manual_seed(0)
    proj = nn.Linear(3, 3)
    opt = torch.optim.SGD(proj.parameters(), lr=0.1)
    for _ in range(3):
        points = proj(torch.randn(10, 3))
        idx = NearestCenters.apply(2, points, torch.randn(4, 3))
        loss = points[idx].pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"proj": proj}
""",
            expect={'grad_ok': ['proj.bias', 'proj.weight']},
        ),
    )

    def _gradients_for_numbers(self, facts, info, fwd, bwd):
        """``Fn.apply(x, self.alpha)`` with ``self.alpha`` only ever a Python number, and a ``backward`` that returns
        a gradient (not None) at that position on every path: autograd raises, the input is not a tensor."""
        names = [a.arg for a in fwd.args.args[1:]]
        returns = list(_returns(bwd))
        if not returns or not all(isinstance(r.value, ast.Tuple) and len(r.value.elts) == len(names) for r in returns):
            return
        maybe_none = {t.id for n in walk_nodes(bwd) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and n.value.value is None for t in n.targets if isinstance(t, ast.Name)}
        reported: set = set()
        for call in apply_calls(facts, info.name):
            if call.keywords or any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) != len(names):
                continue
            for i, arg in enumerate(call.args):
                shown = _number_argument(facts, call, arg)
                if shown is None or i in reported:
                    continue
                elts = [r.value.elts[i] for r in returns]
                if any((isinstance(e, ast.Constant) and e.value is None) or (isinstance(e, ast.Name) and e.id in maybe_none) for e in elts):
                    continue
                reported.add(i)
                yield self.finding(
                    facts,
                    elts[0],
                    f"`{info.name}.backward` returns a gradient for `{names[i]}`, but `apply` is given a Python number there ({shown}): backward() raises",
                    severity=Severity.ERROR,
                    related=[(call, f"`{names[i]}` is a number here")],
                    fixes=[partial(_return_none, facts, elts, names[i])],
                    explanation="Autograd accepts a gradient only for inputs that are tensors: for any other input `backward` must return None, "
                    "else it raises `RuntimeError: function ...Backward returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable`. To learn the value, make it an `nn.Parameter`.",
                )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            fwd0, bwd0 = mm.method(info.name, "forward"), mm.method(info.name, "backward")
            if facts.flow.marked_outputs(info.name) is not None:
                continue  # (every output marked non-differentiable: its backward never runs)
            if fwd0 is not None and bwd0 is not None and not fwd0.args.vararg:
                yield from self._gradients_for_numbers(facts, info, fwd0, bwd0)
            if fwd0 is not None and bwd0 is not None and fwd0.args.vararg:
                yield from self._starred_inputs(facts, info, fwd0, bwd0)
            fwd = mm.method(info.name, "forward")
            bwd = mm.method(info.name, "backward")
            if fwd is None or bwd is None:
                continue
            inputs = forward_inputs(facts, info, fwd)
            if inputs is None:
                continue
            names, n_required = inputs
            n_total = len(names)
            counts: Optional[set[int]] = None  # None: some call's argument count is not known
            arities: set[int] = set()
            for call in apply_calls(facts, info.name):
                if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
                    break
                arities.add(len(call.args))
            else:
                counts = arities
            if counts and len(counts) == 1:
                expected = counts.pop()
                if not (n_required <= expected <= n_total):
                    continue  # the file disagrees with itself; another error comes first
            elif n_required == n_total and counts is not None:
                expected = n_total
            else:
                continue
            for ret in _returns(bwd):
                got = returned_count(facts, ret, bwd)
                if got is None:
                    continue
                count, elts = got
                if count == expected:
                    continue
                if count > expected and elts is not None and all(isinstance(e, ast.Constant) and e.value is None for e in elts[expected:]):
                    continue  # extra trailing Nones are accepted
                if count > expected and elts is None:
                    continue
                inputs_txt = ", ".join(f"`{n}`" for n in names[:expected])
                fixes = []
                if count < expected and ret.value is not None:
                    fixes.append(lambda ret=ret, n=expected - count, missing=names[count:expected], bwd=bwd: _pad(facts, ret, n, missing, bwd))
                yield self.finding(
                    facts,
                    ret,
                    f"`{info.name}.backward` returns {count} gradient{'s' if count != 1 else ''} but `forward` takes {expected} input{'s' if expected != 1 else ''} "
                    f"({inputs_txt}): backward() raises",
                    related=[(fwd, "forward's inputs (excluding ctx)")],
                    fixes=fixes,
                    explanation=f"Autograd needs one gradient (or None) per input of forward; it raises `RuntimeError: function {info.name}Backward "
                    f"returned an incorrect number of gradients (expected {expected}, got {count})`.",
                )


    def _starred_inputs(self, facts, info, fwd, bwd):
        """``forward(ctx, run_function, preserve_rng, *args)`` that saves exactly its starred inputs
        (``ctx.save_for_backward(*args)``), and a ``backward`` that returns ``(None,) + grads`` with one gradient per saved
        tensor (``tuple(x.grad for x in inputs)``, ``inputs`` made from ``ctx.saved_tensors``): the leading Nones must match
        the named inputs, one each, or every gradient lands on the wrong input and autograd raises."""
        a = fwd.args
        named = [p.arg for p in [*a.posonlyargs, *a.args]][1:]  # (without ctx)
        star = a.vararg.arg
        saves = [n for n in walk_nodes(fwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "save_for_backward"]
        if len(saves) != 1 or len(saves[0].args) != 1 or not (isinstance(saves[0].args[0], ast.Starred) and isinstance(saves[0].args[0].value, ast.Name)
                                                              and saves[0].args[0].value.id == star) or saves[0].keywords:
            return
        for ret in _returns(bwd):
            v = ret.value
            if not (isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add) and isinstance(v.left, ast.Tuple)
                    and all(isinstance(e, ast.Constant) and e.value is None for e in v.left.elts) and _one_per_saved(bwd, v.right)):
                continue
            lead = len(v.left.elts)
            if lead == len(named):
                continue
            shown = ", ".join(f"`{n}`" for n in named)
            left, n_named = v.left, len(named)
            fixes = [lambda left=left, n=n_named: fix(f"Return one None for each of {n} named input{'s' if n != 1 else ''}",
                                                         replace_node(facts, left, "(" + ", ".join(["None"] * n) + ("," if n == 1 else "") + ")"))]
            yield self.finding(
                facts,
                ret,
                f"`{info.name}.backward` returns {lead} None{'s' if lead != 1 else ''} before the gradients of the saved `*{star}`, but `forward` "
                f"takes {len(named)} input{'s' if len(named) != 1 else ''} before them ({shown}): backward() raises",
                related=[(saves[0], f"forward saves exactly its `*{star}` inputs"), (fwd, "forward's inputs (excluding ctx)")],
                fixes=fixes,
                explanation=f"Autograd needs one gradient (or None) per input of forward, in order: one for each named input, then one per "
                f"tensor of `*{star}`; with {lead} leading Nones it raises `RuntimeError: function {info.name}Backward returned an incorrect "
                "number of gradients`.",
            )


def _one_per_saved(bwd, expr: ast.AST) -> bool:
    """Is ``expr`` a sequence with one element per tensor ``ctx.saved_tensors`` holds: ``tuple(x.grad for x in inputs)`` (or
    a list comprehension), over ``inputs`` made element by element from ``ctx.saved_tensors`` (or over it directly), each
    name bound once in ``bwd``? (A module-level function: a recursive closure would be a reference cycle holding the tree.)"""
    return _per_element(bwd, expr, 0)


def _per_element(bwd, e: Optional[ast.AST], depth: int) -> bool:
    if depth > 8 or e is None:
        return False
    if isinstance(e, ast.Name):
        return _per_element(bwd, single_binding(bwd, e.id), depth + 1)
    if isinstance(e, ast.Attribute) and e.attr == "saved_tensors":
        return True
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in ("tuple", "list") and len(e.args) == 1 and not e.keywords:
        return _per_element(bwd, e.args[0], depth + 1)
    if isinstance(e, (ast.ListComp, ast.GeneratorExp)) and len(e.generators) == 1 and not e.generators[0].ifs:
        return _per_element(bwd, e.generators[0].iter, depth + 1)
    return False


def _return_none(facts, elts: list, name: str):
    return fix(f"Return `None` for `{name}`", *(replace_node(facts, e, "None") for e in elts))


def _number_argument(facts, call: ast.Call, arg: ast.AST) -> Optional[str]:
    """How an ``apply`` argument is surely a Python number: a numeric literal, or ``self.<attr>`` whose every
    value in the file is one (``self.alpha = alpha`` with ``alpha=6.0`` at every construction)."""
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if isinstance(arg, ast.Constant) and number(arg.value):
        return f"`{arg.value!r}`"
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in ("int", "float", "len", "round") and arg.args \
            and arg.func.id not in facts.flow.functions and arg.func.id not in facts.modules.classes and (arg.func.id != "round" or len(arg.args) == 1):
        return f"`{arg.func.id}(...)` is a Python number"
    if isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Constant) and isinstance(arg.slice.value, str):
        # ``self.cfg["k"]`` with the same table of constants at every construction (or a module-level table): its entry
        table = None
        base = arg.value
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "self":
            owner = facts.enclosing(call, ast.ClassDef)
            table = facts.flow.constructions.kept_literal(owner.name, base.attr) if owner is not None else None
        if isinstance(table, ast.Dict):
            got = [v for k, v in zip(table.keys, table.values) if isinstance(k, ast.Constant) and k.value == arg.slice.value]
            if len(got) == 1 and isinstance(got[0], ast.Constant) and number(got[0].value):
                return f"`{facts.text(arg)}` is {got[0].value!r}"
        return None
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
        owner = facts.enclosing(call, ast.ClassDef)
        if owner is None:
            return None
        vals = facts.flow.constructions.attr_values(owner.name, arg.attr)
        if vals and all(number(v) for v in vals):
            return f"`self.{arg.attr}` is only ever " + " or ".join(sorted({repr(v) for v in vals}))
    return None


def _pad(facts, ret: ast.Return, n: int, missing: tuple = (), bwd: Optional[ast.AST] = None):
    """Complete the returned gradients: for each input left out, the gradient ``backward`` computed for it and dropped
    (a name ``grad_<input>`` / ``<input>_grad`` / ``d_<input>`` bound in it), else None."""
    v = cast(ast.expr, ret.value)  # the caller checks ``ret.value is not None``
    text = facts.text(v)
    bound = {t.id for t in walk_nodes(bwd) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)} if bwd is not None else set()
    returned = {t.id for t in walk_nodes(v) if isinstance(t, ast.Name)}
    fill = []
    for name in list(missing)[:n]:
        got = next((c for c in (f"grad_{name}", f"{name}_grad", f"d_{name}", f"grad{name}") if c in bound and c not in returned), None)
        fill.append(got or "None")
    fill += ["None"] * (n - len(fill))
    nones = ", ".join(fill)
    if any(f != "None" for f in fill):
        label = f"Return the gradients computed for the remaining input{'s' if n != 1 else ''} ({nones})"
    else:
        label = f"Return `None` for the remaining {n} input{'s' if n != 1 else ''}"
    if isinstance(v, ast.Tuple):
        if text.startswith("(") and text.endswith(")"):
            inner = text[1:-1].rstrip()
            if inner.endswith(","):
                inner = inner[:-1]
            new = f"({inner}, {nones})"
        else:
            new = f"{text.rstrip(',').rstrip()}, {nones}"
    else:
        new = f"{text}, {nones}"
    return fix(label, replace_node(facts, v, new), unsafe=True)
