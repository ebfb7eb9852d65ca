"""GG804 step-before-backward: ``optimizer.step()`` runs before the ``backward()`` that computes its gradients."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Severity
from gradguard.core.training import blocks, clears, has_backward, step_binding, stmt_call
from gradguard.rules.base import Example, Rule

_LOOPS = (ast.For, ast.AsyncFor, ast.While)


class StepBeforeBackward(Rule):
    code = "GG804"
    name = "step-before-backward"
    summary = "`optimizer.step()` runs before `backward()`: the step has no gradient to apply and the computed gradients are never used."
    severity = Severity.WARNING
    needs = ("backward",)
    fix_applicability = None
    docs = """
## What it does
Flags `optimizer.step()` followed, in the same block, by `loss.backward()` when nothing computed
gradients before the step and nothing steps after the backward:
- in a function body (outside loops): the step sees no gradient at all;
- in a loop body that also clears the gradients before the step (`zero_grad(); step(); backward()`):
  every step applies cleared gradients.

## Why is this bad?
`step()` applies the gradients currently stored in `.grad`. Called before `backward()`, it applies
nothing (or stale gradients), and the gradients `backward()` then computes are discarded by the next
`zero_grad()`: the model never learns, without any error.

## Example
```python
optimizer.zero_grad()
optimizer.step()
loss = criterion(model(x), y)
loss.backward()
```

## Use instead
```python
optimizer.zero_grad()
loss = criterion(model(x), y)
loss.backward()
optimizer.step()
```

## Fix safety
No automatic fix: the step has to move after `backward()`, and statements in between may depend on
the order.
"""
    examples = (
        Example(
            name="zero-step-backward-loop",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w0 = net.weight.detach().clone()
    for _ in range(3):
        opt.zero_grad()
        opt.step()
        loss = net(torch.randn(5, 3)).pow(2).mean()
        loss.backward()
    return {"net": net}, {"changed": not torch.equal(w0, net.weight.detach())}
""",
            lines=(12,),
            expect={"grad_ok": ["net.weight"], "facts": {"changed": False}},
        ),
        Example(
            name="single-step-function",
            code="""import torch
from torch import nn


def train_once(model, opt, x, y):
    opt.step()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    return loss


def main():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    w0 = model.weight.detach().clone()
    train_once(model, opt, torch.randn(4, 2), torch.randn(4, 1))
    return {"model": model}, {"changed": not torch.equal(w0, model.weight.detach())}
""",
            lines=(6,),
            expect={"grad_ok": ["model.weight"], "facts": {"changed": False}},
        ),
        Example(
            bad=False,
            name="step-then-next-batch",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = net(torch.randn(5, 3)).pow(2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()
    loss = net(torch.randn(5, 3)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
    )

    def check(self, facts):
        binding = step_binding(facts)
        for owner, body in blocks(facts):
            in_function = isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef))
            in_loop = isinstance(owner, _LOOPS) and body is owner.body
            if not (in_function or in_loop):
                continue
            for k, st in enumerate(body):
                scall = stmt_call(st, "step")
                if scall is None:
                    continue
                opt = binding.optimizer(scall)
                if opt is None:
                    continue
                if any(has_backward(body[x]) for x in range(k)):
                    break
                later_back = next((x for x in range(k + 1, len(body)) if stmt_call(body[x], "backward") is not None), None)
                if later_back is None:
                    continue
                if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step" for x in range(later_back + 1, len(body)) for n in walk_nodes(body[x])):
                    continue
                if in_loop:
                    cleared = any((z := stmt_call(body[x], "zero_grad")) is not None and clears(facts, binding, z, scall, opt) for x in range(k))
                    if not cleared:
                        continue
                    why = "the loop clears the gradients before it, so every step applies nothing"
                else:
                    why = "no gradient has been computed yet, and the gradients computed below are never applied"
                yield self.finding(
                    facts,
                    scall,
                    f"`{opt}.step()` runs before `backward()`: {why}",
                    related=[(body[later_back], "gradients are computed only here, after the step")],
                    explanation="`optimizer.step()` applies the gradients stored in `.grad` at the time of the call; a later `backward()` does not affect it.",
                )
                break
