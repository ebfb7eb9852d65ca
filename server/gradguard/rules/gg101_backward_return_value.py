"""GG101 backward-return-value: using what ``Tensor.backward()`` returns (always None)."""
from __future__ import annotations

import ast

from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class BackwardReturnValue(Rule):
    code = "GG101"
    name = "backward-return-value"
    summary = "The return value of `Tensor.backward()` is used, but it is always `None`."
    severity = Severity.ERROR
    needs = ("backward",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `Tensor.backward()` calls whose result is assigned, returned or passed on, when the receiver is a
tensor that carries gradient (a loss built from modules or parameters). A hand-written layer's own
`backward(grad_out)` method (a class in the file that defines `backward`) is not `Tensor.backward` and
is left alone.

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
    )

    def check(self, facts):
        for fl in facts.backward_flows:
            for site in fl.backward_sites:
                call = site.node
                if not (isinstance(call.func, ast.Attribute) and call.func.attr == "backward"):
                    continue
                parent = facts.parent(call)
                if isinstance(parent, ast.Expr) or parent is None:
                    continue
                if not (site.loss.live or site.loss.cut) or site.loss.kind not in ("tensor", None):
                    continue
                if isinstance(parent, ast.Await):
                    continue
                related = []
                fixes = []
                receiver = call.func.value
                if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
                    name = parent.targets[0].id
                    use = _next_use(fl.node, parent, name)
                    if use is not None:
                        related.append((use, f"`{name}` is None here"))
                    what = f"`{name}` is now None"
                    if isinstance(receiver, ast.Name) and receiver.id == name:
                        fixes.append(lambda p=parent, c=call: fix("Call backward() as a statement and keep the loss", replace_node(facts, p, facts.text(c))))
                else:
                    what = "its result is None"
                yield self.finding(
                    facts,
                    call,
                    f"`backward()` returns None: {what}",
                    related=related,
                    fixes=fixes,
                    explanation="`Tensor.backward()` computes gradients into `.grad` of the leaves and returns `None`; any later use of the result fails (e.g. `AttributeError: 'NoneType' object has no attribute 'item'`).",
                )


def _next_use(scope: ast.AST, assign: ast.Assign, name: str):
    best = None
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            if (node.lineno, node.col_offset) > (assign.lineno, assign.col_offset):
                if best is None or (node.lineno, node.col_offset) < (best.lineno, best.col_offset):
                    best = node
    return best
