"""GG911 function-missing-backward: a ``torch.autograd.Function`` with ``forward`` but no ``backward``."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import apply_calls, function_classes
from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule


def subclassed(facts, cls_name: str) -> bool:
    return any(cls_name in i.local_bases or cls_name in i.base_names for i in facts.modules.classes.values() if i.name != cls_name)


def _assigns_backward(facts, info) -> bool:
    """``backward = staticmethod(_bwd)`` or similar class-level bindings (through in-file bases)."""
    seen, todo = set(), [info]
    while todo:
        cur = todo.pop()
        if cur.name in seen:
            continue
        seen.add(cur.name)
        for st in cur.node.body:
            targets = st.targets if isinstance(st, ast.Assign) else ([st.target] if isinstance(st, ast.AnnAssign) else [])
            if any(isinstance(t, ast.Name) and t.id in ("backward", "vjp", "jvp") for t in targets):
                return True
        todo.extend(facts.modules.classes[b] for b in cur.base_names if b in facts.modules.classes)
    return False


def _may_get_gradient(facts, call: ast.Call) -> bool:
    """Is this ``Cls.apply(...)`` given a tensor that requires grad, with autograd on: one computed from the program's
    parameters or modules (in the walk of the function that holds it, or as a caller of that function in the file runs
    it)? Not when every input is data, integer coordinates or buffers, nor when the inputs are only what an unseen caller
    passes (a wrapper ``def march_rays(rays_o, rays_d): return _March.apply(rays_o, rays_d)`` of a forward-only kernel
    that other files call): the error would need a gradient the file does not show."""
    scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    flows = [facts.flow.flow(scope), *(c for c in facts.flow.context_flows if c.node is scope)]
    evs = [e for fl in flows for e in fl.events if e.what == "apply" and e.node is call]
    return any(e.mode.enabled and e.target is not None and any(r != "?" and not r.startswith("arg:") for r in e.target.live) for e in evs)



def _inference_script(facts) -> bool:
    """A script that never backpropagates: it runs at module level (a ``__main__`` guard or top-level calls), and
    nothing in it calls backward() or ``autograd.grad``, returns a loss a framework backpropagates, or builds an
    optimizer. Its Functions' forwards run; no backward ever asks them for a gradient."""
    if facts.optimizer_constructions or any(fl.backward_sites or fl.implicit_sites for fl in facts.backward_flows):
        return False
    if any(info.framework for info in facts.modules.classes.values()):
        return False
    defined = {st.name for st in facts.tree.body if isinstance(st, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
    for st in facts.tree.body:
        # (module-level code that runs the file's own classes or functions: not a library module's ``torch.manual_seed``)
        runs = st.body if isinstance(st, ast.If) and "__name__" in facts.text(st.test) else [st] if isinstance(st, (ast.Expr, ast.Assign)) else []
        if any(isinstance(n, ast.Name) and n.id in defined for r in runs for n in walk_nodes(r)):
            return True
    return False


class FunctionMissingBackward(Rule):
    code = "GG911"
    name = "function-missing-backward"
    summary = "A `torch.autograd.Function` subclass defines `forward` but no `backward` (or `vjp`): backpropagating through it raises."
    severity = Severity.ERROR
    needs = ("Function",)
    fix_applicability = None
    docs = """
## What it does
Flags `torch.autograd.Function` subclasses (whose base classes are all visible in the file) that define
`forward` but neither `backward` nor `vjp`, and shows where the Function is applied. Only a Function the file applies
(`Cls.apply(...)`) to something that may require grad, with autograd on, is reported: a forward-only kernel applied to
data, integer coordinates or buffers gets no `grad_fn`, so its missing `backward` is never called (nor is one the file
only aliases, `march = _March.apply`, for other files to call). Abstract bases that
other Functions in the file subclass, and forward-mode-only Functions (defining `jvp`), are left alone.

## Why is this bad?
Autograd cannot differentiate through a custom Function by itself: it calls your `backward`. Without one,
the first `backward()` through an output of `Cls.apply(...)` raises
`NotImplementedError: You must implement either the backward or vjp method for your custom
autograd.Function to use it with backward mode AD`.

## Example
```python
class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(-1, 1)
```

## Use instead
```python
class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(-1, 1)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1)
```

## Fix safety
No automatic fix: the gradient is the author's decision. A stub that returns `grad_output` unchanged would
silence the error with a wrong gradient. If the operation is differentiable by itself, drop the Function and
call the tensor operations directly.
"""
    examples = (
        Example(
            name="forward-only-function",
            code="""import torch


class Quantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4) / 4


def main():
    torch.manual_seed(0)
    w = torch.randn(6, requires_grad=True)
    y = Quantize.apply(w * 2.0)
    y.pow(2).sum().backward()
    return {"w": w}
""",
            lines=(4,),
            expect={"error": "You must implement either the backward or vjp method"},
        ),
        Example(
            bad=False,
            name="straight-through-function",
            code="""import torch


class Quantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x * 4) / 4

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def main():
    torch.manual_seed(0)
    w = torch.randn(6, requires_grad=True)
    y = Quantize.apply(w * 2.0)
    y.pow(2).sum().backward()
    return {"w": w}
""",
            expect={"grad_ok": ["w"]},
        ),
        Example(
            bad=False,
            name="forward-only-kernel-applied-to-ray-data",
            code="""import torch
import torch.nn as nn


class NearFar(torch.autograd.Function):
    @staticmethod
    def forward(ctx, rays_o, rays_d, bound):
        t = (bound - rays_o) / rays_d.clamp(min=1e-3)
        return t.amin(-1).clamp(min=0.05), t.amax(-1)


near_far = NearFar.apply


class Field(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, pts):
        return self.mlp(pts).squeeze(-1).sigmoid().mean(-1)


def main():
    torch.manual_seed(0)
    field = Field()
    opt = torch.optim.Adam(field.parameters(), lr=1e-3)
    for _ in range(2):
        rays_o, rays_d = torch.rand(16, 3) - 0.5, torch.rand(16, 3) + 0.1
        near, far = NearFar.apply(rays_o, rays_d, 1.5)
        ts = near[:, None] + (far - near)[:, None] * torch.linspace(0, 1, 8)
        loss = (field(rays_o[:, None] + rays_d[:, None] * ts[..., None]) - 0.5).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"field": field}
""",
            expect={'grad_ok': ['field.mlp.0.weight']},
        ),
        Example(
            bad=False,
            name="forward-only-function-in-an-inference-script",
            code="""import torch
import torch.nn as nn


class SignLookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, e0, e1):
        bits = x > 0
        return torch.where(bits, e1.expand_as(x), e0.expand_as(x))


class SignLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.e0 = nn.Parameter(torch.full((1, c), -1.0))
        self.e1 = nn.Parameter(torch.full((1, c), 1.0))

    def forward(self, x):
        return SignLookup.apply(x, self.e0, self.e1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 8)
        self.sign = SignLayer(8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.sign(h))


torch.manual_seed(0)
model = Net()
model.load_state_dict(Net().state_dict())
pred = model(torch.randn(5, 4)).argmax(-1)


def main():
    return {}, {"predictions": len(pred.tolist())}
""",
            expect={'facts': {'predictions': 5}},
        ),
    )

    def check(self, facts):
        mm = facts.modules
        for info in function_classes(facts):
            if mm.method(info.name, "forward") is None:
                continue
            if any(mm.method(info.name, m) is not None for m in ("backward", "vjp", "jvp")):
                continue
            if subclassed(facts, info.name) or _assigns_backward(facts, info):
                continue
            # only where it may be given a tensor that requires grad: ``apply`` on data, integer coordinates or buffers (a
            # forward-only kernel) attaches no ``grad_fn``, so its missing ``backward`` is never called
            calls = [c for c in apply_calls(facts, info.name) if _may_get_gradient(facts, c)]
            if not calls or _inference_script(facts):
                continue
            related = [(c, f"`{info.name}.apply` here: backward() through its output raises") for c in calls[:3]]
            yield self.finding(
                facts,
                info.node,
                f"`{info.name}` is a `torch.autograd.Function` without `backward`: backward() through its output raises NotImplementedError",
                severity=Severity.ERROR,
                related=related,
                end_node=info.node,
                explanation="Autograd calls the Function's own `backward` (or `vjp`) to get the gradient of its inputs; without one, "
                "the backward pass raises `NotImplementedError: You must implement either the backward or vjp method for your custom "
                "autograd.Function to use it with backward mode AD`.",
            )
