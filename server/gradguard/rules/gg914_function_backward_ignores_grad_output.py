"""GG914 function-backward-ignores-grad-output: a custom Function's ``backward`` returns gradients that do not
depend on the gradient it receives, so the chain rule stops at this op."""
from __future__ import annotations

import ast

from gradguard.core.classes import apply_calls, function_classes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule


def _grad_params(fn) -> list:
    """Names of the incoming gradients: every parameter of ``backward`` after ``ctx`` (and ``*grads``)."""
    a = fn.args
    params = [p.arg for p in [*a.posonlyargs, *a.args]]
    decorated = {d.id for d in fn.decorator_list if isinstance(d, ast.Name)}
    drop = 2 if "classmethod" in decorated or "staticmethod" not in decorated else 1
    names = params[drop:]
    if a.vararg is not None:
        names.append(a.vararg.arg)
    return names


def _own_nodes(fn):
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _locals(fn) -> set:
    a = fn.args
    out = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None))}
    globals_ = {n for st in _own_nodes(fn) if isinstance(st, ast.Global) for n in st.names}
    out |= {n.id for n in _own_nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return out - globals_


def _shared_roots(fn, store: bool) -> set:
    """Names not bound in ``fn`` (a module's object, a class) whose attributes or items ``fn`` reads (or writes)."""
    own = _locals(fn)
    out = set()
    for n in _own_nodes(fn):
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, ast.Store if store else ast.Load):
            root = n.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and root.id not in own:
                out.add(root.id)
    return out


def _takes_gradient_from_a_partner(facts, info, bwd) -> bool:
    """Does ``bwd`` read state shared with another Function of this file whose backward writes it (a request/wait
    pair of Functions, one backward starting an exchange of its ``grad_output`` into a shared object, the other
    returning what arrives)? The gradient it returns may be the loss's, computed by the partner."""
    reads = _shared_roots(bwd, store=False)
    if not reads:
        return False
    for other in function_classes(facts):
        if other.name == info.name:
            continue
        ob = facts.modules.method(other.name, "backward")
        if ob is not None and reads & _shared_roots(ob, store=True):
            return True
    return False


_SHAPE_ATTRS = {"shape", "dtype", "device", "ndim", "layout", "is_cuda"}
_SHAPE_METHODS = {"size", "dim", "numel", "new_ones", "new_zeros", "new_empty", "new_full", "new_tensor", "type", "get_device"}
_LIKE = {"ones_like", "zeros_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like"}


def _reads_values(fn, names: set) -> bool:
    """Does ``fn`` use the values of any of ``names`` (not only their shape, dtype or device)?"""
    shape_only = set()
    for node in _own_nodes(fn):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
            if node.attr in _SHAPE_ATTRS or node.attr in _SHAPE_METHODS:
                shape_only.add(id(node.value))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in names:
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
            if fname in _LIKE:
                shape_only.add(id(node.args[0]))
    for node in _own_nodes(fn):
        if isinstance(node, ast.Name) and (node.id in names or node.id in ("locals", "vars")) and id(node) not in shape_only:
            return True
    return False


def _is_none(expr) -> bool:
    if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
        return True
    if isinstance(expr, (ast.Tuple, ast.List)):
        return all(_is_none(e) for e in expr.elts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        # ``(None,) * n`` / ``n * [None]``: as many Nones as inputs
        return (_is_none(expr.left) and isinstance(expr.left, (ast.Tuple, ast.List))) or (_is_none(expr.right) and isinstance(expr.right, (ast.Tuple, ast.List)))
    return False


class FunctionBackwardIgnoresGradOutput(Rule):
    code = "GG914"
    name = "function-backward-ignores-grad-output"
    summary = "A custom Function's `backward` never reads the gradient it receives: the chain rule stops at this op."
    severity = Severity.WARNING
    needs = ("Function",)
    docs = """
## What it does
Flags the `backward` of a `torch.autograd.Function` subclass that returns gradients (not only `None`) but
never reads its incoming gradient (`grad_output`, the parameters after `ctx`) beyond its shape, dtype or
device (`torch.ones_like(grad_output)` reads only its shape). Functions applied in the file
are reported; parameters named with a leading underscore (`_grad`) are taken as deliberately unused.

## Why is this bad?
`backward` receives dLoss/dOutput and must return dLoss/dInput, which by the chain rule is `grad_output`
times the local derivative. A gradient computed without `grad_output` is the same whatever the loss does
after this op: scaling the loss, a second loss term, a minus sign (maximizing instead of minimizing) or a
masked-out output all leave it unchanged. Everything before the op trains on a gradient that is not the
loss's; a straight-through estimator that returns `torch.ones_like(x)` instead of `grad_output` is the
usual case.

## Example
```python
class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.ones_like(grad_output)
```

## Use instead
```python
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output  # straight-through: pass the incoming gradient on
```

## Fix safety
No automatic fix: the right local derivative is for you to write.
"""
    examples = (
        Example(
            name="straight-through-sign-returns-ones",
            code="""import torch
import torch.nn as nn


class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.ones_like(grad_output)


def grad_of(encoder, x, scale):
    encoder.zero_grad()
    codes = SignSTE.apply(encoder(x))
    (scale * codes.sum()).backward()
    return encoder.weight.grad.clone()


def main():
    torch.manual_seed(0)
    encoder = nn.Linear(4, 3)
    x = torch.randn(5, 4)
    g1, g2 = grad_of(encoder, x, 1.0), grad_of(encoder, x, -2.0)
    return {"encoder": encoder}, {"gradient_follows_loss": bool(torch.allclose(g2, -2.0 * g1))}
""",
            lines=(12,),
            expect={"facts": {"gradient_follows_loss": False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="straight-through-and-gradient-reversal",
            code="""import torch
import torch.nn as nn


class SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.clone()


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.lam * grad_output, None


class NoGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, _grad):
        return None


def grad_of(encoder, x, scale):
    encoder.zero_grad()
    codes = SignSTE.apply(GradReverse.apply(encoder(x), 0.5)) + NoGrad.apply(x).sum()
    (scale * codes.sum()).backward()
    return encoder.weight.grad.clone()


def main():
    torch.manual_seed(0)
    encoder = nn.Linear(4, 3)
    x = torch.randn(5, 4)
    g1, g2 = grad_of(encoder, x, 1.0), grad_of(encoder, x, -2.0)
    return {"encoder": encoder}, {"gradient_follows_loss": bool(torch.allclose(g2, -2.0 * g1))}
""",
            expect={"grad_ok": ["encoder.weight"], "facts": {"gradient_follows_loss": True}},
        ),
        Example(
            bad=False,
            name="mask-function-declared-non-differentiable-by-none-times-inputs",
            code="""import torch
import torch.nn as nn
from torch.autograd import Function


class HardMask(Function):
    @staticmethod
    def forward(ctx, feat, mask):
        return feat * (mask > 0).to(feat.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return (None,) * 2


def main():
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1)
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    for _ in range(3):
        x = HardMask.apply(torch.randn(1, 1, 6, 6), torch.rand(1, 6, 6))
        loss = conv(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"conv": conv}
""",
            expect={'grad_ok': ['conv.bias', 'conv.weight']},
        ),
        Example(
            bad=False,
            name="request-wait-pair-passes-the-gradient-through-shared-state",
            code="""import torch
import torch.nn as nn
from torch.autograd import Function


class Pending:
    tensor = None


pending = Pending()


class ExchangeStart(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, *grad_output):
        grad_in = pending.tensor
        pending.tensor = None
        return grad_in


class ExchangeWait(Function):
    @staticmethod
    def forward(ctx, y):
        return y.clone()

    @staticmethod
    def backward(ctx, grad_output):
        pending.tensor = grad_output.clone()
        return grad_output


def main():
    torch.manual_seed(0)
    lin = nn.Linear(3, 3)
    x = torch.randn(4, 3)
    ExchangeWait.apply(ExchangeStart.apply(lin(x))).mul(3.0).pow(2).sum().backward()
    got = lin.weight.grad.clone()
    lin.weight.grad = None
    lin(x).mul(3.0).pow(2).sum().backward()
    return {"lin": lin}, {"weight_grad_is_the_loss_gradient": bool(torch.allclose(got, lin.weight.grad))}
""",
            expect={'grad_ok': ['lin.weight'], 'facts': {'weight_grad_is_the_loss_gradient': True}},
        ),
        Example(
            name="shared-state-written-only-by-forward",
            code="""import torch
import torch.nn as nn
from torch.autograd import Function


class Pending:
    tensor = None


pending = Pending()


class ExchangeStart(Function):
    @staticmethod
    def forward(ctx, x):
        pending.tensor = torch.ones_like(x)
        return x * 1.0

    @staticmethod
    def backward(ctx, *grad_output):
        grad_in = pending.tensor
        pending.tensor = None
        return grad_in


class ExchangeWait(Function):
    @staticmethod
    def forward(ctx, y):
        return y.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def main():
    torch.manual_seed(0)
    lin = nn.Linear(3, 3)
    x = torch.randn(4, 3)
    ExchangeWait.apply(ExchangeStart.apply(lin(x))).mul(3.0).pow(2).sum().backward()
    got = lin.weight.grad.clone()
    lin.weight.grad = None
    lin(x).mul(3.0).pow(2).sum().backward()
    return {"lin": lin}, {"weight_grad_is_the_loss_gradient": bool(torch.allclose(got, lin.weight.grad))}
""",
            lines=(23,),
            expect={'facts': {'weight_grad_is_the_loss_gradient': False}},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            bwd = mm.method(info.name, "backward")
            if bwd is None or bwd not in info.node.body:
                continue  # inherited: reported on the class that defines it
            if facts.flow.marked_outputs(info.name) is not None:
                continue  # (every output marked non-differentiable: its backward never runs)
            names = _grad_params(bwd)
            if not names or all(n.startswith("_") for n in names):
                continue
            if _reads_values(bwd, set(names)):
                continue
            returns = [n for n in _own_nodes(bwd) if isinstance(n, ast.Return)]
            if not returns or all(_is_none(r.value) for r in returns):
                continue  # no gradient at all (or only raises): another matter
            if _takes_gradient_from_a_partner(facts, info, bwd):
                continue
            calls = apply_calls(facts, info.name)
            if not calls:
                continue
            shown = ", ".join(f"`{n}`" for n in names)
            # the squiggle goes where the fix goes: the one return that hands back gradients (several: the def)
            grads = [r for r in returns if not _is_none(r.value)]
            at = grads[0] if len(grads) == 1 else bwd
            yield self.finding(
                facts,
                at,
                f"`{info.name}.backward` never reads the incoming gradient ({shown}): the gradient it returns ignores the loss, so the layers before `{info.name}` train on a gradient that is not the loss's",
                severity=Severity.WARNING,
                related=[(c, f"`{info.name}.apply` here") for c in calls[:2]],
                end_node=at,
                explanation="By the chain rule the gradient of an input is the incoming gradient times the local derivative; "
                "without it, scaling, negating or masking the loss after this op leaves the returned gradient unchanged.",
            )
