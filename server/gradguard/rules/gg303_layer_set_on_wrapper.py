"""GG303 layer-set-on-wrapper: ``ddp.head = nn.Linear(...)`` on a DataParallel wrapper instead of ``ddp.module``."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.core.torchapi import WRAPPED_MODULE_ATTRS
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class LayerSetOnWrapper(Rule):
    code = "GG303"
    name = "layer-set-on-wrapper"
    summary = "A layer is assigned on an `nn.DataParallel` / `DistributedDataParallel` wrapper under a name the wrapped model uses: the wrapper's forward runs only `.module`, which keeps its old layer."
    severity = Severity.WARNING
    needs = ("DataParallel",)
    fix_applicability = Applicability.UNSAFE
    docs = """
## What it does
Flags `model.head = nn.Linear(...)` when `model` is an `nn.DataParallel` or `DistributedDataParallel` wrapper and
the wrapped model has a `head` of its own (a new task head swapped in after wrapping).

## Why is this bad?
The wrappers are modules of their own: the assignment registers the new layer on the wrapper (its parameters are
in `model.parameters()`, so an optimizer holds them), but the wrapper's `forward` only calls `model.module(...)`,
whose `forward` still uses `model.module.head`. The new layer is never run: its `.grad` stays None and it never
changes, while the old head is the one trained (with its old output size).

## Example
```python
model = nn.DataParallel(load_pretrained())
model.classifier = nn.Linear(32, 3)
```

## Use instead
```python
model = nn.DataParallel(load_pretrained())
model.module.classifier = nn.Linear(32, 3)   # or replace the head before wrapping
```

## Fix safety
The fix puts the layer on `model.module`: the model then computes with the new layer (a different output), which is
what the assignment meant, but it changes the program's values, so it is unsafe.
"""
    examples = (
        Example(
            name="new-head-set-on-the-dataparallel-wrapper",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Net())
    model.head = nn.Linear(8, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 4), torch.randint(0, 2, (6,))
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            lines=(19,),
            expect={"grad_none": ["model.head.weight"], "grad_ok": ["model.module.body.weight"]},
            fixed_expect={"grad_ok": ["model.module.head.weight", "model.module.body.weight"]},
        ),
        Example(
            bad=False,
            name="new-head-set-on-the-wrapped-module",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Net())
    model.module.head = nn.Linear(8, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(6, 4), torch.randint(0, 2, (6,))
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.module.head.weight", "model.module.body.weight"]},
        ),
        Example(
            bad=False,
            name="auxiliary-head-on-the-wrapper-called-by-name",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x))


def main():
    torch.manual_seed(0)
    model = nn.DataParallel(Net())
    model.aux = nn.Linear(8, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y, z = torch.randn(6, 4), torch.randint(0, 2, (6,)), torch.randint(0, 3, (6,))
    loss = F.cross_entropy(model(x), y) + F.cross_entropy(model.aux(model.module.body(x)), z)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.aux.weight", "model.module.head.weight", "model.module.body.weight"]},
        ),
    )

    def check(self, facts):
        facts.backward_flows  # noqa: B018 - analyzes training functions with their callers' values (context flows)
        called: Optional[set] = None
        done: set = set()
        for fl in [*facts.flows, *facts.flow.context_flows]:
            for ev in fl.events:
                if ev.what != "attr_assign" or id(ev.node) in done or ev.target is None or not ev.target.wrapper:
                    continue
                node, base, value = ev.node, ev.target, ev.value
                if not isinstance(node, ast.Attribute) or ev.name in WRAPPED_MODULE_ATTRS or value is None or value.kind != "module":
                    continue
                if isinstance(node.value, ast.Name) and node.value.id == "self":
                    continue
                if not base.cls or not facts.modules.assigned_values(base.cls, ev.name):
                    continue  # (the wrapped model has no layer of that name: a new attribute, maybe run by name)
                if called is None:  # layers run by name on some other object than ``self`` (``model.aux(h)``)
                    called = {n.func.attr for n in facts.walk(ast.Call) if isinstance(n.func, ast.Attribute)
                              and not (isinstance(n.func.value, ast.Name) and n.func.value.id == "self")}
                if ev.name in called:
                    continue
                done.add(id(node))
                recv = facts.text(node.value)

                def build(n: ast.Attribute = node, r: str = recv) -> Optional[Fix]:
                    return fix(f"Set it on `{r}.module`", replace_node(facts, n, f"{r}.module.{n.attr}"), unsafe=True)

                yield self.finding(
                    facts,
                    node,
                    f"`{facts.text(node)}` puts the layer on the `{base.wrapper}` wrapper, whose forward runs only `{recv}.module`: "
                    f"the wrapped `{base.cls}` keeps its own `{ev.name}`, so the new layer is never run and gets no gradient",
                    fixes=[build],
                    explanation=(
                        f"`{base.wrapper}` is a module of its own: the new layer is registered on it (an optimizer over "
                        f"`{recv}.parameters()` holds it), but `forward` calls `{recv}.module(...)`, which still uses its old "
                        f"`{ev.name}`. Assign it as `{recv}.module.{ev.name}`, or replace the layer before wrapping."
                    ),
                )
