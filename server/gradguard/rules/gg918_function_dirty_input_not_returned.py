"""GG918 function-dirty-input-not-returned: a custom Function marks an input dirty but does not return that tensor."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.classes import apply_calls, function_classes
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class FunctionDirtyInputNotReturned(Rule):
    code = "GG918"
    name = "function-dirty-input-not-returned"
    summary = "A custom autograd Function marks an input dirty (`ctx.mark_dirty(x)`) but returns something other than `x` itself: the forward raises."
    severity = Severity.ERROR
    needs = ("mark_dirty",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags a `return` in the `forward` of a `torch.autograd.Function` that marks a tensor dirty with `ctx.mark_dirty(x)`
(it modified `x` in place) but does not return the tensor `x` itself: it returns a view of it (`x.view_as(x)`,
`x[:]`), a copy (`x.clone()`), another tensor, or a name bound anew after the `mark_dirty` call.

## Why is this bad?
Autograd rewrites the history of a tensor marked dirty so that it becomes the Function's output. That only works
when the very tensor object is among the outputs: otherwise the first call raises `RuntimeError: Some elements
marked as dirty during the forward method were not returned as output`, and nothing trains. Returning a view of the
input is a habit from gradient-reversal Functions, which do not modify their input.

## Example
```python
@staticmethod
def forward(ctx, x, slope):
    F.leaky_relu_(x, slope)
    ctx.mark_dirty(x)
    return x.view_as(x)
```

## Use instead
```python
    return x
```

## Fix safety
The fix returns the dirty tensor itself when the `return` gives a view or copy of it (`x.view_as(x)`, `x.view(...)`,
`x[:]`, `x.clone()`): same values and shape for the caller, and autograd accepts it.
"""
    examples = (
        Example(
            name="in-place-activation-function-returns-a-view-of-the-dirty-input",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class InplaceLeaky(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        F.leaky_relu_(x, slope)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        ctx.slope = slope
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * torch.where(y > 0, torch.ones_like(y), torch.full_like(y, ctx.slope)), None


def main():
    torch.manual_seed(0)
    conv, head = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(4, 2)
    opt = torch.optim.SGD([*conv.parameters(), *head.parameters()], lr=0.1)
    h = InplaceLeaky.apply(conv(torch.randn(2, 3, 8, 8)), 0.1)
    loss = F.cross_entropy(head(h.mean((2, 3))), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"conv": conv, "head": head}
""",
            lines=(13,),
            expect={"error": "marked as dirty"},
            fixed_expect={"grad_ok": ["conv.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="in-place-activation-function-returns-the-dirty-input",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class InplaceLeaky(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, slope):
        F.leaky_relu_(x, slope)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        ctx.slope = slope
        return x

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * torch.where(y > 0, torch.ones_like(y), torch.full_like(y, ctx.slope)), None


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_out):
        return -grad_out


def main():
    torch.manual_seed(0)
    conv, head = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(4, 2)
    opt = torch.optim.SGD([*conv.parameters(), *head.parameters()], lr=0.1)
    h = InplaceLeaky.apply(conv(torch.randn(2, 3, 8, 8)), 0.1)
    loss = F.cross_entropy(head(GradReverse.apply(h).mean((2, 3))), torch.tensor([0, 1]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"conv": conv, "head": head}
""",
            expect={"grad_ok": ["conv.weight", "head.weight"]},
        ),
    )

    def check(self, facts):
        for info in function_classes(facts):
            fwd = facts.modules.method(info.name, "forward")
            if fwd is None or fwd.args.vararg is not None:
                continue
            own = [n for n in walk_nodes(fwd) if facts.enclosing(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) is fwd]
            marks = [n for n in own if isinstance(n, ast.Call) and _mark_dirty(n)]
            if len(marks) != 1:
                continue
            mark = marks[0]
            dirty = [a.id for a in mark.args if isinstance(a, ast.Name)]
            if len(dirty) != len(mark.args) or not dirty:
                continue
            after = (mark.lineno, mark.col_offset)
            rebound = {n.id for n in own if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and (n.lineno, n.col_offset) > after}
            for ret in (n for n in own if isinstance(n, ast.Return)):
                if (ret.lineno, ret.col_offset) < after:
                    continue
                missing = [d for d in dirty if d in rebound or not _returns_name(ret.value, d)]
                if not missing:
                    continue
                name = missing[0]
                fixes = []
                base = _view_or_copy_of(ret.value)
                if base == name and name not in rebound and len(dirty) == 1:
                    fixes.append(lambda value=ret.value, name=name: fix(f"Return `{name}` itself", replace_node(facts, value, name)))
                calls = apply_calls(facts, info.name)
                yield self.finding(
                    facts,
                    ret,
                    f"`{info.name}.forward` marks `{name}` dirty (line {mark.lineno}) but does not return that tensor itself: "
                    "the call raises `Some elements marked as dirty during the forward method were not returned as output`",
                    related=[(mark, f"`{name}` is marked dirty here"), *((c, "the Function is applied here") for c in calls[:1])],
                    fixes=fixes,
                    explanation="A tensor marked dirty was modified in place; autograd makes that very tensor the Function's output, "
                    "so it must be returned as is (not a view or a copy of it).",
                )


def _mark_dirty(node: ast.Call) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "mark_dirty" and bool(node.args)


def _returns_name(value: Optional[ast.AST], name: str) -> bool:
    """Is the tensor ``name`` itself one of the returned outputs (``return x``, ``return x, aux``)?"""
    if value is None:
        return False
    if isinstance(value, ast.Name):
        return value.id == name
    if isinstance(value, (ast.Tuple, ast.List)):
        return any(isinstance(e, ast.Name) and e.id == name for e in value.elts)
    if _view_or_copy_of(value) is not None:
        return False  # a view or a copy is a new tensor object
    return True  # (a call or expression we cannot read: say nothing)


def _view_or_copy_of(value: Optional[ast.AST]) -> Optional[str]:
    """``x.view_as(x)``, ``x.view(...)``, ``x.reshape(...)``, ``x.clone()``, ``x[:]`` -> ``x``."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("view_as", "view", "clone", "reshape", "contiguous") and isinstance(value.func.value, ast.Name):
        return value.func.value.id
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and isinstance(value.slice, ast.Slice) and value.slice.lower is None and value.slice.upper is None and value.slice.step is None:
        return value.value.id
    return None
