"""GG911 function-missing-backward: a ``torch.autograd.Function`` with ``forward`` but no ``backward``."""
from __future__ import annotations

import ast

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
`forward` but neither `backward` nor `vjp`, and shows where the Function is applied. Abstract bases that
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
            calls = apply_calls(facts, info.name)
            related = [(c, f"`{info.name}.apply` here: backward() through its output raises") for c in calls[:3]]
            yield self.finding(
                facts,
                info.node,
                f"`{info.name}` is a `torch.autograd.Function` without `backward`: backward() through its output raises NotImplementedError",
                severity=Severity.ERROR if calls else Severity.WARNING,
                related=related,
                end_node=info.node,
                explanation="Autograd calls the Function's own `backward` (or `vjp`) to get the gradient of its inputs; without one, "
                "the backward pass raises `NotImplementedError: You must implement either the backward or vjp method for your custom "
                "autograd.Function to use it with backward mode AD`.",
            )
