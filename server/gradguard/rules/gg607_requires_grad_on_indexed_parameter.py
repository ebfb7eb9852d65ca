"""GG607 requires-grad-on-indexed-parameter: ``emb.weight[n_old:].requires_grad = True`` sets the flag of a new tensor
(the indexed view), never of the parameter."""
from __future__ import annotations

import ast
import re

from gradguard.core.model import Severity
from gradguard.rules.base import Example, Rule


class RequiresGradOnIndexedParameter(Rule):
    code = "GG607"
    name = "requires-grad-on-indexed-parameter"
    summary = (
        "`requires_grad` set on an indexed part of a parameter (`emb.weight[n_old:].requires_grad = True`) changes a new "
        "tensor, not the parameter: it raises when the parameter requires grad, and does nothing when it is frozen."
    )
    severity = Severity.WARNING
    needs = ("requires_grad",)
    docs = """
## What it does
Flags `x[...].requires_grad = ...` and `x[...].requires_grad_(...)` where `x` is a parameter: a layer's `weight` or
`bias`, or a parameter taken from `parameters()` / `named_parameters()` (typically to train only the rows of newly
added tokens, or to freeze some rows of a table).

## Why is this bad?
Indexing a tensor makes a new tensor (a view, or a copy for advanced indexing) with a `requires_grad` flag of its
own. `requires_grad` is per tensor, not per element:
- when the parameter requires grad, its indexed part is a non-leaf, and changing its flag raises
  `RuntimeError: you can only change requires_grad flags of leaf variables`;
- when the parameter is frozen, the indexed part is a leaf of its own: the flag is set on it, the parameter stays
  frozen, and the rows meant to train never get a gradient. Nothing raises.

## Example
```python
emb.weight.requires_grad = False
emb.weight[n_old:].requires_grad = True       # the new token rows still never train
```

## Use instead
```python
emb.weight.requires_grad = True
mask = torch.zeros_like(emb.weight)
mask[n_old:] = 1.0
emb.weight.register_hook(lambda grad: grad * mask)   # only the new rows get a gradient
```
(with weight decay off for that parameter, or the frozen rows still move), or keep the new rows in a parameter of
their own and concatenate it with the frozen table in `forward`.

## Fix safety
No fix is offered: which rows should train, and how the others stay fixed, is for the author to decide.
"""
    examples = (
        Example(
            name="helper-unfreezes-rows-through-a-name-for-the-weight",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, n_tokens=10, dim=4):
        super().__init__()
        self.emb = nn.Embedding(n_tokens, dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, ids):
        return self.head(self.emb(ids).mean(1))


def train_only_new_tokens(model, n_old):
    table = model.emb.weight
    table.requires_grad_(False)
    for row in range(n_old, table.shape[0]):
        table[row].requires_grad_(True)


def main():
    torch.manual_seed(0)
    model = Tagger()
    train_only_new_tokens(model, n_old=6)
    new0 = model.emb.weight[6:].detach().clone()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(2):
        ids = torch.randint(0, 10, (8, 3))
        loss = nn.functional.cross_entropy(model(ids), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"new_rows_changed": not torch.equal(new0, model.emb.weight[6:])}
""",
            lines=(19,),
            expect={'grad_none': ['model.emb.weight'], 'facts': {'new_rows_changed': False}},
            fixable=False,
        ),
        Example(
            bad=False,
            name="rows-masked-by-a-gradient-hook",
            code="""import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, n_tokens=10, dim=4):
        super().__init__()
        self.emb = nn.Embedding(n_tokens, dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, ids):
        return self.head(self.emb(ids).mean(1))


def train_only_new_tokens(model, n_old):
    table = model.emb.weight
    mask = torch.zeros(table.shape[0], 1)
    mask[n_old:] = 1.0
    table.register_hook(lambda g: g * mask)
    first_row = table[0].detach()
    return first_row


def main():
    torch.manual_seed(0)
    model = Tagger()
    train_only_new_tokens(model, n_old=6)
    new0 = model.emb.weight[6:].detach().clone()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(2):
        ids = torch.randint(0, 10, (8, 3))
        loss = nn.functional.cross_entropy(model(ids), torch.randint(0, 2, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"model": model}, {"new_rows_changed": not torch.equal(new0, model.emb.weight[6:])}
""",
            expect={'grad_ok': ['model.emb.weight'], 'facts': {'new_rows_changed': True}},
        ),
        Example(
            name="new-token-rows-unfrozen-through-a-slice",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(10, 4)
    head = nn.Linear(4, 2)
    n_old = 8
    for name, p in emb.named_parameters():
        p.requires_grad = False
        p[n_old:].requires_grad = True
    optimizer = torch.optim.SGD([p for p in [*emb.parameters(), *head.parameters()] if p.requires_grad], lr=0.1)
    before = emb.weight[n_old:].detach().clone()
    ids = torch.tensor([[8, 9, 1], [9, 2, 8]])
    optimizer.zero_grad()
    head(emb(ids).mean(1)).pow(2).mean().backward()
    optimizer.step()
    return {"emb": emb, "head": head}, {"new_rows_changed": not torch.equal(before, emb.weight[n_old:])}
""",
            expect={"facts": {"new_rows_changed": False}, "grad_none": ["emb.weight"], "grad_ok": ["head.weight"]},
            lines=(12,),
            fixable=False,
        ),
        Example(
            name="rows-frozen-through-a-slice-of-a-trainable-weight",
            code="""import torch
import torch.nn as nn


def main():
    layer = nn.Linear(4, 3)
    layer.weight[:2].requires_grad_(False)
    layer(torch.randn(5, 4)).sum().backward()
    return {"layer": layer}
""",
            expect={"error": "you can only change requires_grad flags of leaf variables"},
            lines=(7,),
            fixable=False,
        ),
        Example(
            bad=False,
            name="new-token-rows-trained-through-a-gradient-mask",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(10, 4)
    head = nn.Linear(4, 2)
    n_old = 8
    mask = torch.zeros_like(emb.weight)
    mask[n_old:] = 1.0
    emb.weight.register_hook(lambda grad: grad * mask)
    optimizer = torch.optim.SGD([*emb.parameters(), *head.parameters()], lr=0.1)
    before = emb.weight[n_old:].detach().clone()
    old = emb.weight[:n_old].detach().clone()
    ids = torch.tensor([[8, 9, 1], [9, 2, 8]])
    optimizer.zero_grad()
    head(emb(ids).mean(1)).pow(2).mean().backward()
    optimizer.step()
    return {"emb": emb, "head": head}, {"new_rows_changed": not torch.equal(before, emb.weight[n_old:]),
                                        "old_rows_changed": not torch.equal(old, emb.weight[:n_old])}
""",
            expect={"facts": {"new_rows_changed": True, "old_rows_changed": False}, "grad_ok": ["emb.weight", "head.weight"]},
        ),
        Example(
            bad=False,
            name="indexed-copy-made-a-leaf-of-its-own",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    emb = nn.Embedding(10, 4)
    emb.requires_grad_(False)
    prompt = emb.weight[:3].detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([prompt], lr=0.1)
    optimizer.zero_grad()
    (prompt.sum(0) * emb(torch.tensor([1, 2])).mean(0)).sum().backward()
    optimizer.step()
    return {"prompt": prompt}
""",
            expect={"grad_ok": ["prompt"]},
        ),
    )

    def check(self, facts):
        done: set = set()
        for fl in facts.flows_matching(_INDEXED_FLAG):
            for ev in fl.events:
                if ev.what != "indexed_requires_grad" or id(ev.node) in done:
                    continue
                done.add(id(ev.node))
                node = ev.node
                indexed = node.value if isinstance(node, ast.Attribute) else getattr(node.func, "value", None) if isinstance(node, ast.Call) else None
                if not isinstance(indexed, ast.Subscript):
                    continue
                param = facts.text(indexed.value)
                if len(param) > 40:
                    param = "..." + param[-37:]
                on = ev.extra == "True"
                # (on the non-leaf view of a parameter that requires grad, setting the attribute raises, and so does
                # ``requires_grad_(False)``; ``requires_grad_(True)`` leaves it as it is)
                when_trained = "it does nothing" if on and isinstance(node, ast.Call) else "it raises"
                yield self.finding(
                    facts,
                    node,
                    f"indexing makes a new tensor: setting its `requires_grad` does not change the parameter `{param}` ({when_trained} "
                    f"when the parameter requires grad; when it is frozen, " + ("these rows still never train)" if on else "nothing changes)"),
                    explanation="`requires_grad` belongs to a whole tensor. Indexing a parameter gives a new tensor with a flag of its own "
                    "(a non-leaf, whose flag cannot be changed, when the parameter requires grad). To train or freeze some rows, "
                    "keep the whole parameter trainable and mask its gradient with `register_hook`, or keep those rows in a "
                    "parameter of their own.",
                )


_INDEXED_FLAG = re.compile(r"\]\s*\.\s*requires_grad")
