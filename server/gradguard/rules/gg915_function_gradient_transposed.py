"""GG915 function-gradient-transposed: a custom Function's ``backward`` returns, for a weight, a gradient whose
shape is the weight's shape transposed."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.classes import function_classes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule

# Shapes are tuples of symbolic dimensions: "out" and "in" of a linear map, "batch" for every leading dimension
# of its input (one symbol: ``t()`` accepts at most two dimensions). SCALAR: a Python number.
Shape = tuple
SCALAR: Shape = ("<scalar>",)
NONE: Shape = ("<none>",)

# elementwise functions (one tensor in, the same shape out)
_UNARY = {
    "erf", "erfc", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu", "silu", "abs", "neg",
    "sign", "sin", "cos", "square", "reciprocal", "softplus", "elu", "leaky_relu", "mish", "hardtanh", "clone", "contiguous",
    "float", "double", "half", "bfloat16", "detach", "ones_like", "zeros_like", "exp_", "mul_", "sigmoid_",
}
# methods that return a tensor of the receiver's shape whatever their arguments (a dtype, a device)
_SAME_SHAPE_METHODS = {"to", "type", "float", "double", "half", "bfloat16", "detach", "clone", "contiguous", "cpu", "cuda"}
_BINARY_METHODS = {"mul", "add", "sub", "div", "pow", "mul_", "add_", "sub_", "div_"}


def _qual(facts, func: ast.AST) -> str:
    return facts.imports.qualname(func) or ""


def _name(node: ast.AST) -> Optional[str]:
    return node.id if isinstance(node, ast.Name) else None


def _transposed_operand(node: ast.AST) -> Optional[str]:
    """``w.t()`` / ``w.T`` -> ``w``."""
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        return _name(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "t" and not node.args:
        return _name(node.func.value)
    return None


def _linear_roles(facts, expr: ast.AST) -> Optional[tuple]:
    """``(input, weight, weight shape, bias)`` when ``expr`` applies a linear map to names: ``F.linear(x, w, b)``,
    ``x @ w.t()``, ``x.mm(w.t())``, ``torch.matmul(x, w)``, ``... + b``. The weight's shape says which layout it has."""
    bias = None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add) and _name(expr.right):
        bias, expr = _name(expr.right), expr.left
    pair: Optional[tuple] = None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.MatMult):
        pair = (expr.left, expr.right)
    elif isinstance(expr, ast.Call):
        q = _qual(facts, expr.func)
        if q in ("torch.nn.functional.linear",) and 2 <= len(expr.args) <= 3:
            x, w = _name(expr.args[0]), _name(expr.args[1])
            b = _name(expr.args[2]) if len(expr.args) == 3 else None
            return (x, w, ("out", "in"), b) if x and w else None
        if q in ("torch.matmul", "torch.mm") and len(expr.args) == 2:
            pair = (expr.args[0], expr.args[1])
        elif isinstance(expr.func, ast.Attribute) and expr.func.attr in ("mm", "matmul") and len(expr.args) == 1:
            pair = (expr.func.value, expr.args[0])
    if pair is None:
        return None
    x = _name(pair[0])
    if x is None:
        return None
    wt = _transposed_operand(pair[1])
    if wt is not None:
        return x, wt, ("out", "in"), bias
    w = _name(pair[1])
    return (x, w, ("in", "out"), bias) if w else None


class _Shapes:
    """Symbolic shapes of the tensors of a ``backward`` body (straight-line code; names bound in loops or under
    ``try`` are unknown)."""

    def __init__(self, facts, env: dict, ctx_scalars: frozenset = frozenset(), two_d: frozenset = frozenset()) -> None:
        self.facts = facts
        self.env = env
        self.ctx_scalars = ctx_scalars  # ``ctx.omega``: attributes the forward set to a number (or an input given no gradient)
        self.two_d = two_d  # names the backward calls ``.t()`` on (or hands to ``mm``): at most two dimensions

    def of(self, e: ast.AST) -> Optional[Shape]:
        facts = self.facts
        if isinstance(e, ast.Name):
            return self.env.get(e.id)
        if isinstance(e, ast.Constant):
            return SCALAR if isinstance(e.value, (int, float)) and not isinstance(e.value, bool) else (NONE if e.value is None else None)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            return self.of(e.operand)
        if isinstance(e, ast.BinOp):
            a, b = self.of(e.left), self.of(e.right)
            if isinstance(e.op, ast.MatMult):
                return _matmul(a, b)
            if isinstance(e.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
                return _elementwise(a, b)
            return None
        if isinstance(e, ast.Attribute) and e.attr in ("T", "mT"):
            return _t(self.of(e.value))
        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.attr in self.ctx_scalars:
            return SCALAR
        if not isinstance(e, ast.Call):
            return None
        f = e.func
        q = _qual(facts, f)
        if q.startswith("math."):
            return SCALAR
        if q == "torch.nn.functional.linear" and 2 <= len(e.args) <= 3 and not e.keywords:
            x, w = self.of(e.args[0]), self.of(e.args[1])
            if x and w and len(x) >= 1 and len(w) == 2 and x[-1] == w[1] and SCALAR not in (x, w):
                return (*x[:-1], w[0])
            return None
        if q in ("torch.matmul", "torch.mm") and len(e.args) == 2:
            return _matmul(self.of(e.args[0]), self.of(e.args[1]))
        if q.startswith("torch.") and q.rsplit(".", 1)[-1] in _UNARY and len(e.args) == 1 and all(isinstance(k.value, ast.Constant) for k in e.keywords):
            return self.of(e.args[0])  # (``F.gelu(x, approximate="tanh")``: options, the same shape)
        if isinstance(f, ast.Attribute) and not q.startswith(("torch.", "math.")):
            recv = self.of(f.value)
            if recv is None or recv in (SCALAR, NONE):
                return None
            if f.attr == "t" and not e.args:
                return _t(recv)
            if f.attr == "transpose" and len(e.args) == 2 and len(recv) == 2 and all(isinstance(a, ast.Constant) for a in e.args):
                return _t(recv) if {a.value for a in e.args if isinstance(a, ast.Constant)} in ({0, 1}, {-1, -2}, {0, -1}, {1, -2}) else None
            if f.attr in ("mm", "matmul") and len(e.args) == 1:
                return _matmul(recv, self.of(e.args[0]))
            if (f.attr in _UNARY and not e.args and not e.keywords) or f.attr == "to" or (f.attr == "type" and e.args):
                return recv  # (``.to(torch.bfloat16)``, ``.to(device)``: the same shape)
            if f.attr in _BINARY_METHODS and len(e.args) == 1 and not e.keywords:
                return _elementwise(recv, self.of(e.args[0]))
            if f.attr in ("sum", "mean"):
                return self._reduced(f.value, recv, e)
        return None

    def _reduced(self, operand: ast.AST, recv: Shape, e: ast.Call) -> Optional[Shape]:
        """``g.sum(0)`` / ``g.sum(dim=-1)``: the shape without that dimension. "batch" stands for every leading
        dimension, so a dimension other than the first or the last is known only for a tensor of at most two (the
        receiver of a ``.t()``)."""
        dims = [*e.args, *(k.value for k in e.keywords if k.arg == "dim")]
        if len(dims) != 1 or any(k.arg not in ("dim",) for k in e.keywords):
            return None  # (``keepdim=True``, a dtype, several dimensions: not followed)
        d = dims[0]
        neg = isinstance(d, ast.UnaryOp) and isinstance(d.op, ast.USub)
        c = d.operand if isinstance(d, ast.UnaryOp) and neg else d
        if not (isinstance(c, ast.Constant) and type(c.value) is int) or not recv:
            return None
        k: int = -c.value if neg else c.value
        if k == 0:
            return recv[1:]
        if k == -1:
            return recv[:-1]
        exact = "batch" not in recv or (isinstance(operand, ast.Name) and operand.id in self.two_d and len(recv) == 2)
        if not exact or not -len(recv) <= k < len(recv):
            return None
        k %= len(recv)
        return recv[:k] + recv[k + 1:]


def _t(s: Optional[Shape]) -> Optional[Shape]:
    if s is None or s in (SCALAR, NONE) or len(s) != 2:
        return None
    return (s[1], s[0])


def _matmul(a: Optional[Shape], b: Optional[Shape]) -> Optional[Shape]:
    if a is None or b is None or a in (SCALAR, NONE) or b in (SCALAR, NONE) or len(a) != 2 or len(b) != 2 or a[1] != b[0]:
        return None
    return (a[0], b[1])


def _elementwise(a: Optional[Shape], b: Optional[Shape]) -> Optional[Shape]:
    if a is None or b is None or NONE in (a, b):
        return None
    if a == SCALAR:
        return b
    if b == SCALAR or a == b:
        return a
    return None


def _bound_names(node: ast.AST) -> set:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
    return out


def _run(sh: _Shapes, body: list) -> None:
    """Bind the shapes of straight-line assignments (also under ``if`` / ``with``: a name that was None before
    takes the shape assigned in the branch, since a None gradient is also accepted)."""
    env = sh.env
    for st in body:
        if isinstance(st, ast.Assign):
            if len(st.targets) == 1 and isinstance(st.targets[0], ast.Tuple) and isinstance(st.value, ast.Tuple) and len(st.targets[0].elts) == len(st.value.elts):
                vals = [sh.of(v) for v in st.value.elts]
                for t, v in zip(st.targets[0].elts, vals):
                    _bind(env, t, v)
                continue
            v = sh.of(st.value)
            for t in st.targets:
                _bind(env, t, v)
        elif isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name):
            env[st.target.id] = _elementwise(env.get(st.target.id), sh.of(st.value))
        elif isinstance(st, ast.If):
            before = dict(env)
            _run(sh, st.body)
            after_body = dict(env)
            env.clear()
            env.update(before)
            _run(sh, st.orelse)
            for k in set(after_body) | set(env):
                a, b = after_body.get(k), env.get(k)
                env[k] = a if a == b else (a if b == NONE else (b if a == NONE else None))
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            _run(sh, st.body)
        else:
            for k in _bound_names(st):
                env[k] = None


def _bind(env: dict, target: ast.AST, v: Optional[Shape]) -> None:
    if isinstance(target, ast.Name):
        env[target.id] = v
    else:
        for k in _bound_names(target):
            env[k] = None


def _show(s: Shape) -> str:
    return "(" + ", ".join(f"{d}_features" if d in ("in", "out") else d for d in s) + ")"


class FunctionGradientTransposed(Rule):
    code = "GG915"
    name = "function-gradient-transposed"
    summary = "A custom Function's `backward` returns a weight's gradient with the weight's shape transposed, or a bias's gradient reduced over the wrong dimension: autograd raises, or applies a wrong gradient."
    severity = Severity.ERROR
    needs = ("Function",)
    fix_applicability = None
    docs = """
## What it does
Follows the shapes of a custom `torch.autograd.Function` whose `forward` applies a linear map to its inputs
(`F.linear(x, weight, bias)`, `x @ weight.t()`, `x.mm(weight)`): the weight is `(out_features, in_features)`
(or `(in_features, out_features)` for `x @ weight`), the input's last dimension is `in_features`, and the
gradient `backward` receives has the output's shape. When the gradient `backward` returns for the weight has
the weight's shape transposed (`x.t() @ grad` for a weight stored as `(out_features, in_features)`), it is
flagged. When the gradient returned at an input's index has exactly the shape of another input (the forward takes
`(x, weight, bias)` and backward returns `grad_weight, grad_x, grad_bias`), the gradients are out of order and the
return is flagged. When the gradient returned for an input is reduced over the wrong dimension (a bias's `g.sum(dim=1)`,
one value per example, where the bias has one per output feature), it is flagged too. The shapes of tensors the forward saves are followed too (`pre = x @ weight.t() + bias` saved for
an activation's derivative has the output's shape). Shapes it cannot follow (loops, helpers, reshapes) keep it silent.

The forward may wrap the linear map in elementwise functions with numbers (`z.clamp_min(0)`, `z.clamp(0, 6)`, `omega * z`
with `omega` an input the backward gives no gradient, as a Python number gets none, kept as `ctx.omega`), and may
save a mask compared with a number (`z > 0`), which has the shape of `z`.

## Why is this bad?
Autograd checks every gradient a custom `backward` returns against the shape of its input: with
`in_features != out_features` the first backward raises `RuntimeError: Function ...Backward returned an
invalid gradient at index 1 - got [16, 48] but expected shape compatible with [48, 16]`. With a square weight
the shapes agree and the optimizer silently applies the transposed gradient.

## Example
```python
grad_w = x.t() @ grad_out      # (in_features, out_features)
```

## Use instead
```python
grad_w = grad_out.t() @ x      # (out_features, in_features), like F.linear's weight
```

## Fix safety
No automatic fix: transposing the result restores the shape, but whether it is the gradient meant is for the
author to check.
"""
    examples = (
        Example(
            name="bias-gradient-summed-over-the-features",
            code="""import torch
import torch.nn as nn


class ScaledSineLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, omega):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        ctx.omega = omega
        return torch.sin(omega * pre)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        g = grad_out * ctx.omega * torch.cos(ctx.omega * pre)
        grad_b = g.sum(dim=1)
        return g @ weight, g.t() @ x, grad_b, None


class Layer(nn.Module):
    def __init__(self, n_in=3, n_out=5):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return ScaledSineLinear.apply(x, self.weight, self.bias, 30.0)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    loss = layer(torch.rand(8, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer}
""",
            lines=(17,),
            expect={'error': 'returned an invalid gradient at index 2'},
        ),
        Example(
            bad=False,
            name="bias-gradient-summed-over-the-batch",
            code="""import torch
import torch.nn as nn


class ScaledSineLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, omega):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        ctx.omega = omega
        return torch.sin(omega * pre)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        g = grad_out * ctx.omega * torch.cos(ctx.omega * pre)
        grad_b = g.sum(dim=0)
        return g @ weight, g.t() @ x, grad_b, None


class Layer(nn.Module):
    def __init__(self, n_in=3, n_out=5):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return ScaledSineLinear.apply(x, self.weight, self.bias, 30.0)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    loss = layer(torch.rand(8, 3)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"layer": layer}
""",
            expect={'grad_ok': ['layer.weight', 'layer.bias']},
        ),
        Example(
            name="fused-linear-weight-gradient-transposed",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight, bias)
        return torch.tanh(F.linear(x, weight, bias))

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        y = torch.tanh(F.linear(x, weight, bias))
        grad_pre = grad_out * (1 - y ** 2)
        grad_w = x.t() @ grad_pre
        return grad_pre @ weight, grad_w, grad_pre.sum(0)


class Layer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearTanh.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}
""",
            lines=(17,),
            expect={"error": "returned an invalid gradient at index 1"},
        ),
        Example(
            name="input-saved-in-bfloat16-weight-gradient-transposed",
            code="""import torch
import torch.nn as nn


class LowMemLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x.to(torch.bfloat16), weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x_lp, weight = ctx.saved_tensors
        x = x_lp.float()
        grad_w = x.t() @ grad_out
        return grad_out @ weight, grad_w, grad_out.sum(0)


class Layer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LowMemLinear.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}
""",
            lines=(15,),
            expect={"error": "returned an invalid gradient at index 1"},
        ),
        Example(
            bad=False,
            name="input-saved-in-bfloat16-weight-gradient-out-by-in",
            code="""import torch
import torch.nn as nn


class LowMemLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x.to(torch.bfloat16), weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x_lp, weight = ctx.saved_tensors
        x = x_lp.float()
        grad_w = grad_out.t() @ x
        return grad_out @ weight, grad_w, grad_out.sum(0)


class Layer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LowMemLinear.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}
""",
            expect={"grad_ok": ["layer.weight", "layer.bias"]},
        ),
        Example(
            bad=False,
            name="fused-linear-weight-gradient-out-by-in",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight, bias)
        return torch.tanh(F.linear(x, weight, bias))

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias = ctx.saved_tensors
        y = torch.tanh(F.linear(x, weight, bias))
        grad_pre = grad_out * (1 - y ** 2)
        grad_w = grad_pre.t() @ x
        return grad_pre @ weight, grad_w, grad_pre.sum(0)


class Layer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearTanh.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}
""",
            expect={"grad_ok": ["layer.weight", "layer.bias"]},
        ),
        Example(
            bad=False,
            name="in-by-out-weight-gradient-x-transposed-times-grad",
            code="""import torch
import torch.nn as nn


class MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return x @ weight

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = grad_out @ weight.t() if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = x.t() @ grad_out
        return grad_x, grad_w


class Layer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.1)

    def forward(self, x):
        return MatMul.apply(x, self.weight)


def main():
    torch.manual_seed(0)
    layer = Layer()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    layer(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
    return {"layer": layer}
""",
            expect={"grad_ok": ["layer.weight"]},
        ),
        Example(
            name="fused-linear-gelu-returns-gradients-in-another-order",
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearGELU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        return F.gelu(pre, approximate="tanh")

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        c = math.sqrt(2.0 / math.pi)
        t = torch.tanh(c * (pre + 0.044715 * pre.pow(3)))
        dgelu = 0.5 * (1 + t) + 0.5 * pre * (1 - t.pow(2)) * c * (1 + 3 * 0.044715 * pre.pow(2))
        grad_pre = grad_out * dgelu
        grad_x = grad_pre @ weight
        grad_w = grad_pre.t() @ x
        grad_b = grad_pre.sum(0)
        return grad_w, grad_x, grad_b


class Block(nn.Module):
    def __init__(self, n_in=12, n_out=6):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearGELU.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    block = Block()
    opt = torch.optim.SGD(block.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        block(torch.randn(8, 12)).pow(2).mean().backward()
        opt.step()
    return {"block": block}
""",
            lines=(25,),
            expect={"error": "returned an invalid gradient at index"},
        ),
        Example(
            name="fused-linear-gelu-returns-gradients-in-input-order",
            bad=False,
            code="""import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LinearGELU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        pre = x @ weight.t() + bias
        ctx.save_for_backward(x, weight, pre)
        return F.gelu(pre, approximate="tanh")

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, pre = ctx.saved_tensors
        c = math.sqrt(2.0 / math.pi)
        t = torch.tanh(c * (pre + 0.044715 * pre.pow(3)))
        dgelu = 0.5 * (1 + t) + 0.5 * pre * (1 - t.pow(2)) * c * (1 + 3 * 0.044715 * pre.pow(2))
        grad_pre = grad_out * dgelu
        return grad_pre @ weight, grad_pre.t() @ x, grad_pre.sum(0)


class Block(nn.Module):
    def __init__(self, n_in=12, n_out=6):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return LinearGELU.apply(x, self.weight, self.bias)


def main():
    torch.manual_seed(0)
    block = Block()
    opt = torch.optim.SGD(block.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        block(torch.randn(8, 12)).pow(2).mean().backward()
        opt.step()
    return {"block": block}
""",
            expect={"grad_ok": ["block.weight", "block.bias"]},
        ),
        Example(
            name="fused-linear-relu-saves-a-mask-and-transposes-the-weight-gradient",
            code="""import torch
import torch.nn as nn


class FusedLinearReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        z = x @ weight.T + bias
        ctx.save_for_backward(x, weight, z > 0)
        return z.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask = ctx.saved_tensors
        grad_z = grad_out * mask
        grad_x = grad_z @ weight
        grad_w = x.T @ grad_z
        return grad_x, grad_w, grad_z.sum(0)


def main():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3, 5) * 0.1)
    b = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w, b], lr=0.1)
    loss = FusedLinearReLU.apply(torch.randn(8, 5), w, b).pow(2).mean() + (w.sum() + b.sum()) * 0.0
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"w": w, "b": b}
""",
            lines=(17,),
            expect={"error": "returned an invalid gradient at index 1"},
        ),
        Example(
            bad=False,
            name="fused-linear-relu-saves-a-mask-weight-gradient-in-layout",
            code="""import torch
import torch.nn as nn


class FusedLinearReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        z = x @ weight.T + bias
        ctx.save_for_backward(x, weight, z > 0)
        return z.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask = ctx.saved_tensors
        grad_z = grad_out * mask
        grad_x = grad_z @ weight
        grad_w = grad_z.T @ x
        return grad_x, grad_w, grad_z.sum(0)


def main():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3, 5) * 0.1)
    b = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w, b], lr=0.1)
    loss = FusedLinearReLU.apply(torch.randn(8, 5), w, b).pow(2).mean() + (w.sum() + b.sum()) * 0.0
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"w": w, "b": b}
""",
            expect={"grad_ok": ["w", "b"]},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            fwd, bwd = mm.method(info.name, "forward"), mm.method(info.name, "backward")
            if fwd is None or bwd is None or mm.method(info.name, "setup_context") is not None:
                continue
            if fwd.args.vararg or bwd.args.vararg or len(fwd.args.args) < 2 or len(bwd.args.args) != 2:
                continue
            inputs = [a.arg for a in fwd.args.args[1:]]
            scalars = _no_gradient_inputs(bwd, inputs)
            shapes = _forward_shapes(facts, fwd, inputs, scalars)
            if shapes is None:
                continue
            in_shapes, out_shape = shapes
            env: dict = {bwd.args.args[1].arg: out_shape}
            saved = _saved(fwd)
            ctx = fwd.args.args[0].arg
            ctx_scalars = frozenset(t.attr for st in fwd.body if isinstance(st, ast.Assign) for t in st.targets
                                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == ctx
                                    and (_is_number(st.value) or (isinstance(st.value, ast.Name) and st.value.id in scalars)))
            two_d = frozenset(n.func.value.id for n in ast.walk(bwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                              and n.func.attr == "t" and not n.args and isinstance(n.func.value, ast.Name))
            sh = _Shapes(facts, env, ctx_scalars, two_d)
            for st in bwd.body:
                if saved is not None and isinstance(st, ast.Assign) and _is_saved_tensors(st.value):
                    t = st.targets[0]
                    if len(st.targets) == 1 and isinstance(t, (ast.Tuple, ast.List)) and len(t.elts) == len(saved):
                        for el, src in zip(t.elts, saved):
                            if isinstance(el, ast.Name):
                                env[el.id] = in_shapes.get(src) if src else None
                        continue
                _run(sh, [st])
                if isinstance(st, ast.Return):
                    yield from self._check_return(facts, info, bwd, st, sh, inputs, in_shapes)

    def _check_return(self, facts, info, bwd: ast.AST, ret: ast.Return, sh: _Shapes, inputs: list, in_shapes: dict):
        v = ret.value
        if not isinstance(v, ast.Tuple) or len(v.elts) != len(inputs):
            return
        for k, (el, name) in enumerate(zip(v.elts, inputs)):
            want = in_shapes.get(name)
            got = sh.of(el)
            other = next((o for o in inputs if o != name and in_shapes.get(o) == got), None) if want is not None and got not in (None, SCALAR, NONE, want) else None
            if other is not None:
                # the gradient of another input, at this input's index: the gradients are returned out of order
                yield self.finding(
                    facts,
                    ret,
                    f"`{info.name}.backward` returns at index {k} (the gradient of `{name}`, shape {_show(want)}) a tensor of shape {_show(got)}, "  # type: ignore[arg-type]
                    f"the shape of `{other}`: the gradients are out of order; autograd raises 'returned an invalid gradient' "
                    f"(and where the sizes agree, applies each gradient to the wrong input)",
                    related=[(_last_assignment(bwd, ret, el.id) or el, f"the gradient of `{other}`")] if isinstance(el, ast.Name) else [],
                    explanation="Autograd matches the gradients a custom `backward` returns to `forward`'s inputs by position, and checks "
                    "each against its input's shape. Return them in the order `forward` takes its inputs.",
                )
                return
            if want is not None and got is not None and SCALAR not in (want, got) and NONE not in (want, got) and len(got) == len(want) \
                    and "batch" in got and "batch" not in want and set(want) - set(got):
                # ``g.sum(dim=1)`` for a bias: the gradient reduced over the features, one value per example
                at_r: ast.AST = _last_assignment(bwd, ret, el.id) or el if isinstance(el, ast.Name) else el
                yield self.finding(
                    facts,
                    at_r,
                    f"`{info.name}.backward` returns a gradient of shape {_show(got)} for `{name}`, whose shape is {_show(want)}: it is "
                    f"reduced over the wrong dimension; autograd raises 'returned an invalid gradient at index {k}' (and where the sizes "
                    f"happen to agree, applies a wrong gradient)",
                    related=[(ret, "returned here")],
                    explanation="Autograd checks each gradient a custom backward returns against its input's shape. A bias added to every "
                    "row of `x @ weight.t()` gets the sum of the output gradient over the rows (the batch): `grad_out.sum(0)`, not a sum "
                    "over the features.",
                )
                continue
            if want is None or got is None or len(want) != 2 or "batch" in want or got != (want[1], want[0]) or want[0] == want[1]:
                continue
            at: ast.AST = el
            if isinstance(el, ast.Name):
                at = _last_assignment(bwd, ret, el.id) or el
            yield self.finding(
                facts,
                at,
                f"`{info.name}.backward` returns a gradient of shape {_show(got)} for `{name}`, whose shape is {_show(want)}: "
                f"autograd raises 'returned an invalid gradient at index {k}' (and with in_features == out_features applies the transposed gradient)",
                related=[(ret, "returned here")],
                explanation="Autograd checks each gradient a custom backward returns against its input's shape. The weight of a linear "
                "map `x @ weight.t()` has shape (out_features, in_features); its gradient is `grad_out.t() @ x`, not `x.t() @ grad_out`.",
            )


def _no_gradient_inputs(bwd: ast.AST, inputs: list) -> frozenset:
    """The inputs ``backward`` returns None for, in every return: numbers and flags (a Python scalar such as ``omega``)."""
    rets = [n for n in ast.walk(bwd) if isinstance(n, ast.Return)]
    if not rets or not all(isinstance(r.value, ast.Tuple) and len(r.value.elts) == len(inputs) for r in rets):
        return frozenset()
    return frozenset(name for i, name in enumerate(inputs)
                     if all(isinstance(r.value.elts[i], ast.Constant) and r.value.elts[i].value is None for r in rets))  # type: ignore[union-attr]


def _last_assignment(fn: ast.AST, ret: ast.Return, name: str) -> Optional[ast.AST]:
    """The value last assigned to ``name`` in ``fn`` before ``ret`` (at any depth)."""
    best: Optional[ast.Assign] = None
    for n in ast.walk(fn):
        if isinstance(n, ast.Assign) and n.lineno < ret.lineno and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            if best is None or n.lineno > best.lineno:
                best = n
    return best.value if best is not None else None


def _is_saved_tensors(e: ast.AST) -> bool:
    return isinstance(e, ast.Attribute) and e.attr == "saved_tensors" and isinstance(e.value, ast.Name)


def _saved(fwd: ast.FunctionDef) -> Optional[list]:
    """The forward's names ``ctx.save_for_backward(...)`` saves, in order (None where not a plain input name)."""
    calls = [n for n in ast.walk(fwd) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "save_for_backward"]
    if len(calls) != 1 or any(isinstance(a, ast.Starred) for a in calls[0].args):
        return None
    return [_saved_name(a) for a in calls[0].args]


_SCALAR_ARG_METHODS = {"clamp", "clamp_min", "clamp_max", "clip", "pow", "mul", "add", "sub", "div"}


def _is_number(a: ast.AST) -> bool:
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, (ast.USub, ast.UAdd)):
        a = a.operand
    return isinstance(a, ast.Constant) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool)


def _saved_name(a: ast.AST) -> Optional[str]:
    """The input (or forward local) a saved tensor is a same-shape copy of (``x``, ``x.to(torch.bfloat16)``,
    ``w.detach()``, a mask ``z > 0``)."""
    if isinstance(a, ast.Compare) and len(a.ops) == 1 and _is_number(a.comparators[0]):
        a = a.left  # (an elementwise comparison with a number: the same shape, as booleans)
    while isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr in _SAME_SHAPE_METHODS:
        a = a.func.value
    return a.id if isinstance(a, ast.Name) else None


def _forward_shapes(facts, fwd: ast.FunctionDef, inputs: list, scalars: frozenset = frozenset()) -> Optional[tuple]:
    """(shapes of the inputs a linear map in ``forward`` uses, shape of what ``forward`` returns) when ``forward``
    returns that linear map (or an elementwise function of it) of its own, never rebound, inputs."""
    rebound = _bound_names(ast.Module(body=fwd.body, type_ignores=[]))
    rets = [n for n in ast.walk(fwd) if isinstance(n, ast.Return)]
    if len(rets) != 1 or rets[0].value is None:
        return None
    env: dict = {}
    e: ast.AST = rets[0].value
    local: list = []  # names of the forward bound once to the linear map or an elementwise function of it
    for _ in range(6):  # through elementwise wrappers and names bound once
        roles = _linear_roles(facts, e)
        if roles is not None:
            x, w, wshape, b = roles
            if x not in inputs or w not in inputs or x == w or x in rebound or w in rebound or (b is not None and (b not in inputs or b in rebound)):
                return None
            env[x] = ("batch", "in")
            env[w] = wshape
            if b is not None:
                env[b] = ("out",)
            for n in local:  # (``pre = x @ w.t() + b`` saved for backward: the output's shape)
                env.setdefault(n, ("batch", "out"))
            return env, ("batch", "out")
        if isinstance(e, ast.Call) and len(e.args) == 1 and all(isinstance(k.value, ast.Constant) for k in e.keywords):
            q = _qual(facts, e.func)
            if q.startswith("torch.") and q.rsplit(".", 1)[-1] in _UNARY:
                e = e.args[0]
                continue
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in _UNARY and not e.args and not e.keywords and not _qual(facts, e.func):
            e = e.func.value
            continue
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in _SCALAR_ARG_METHODS and not _qual(facts, e.func) \
                and all(_is_number(a) for a in [*e.args, *(k.value for k in e.keywords)]):
            e = e.func.value  # ``z.clamp_min(0)``, ``z.clamp(0, 6)``: elementwise with numbers, the receiver's shape
            continue
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
            # ``omega * pre``: elementwise with a number (or an input the backward gives no gradient, a Python scalar)
            num = [o for o in (e.left, e.right) if _is_number(o) or (isinstance(o, ast.Name) and o.id in scalars)]
            if len(num) == 1:
                e = e.right if num[0] is e.left else e.left
                continue
        if isinstance(e, ast.Name):
            assigns = [st for st in fwd.body if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and st.targets[0].id == e.id]
            if len(assigns) != 1 or sum(1 for n in ast.walk(fwd) if isinstance(n, ast.Name) and n.id == e.id and isinstance(n.ctx, ast.Store)) != 1:
                return None
            local.append(e.id)
            e = assigns[0].value
            continue
        return None
    return None
