"""GG916 function-gradient-rank: a custom Function's ``backward`` returns, for an input it is applied to in this file,
a gradient with more dimensions than that input (a bias gradient reduced over the batch dimension only, while the
Function is applied to a convolution's feature map)."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.classes import apply_calls, function_classes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule

# Ranks here are lower bounds: ``lo(e)`` is a number of dimensions ``e`` has at least (0 when nothing is known), and
# every step below only ever keeps or lowers what is known, so a lower bound stays a lower bound.

# torch functions that apply elementwise (with broadcasting) to their tensor arguments: the result has at least the
# dimensions of each tensor argument
_ELEMENTWISE = {
    "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "elu", "selu", "celu", "softplus", "mish", "hardtanh",
    "relu6", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "neg", "sign", "sin", "cos", "square", "reciprocal",
    "erf", "erfc", "clamp", "clip", "where", "mul", "add", "sub", "div", "pow", "maximum", "minimum", "lerp",
    "ones_like", "zeros_like", "full_like", "empty_like", "rand_like", "randn_like", "heaviside", "gt", "lt", "ge", "le",
    "eq", "ne", "logical_and", "logical_or", "logical_not",
}
# tensor methods that do the same (the receiver and the tensor arguments broadcast together)
_ELEMENTWISE_METHODS = _ELEMENTWISE | {
    "float", "double", "half", "bfloat16", "to", "type", "type_as", "clone", "detach", "contiguous", "masked_fill", "mul_",
    "add_", "sub_", "div_", "clamp_", "relu_", "sigmoid_", "tanh_", "exp_", "neg_", "abs_", "masked_fill_", "fill_", "zero_",
}
_REDUCTIONS = {"sum", "mean", "amax", "amin", "prod", "logsumexp", "nansum"}
# module layers whose output has at least N dimensions, whatever the input (``nn.Conv2d``: (C, H, W) or (N, C, H, W))
_LAYER_RANK = {
    "Conv1d": 2, "Conv2d": 3, "Conv3d": 4, "ConvTranspose1d": 2, "ConvTranspose2d": 3, "ConvTranspose3d": 4,
    "BatchNorm2d": 3, "BatchNorm3d": 4, "InstanceNorm2d": 3, "InstanceNorm3d": 4, "MaxPool2d": 3, "AvgPool2d": 3,
}
_SHAPED_CTORS = {"torch.zeros", "torch.ones", "torch.randn", "torch.rand", "torch.empty"}
_PARAMETER = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}


def _dim_count(call: ast.Call, dims_ok) -> Optional[int]:
    """The number of dimensions of ``torch.zeros(a, b)``-style constructors given their sizes one by one, each an int
    literal or a name ``dims_ok`` vouches is an int; None otherwise (``torch.zeros(shape)`` may be a tuple)."""
    if not call.args or any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg in ("size", None) for k in call.keywords):
        return None
    for a in call.args:
        if isinstance(a, ast.Constant) and type(a.value) is int:
            continue
        if isinstance(a, ast.Name) and dims_ok(a.id):
            continue
        return None
    return len(call.args)


def _int_sizes(facts, fn: ast.AST):
    """Names ``fn`` passes positionally to a ``torch.nn`` layer constructor (``nn.Conv2d(cin, cout, 3)``): channel and
    feature counts, ints by the layer's signature."""
    ints: set = set()
    for n in facts.own_nodes(fn):
        if isinstance(n, ast.Call) and (facts.imports.qualname(n.func) or "").startswith("torch.nn.") and (facts.imports.qualname(n.func) or "").rsplit(".", 1)[-1] in _LAYER_SIZED:
            ints.update(a.id for a in n.args if isinstance(a, ast.Name))
    return ints.__contains__


_LAYER_SIZED = {"Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Embedding", "LayerNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm"}


def _parameter_rank(facts, owner: str, attr: str) -> Optional[int]:
    """The exact number of dimensions of ``self.<attr>`` on class ``owner`` when every assignment of it is
    ``nn.Parameter(torch.zeros(n))``-style (sizes given one by one)."""
    info = facts.modules.classes.get(owner)
    values = facts.modules.assigned_values(owner, attr)
    if info is None or not values:
        return None
    init = facts.modules.method(owner, "__init__")
    dims_ok = _int_sizes(facts, init) if init is not None else (lambda _n: False)
    ranks = set()
    for v in values:
        if not (isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "") in _PARAMETER and v.args):
            return None
        inner = v.args[0]
        if not (isinstance(inner, ast.Call) and (facts.imports.qualname(inner.func) or "") in _SHAPED_CTORS):
            return None
        n = _dim_count(inner, dims_ok)
        if n is None:
            return None
        ranks.add(n)
    return ranks.pop() if len(ranks) == 1 else None


def _argument_rank(facts, call: ast.Call, arg: ast.AST) -> tuple:
    """(at least, exactly or None, what it is) for an argument of ``Cls.apply(...)`` inside a method of a Module class:
    ``self.conv(x)`` with ``self.conv = nn.Conv2d(...)`` has at least 3 dimensions; ``self.bias`` built as
    ``nn.Parameter(torch.zeros(c))`` has exactly 1."""
    fn = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
    owner = facts.enclosing(fn, (ast.ClassDef,)) if fn is not None else None
    if owner is None or owner.name not in facts.modules.classes:
        return 0, None, ""
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self":
        r = _parameter_rank(facts, owner.name, arg.attr)
        if r is not None:
            return r, r, f"`self.{arg.attr}`"
    if isinstance(arg, ast.Call) and not any(isinstance(a, ast.Starred) for a in arg.args):
        f = arg.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            ctor = facts.modules.attr_torch_ctor(owner.name, f.attr)
            if ctor is not None:
                short = ctor[0].rsplit(".", 1)[-1]
                if short in _LAYER_RANK:
                    return _LAYER_RANK[short], None, f"the output of `{short}` (`self.{f.attr}`)"
    return 0, None, ""


class _Ranks:
    """Lower bounds on the number of dimensions of the tensors of straight-line code."""

    def __init__(self, facts, env: dict) -> None:
        self.facts = facts
        self.env = env

    def lo(self, e: ast.AST) -> int:
        if isinstance(e, ast.Name):
            return self.env.get(e.id, 0)
        if isinstance(e, ast.UnaryOp):
            return self.lo(e.operand)
        if isinstance(e, ast.BinOp) and not isinstance(e.op, ast.MatMult):
            return max(self.lo(e.left), self.lo(e.right))
        if isinstance(e, ast.Compare) and len(e.comparators) == 1:
            return max(self.lo(e.left), self.lo(e.comparators[0]))
        if not isinstance(e, ast.Call) or any(isinstance(a, ast.Starred) for a in e.args):
            return 0
        f = e.func
        q = self.facts.imports.qualname(f) or ""
        if q.startswith("torch.") and q.rsplit(".", 1)[-1] in _ELEMENTWISE:
            return max([self.lo(a) for a in e.args] + [self.lo(k.value) for k in e.keywords if k.arg not in ("out",)] + [0])
        if q or not isinstance(f, ast.Attribute):
            return 0
        recv = self.lo(f.value)
        if f.attr in _ELEMENTWISE_METHODS:
            return max([recv] + [self.lo(a) for a in e.args] + [0])
        if f.attr in _REDUCTIONS:
            return max(recv - _reduced(e), 0)
        return 0


def _reduced(call: ast.Call) -> int:
    """How many dimensions ``x.sum(...)`` removes at most (all of them for ``x.sum()``, one for ``x.sum(0)`` and
    ``x.sum(dim=0)``, n for ``x.sum(dim=(0, 2))``, none with ``keepdim=True``)."""
    for k in call.keywords:
        if k.arg == "keepdim" and not (isinstance(k.value, ast.Constant) and k.value.value is False):
            return 0
    dim = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "dim"), None)
    if dim is None:
        return 10**6
    if isinstance(dim, ast.Constant) and type(dim.value) is int:
        return 1
    if isinstance(dim, (ast.Tuple, ast.List)) and all(isinstance(d, ast.Constant) and type(d.value) is int for d in dim.elts):
        return len({d.value for d in dim.elts if isinstance(d, ast.Constant)})
    return 10**6


def _run(r: _Ranks, body: list, on_return) -> None:
    """Walk straight-line statements: a name bound by a plain assignment gets its value's bound, one bound anywhere
    else (a loop, a branch, a tuple target) loses what was known of it."""
    for st in body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            r.env[st.targets[0].id] = r.lo(st.value)
            continue
        if isinstance(st, ast.Return):
            on_return(st)
            return
        for n in ast.walk(st):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                r.env[n.id] = 0
            if isinstance(n, ast.Return):
                return  # a return inside a branch: what follows is not straight-line code any more


def _saved_unpack(st: ast.stmt) -> Optional[list]:
    """``a, b = ctx.saved_tensors`` (also ``a, = ...``): the target names, in order."""
    if not (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.value, ast.Attribute) and st.value.attr == "saved_tensors"):
        return None
    t = st.targets[0]
    if isinstance(t, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in t.elts):
        return [e.id for e in t.elts]  # type: ignore[attr-defined]
    return None


class FunctionGradientRank(Rule):
    code = "GG916"
    name = "function-gradient-rank"
    summary = (
        "A custom Function's `backward` returns, for an input it is applied to here, a gradient with more dimensions than "
        "that input (a bias gradient summed over the batch dimension only, on a convolution's feature map)."
    )
    severity = Severity.WARNING
    needs = (".apply(",)
    fix_applicability = None
    docs = """
## What it does
Follows each `Cls.apply(...)` call of an `autograd.Function` defined in the file whose arguments' dimensions are
known there: the output of a convolution layer held on the module (`self.conv(x)` with `self.conv = nn.Conv2d(...)`
has at least 3 dimensions), a parameter built with its sizes given one by one (`nn.Parameter(torch.zeros(c))` has
exactly 1). It counts, as a lower bound, the dimensions of what `forward` returns (elementwise ops keep the largest
operand's), hence of the incoming gradient, and of each gradient `backward` returns (elementwise ops keep them,
`.sum(dim=0)` removes one). It flags a returned gradient with more dimensions than its input. Anything it cannot
count (a `view`, a matrix product, a branch) counts as nothing, so it stays silent.

## Why is this bad?
Autograd checks every gradient a custom `backward` returns against its input's shape; a gradient of another shape
is accepted only when the input's shape broadcasts to it (it is then summed back). A `(C,)` bias and a `(C, H, W)`
gradient (`grad.sum(dim=0)` of an `(N, C, H, W)` map) do not broadcast unless `C` equals `W`, and
`loss.backward()` raises `RuntimeError: Function FooBackward returned an invalid gradient at index 1 - got [C, H,
W] but expected shape compatible with [C]`. When they do broadcast by accident (`C == W`), the bias silently gets
the sums over the wrong entries. Typical cause: a fused op written for `(N, C)` activations reused on feature maps.

## Example
```python
class BiasAct(torch.autograd.Function):
    @staticmethod
    def backward(ctx, grad_out):
        pre, = ctx.saved_tensors
        grad = grad_out * (pre > 0)
        return grad, grad.sum(dim=0)         # right for (N, C) only

out = BiasAct.apply(self.conv(x), self.bias)  # (N, C, H, W)
```

## Use instead
```python
        return grad, grad.sum(dim=[d for d in range(grad.dim()) if d != 1])
```
(reduce over every dimension the bias was broadcast along).

## Fix safety
No automatic fix: which dimension the input was broadcast along is the forward's business.
"""
    examples = (
        Example(
            name="bias-gradient-summed-over-the-batch-only-on-a-feature-map",
            code="""import torch
import torch.nn as nn


class BiasLeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias):
        pre = x + bias.view(1, -1, *([1] * (x.dim() - 2)))
        ctx.save_for_backward(pre)
        return torch.where(pre >= 0, pre, 0.2 * pre)

    @staticmethod
    def backward(ctx, grad_out):
        (pre,) = ctx.saved_tensors
        grad_pre = grad_out * torch.where(pre >= 0, 1.0, 0.2)
        grad_bias = grad_pre.sum(dim=0)
        return grad_pre, grad_bias


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return BiasLeakyReLU.apply(self.conv(x), self.bias)


def main():
    torch.manual_seed(0)
    block = ConvBlock(3, 8)
    block(torch.randn(2, 3, 6, 6)).pow(2).mean().backward()
    return {"block": block}
""",
            lines=(16,),
            expect={"error": "returned an invalid gradient at index 1"},
        ),
        Example(
            bad=False,
            name="bias-gradient-on-activations-or-reduced-to-the-channel",
            code="""import torch
import torch.nn as nn


class BiasLeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias):
        pre = x + bias.view(1, -1, *([1] * (x.dim() - 2)))
        ctx.save_for_backward(pre)
        return torch.where(pre >= 0, pre, 0.2 * pre)

    @staticmethod
    def backward(ctx, grad_out):
        (pre,) = ctx.saved_tensors
        grad_pre = grad_out * torch.where(pre >= 0, 1.0, 0.2)
        grad_bias = grad_pre.sum(dim=[d for d in range(grad_pre.dim()) if d != 1])
        return grad_pre, grad_bias


class MLPBiasLeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias):
        pre = x + bias
        ctx.save_for_backward(pre)
        return torch.where(pre >= 0, pre, 0.2 * pre)

    @staticmethod
    def backward(ctx, grad_out):
        (pre,) = ctx.saved_tensors
        grad_pre = grad_out * torch.where(pre >= 0, 1.0, 0.2)
        return grad_pre, grad_pre.sum(dim=0)


class Net(nn.Module):
    def __init__(self, cin=3, ch=8):
        super().__init__()
        self.conv = nn.Conv2d(cin, ch, 3, padding=1, bias=False)
        self.conv_bias = nn.Parameter(torch.zeros(ch))
        self.fc = nn.Linear(ch, ch, bias=False)
        self.fc_bias = nn.Parameter(torch.zeros(ch))

    def forward(self, x):
        h = BiasLeakyReLU.apply(self.conv(x), self.conv_bias).mean(dim=(2, 3))
        return MLPBiasLeakyReLU.apply(self.fc(h), self.fc_bias)


def main():
    torch.manual_seed(0)
    net = Net()
    net(torch.randn(2, 3, 6, 6)).pow(2).mean().backward()
    return {"net": net}
""",
            expect={"grad_ok": ["net.conv_bias", "net.fc_bias", "net.conv.weight"]},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            fwd, bwd = mm.method(info.name, "forward"), mm.method(info.name, "backward")
            if fwd is None or bwd is None or mm.method(info.name, "setup_context") is not None:
                continue
            if fwd.args.vararg or bwd.args.vararg or fwd.args.kwonlyargs or len(fwd.args.args) < 2 or len(bwd.args.args) != 2:
                continue
            inputs = [a.arg for a in fwd.args.args[1:]]
            reported: set = set()
            for call in apply_calls(facts, info.name):
                if call.keywords or len(call.args) != len(inputs) or any(isinstance(a, ast.Starred) for a in call.args):
                    continue
                known = [_argument_rank(facts, call, a) for a in call.args]
                if not any(k[1] is not None for k in known) or not any(k[0] > 0 for k in known):
                    continue
                yield from self._check_call(facts, info, fwd, bwd, inputs, call, known, reported)

    def _check_call(self, facts, info, fwd, bwd, inputs: list, call: ast.Call, known: list, reported: set):
        env = {name: k[0] for name, k in zip(inputs, known)}
        fr = _Ranks(facts, dict(env))
        out: list = []
        _run(fr, fwd.body, lambda st: out.append(fr.lo(st.value) if st.value is not None and not isinstance(st.value, ast.Tuple) else 0))
        saves = [n for n in ast.walk(fwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "save_for_backward"]
        saved: Optional[list] = None
        if len(saves) == 1 and not any(isinstance(a, ast.Starred) for a in saves[0].args):
            saved = [fr.lo(a) for a in saves[0].args]
        if len(out) != 1 or not out[0]:
            return
        br = _Ranks(facts, {bwd.args.args[1].arg: out[0]})
        body = list(bwd.body)
        if body and saved is not None:
            names = _saved_unpack(body[0])
            if names is not None and len(names) == len(saved):
                br.env.update(zip(names, saved))
                body = body[1:]
        rets: list = []
        _run(br, body, rets.append)
        for ret in rets:
            if not isinstance(ret.value, ast.Tuple) or len(ret.value.elts) != len(inputs):
                continue
            for i, (el, (_lo, exact, what)) in enumerate(zip(ret.value.elts, known)):
                if exact is None or (isinstance(el, ast.Constant) and el.value is None):
                    continue
                got = br.lo(el)
                if got <= exact:
                    continue
                at: ast.AST = el
                if isinstance(el, ast.Name):
                    at = next((st.value for st in reversed(body) if isinstance(st, ast.Assign) and st.lineno < ret.lineno and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.targets[0].id == el.id), el)
                if id(at) in reported:
                    continue
                reported.add(id(at))
                others = [f"{w} (at least {lo} dimensions)" for (lo, ex, w), _n in zip(known, inputs) if ex is None and lo > 0 and w]
                applied = f"applied at line {call.lineno} to " + ", ".join(others) if others else f"applied at line {call.lineno}"
                yield self.finding(
                    facts,
                    at,
                    f"`{info.name}.backward` returns for `{inputs[i]}` ({what}, {exact}-D) a gradient of at least {got} dimensions when {applied}: "
                    f"autograd raises 'returned an invalid gradient at index {i}' (or, if the shapes happen to broadcast, sums it into the wrong entries)",
                    related=[(call, "applied here"), (ret, "returned here")],
                    explanation="Autograd checks each gradient a custom backward returns against its input's shape and only sums it back when "
                    "the input broadcasts to it. Reduce the gradient over every dimension the input was broadcast along (for a per-channel "
                    "bias: all but dimension 1), not only the batch dimension.",
                )
