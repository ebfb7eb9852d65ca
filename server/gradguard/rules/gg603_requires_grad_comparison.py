"""GG603 requires-grad-comparison: ``p.requires_grad == False`` as a statement (meant ``=``)."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule


class RequiresGradComparison(Rule):
    code = "GG603"
    name = "requires-grad-comparison"
    summary = "`x.requires_grad == False` on its own line compares and discards the result; it freezes nothing."
    severity = Severity.WARNING
    needs = ("requires_grad",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an expression statement that compares a `.requires_grad` attribute with `True`/`False`
(`p.requires_grad == False`, `p.requires_grad is False`): the result of the comparison is thrown away.

## Why is this bad?
It was meant to be an assignment. Nothing is frozen (or unfrozen): the parameters keep training, and no
error ever points at the line.

## Example
```python
for p in model.embed.parameters():
    p.requires_grad == False
```

## Use instead
```python
for p in model.embed.parameters():
    p.requires_grad = False
```

## Fix safety
Turning the discarded comparison into the assignment is safe: the statement has no other effect.
"""
    examples = (
        Example(
            name="freeze-by-comparison",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Embedding(20, 4), nn.Flatten(), nn.Linear(12, 2))
    for param in net[0].parameters():
        param.requires_grad == False
    tokens = torch.randint(0, 20, (5, 3))
    net(tokens).sum().backward()
    return {"net": net}, {"embedding_trainable": net[0].weight.requires_grad}
""",
            lines=(9,),
            expect={"grad_ok": ["net.2.weight"], "facts": {"embedding_trainable": True}},
        ),
        Example(
            bad=False,
            name="comparison-used-in-condition",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    net.bias.requires_grad = False
    trainable = [p for p in net.parameters() if p.requires_grad == True]
    assert net.bias.requires_grad == False
    opt = torch.optim.SGD(trainable, lr=0.1)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"], "grad_none": ["net.bias"]},
        ),
    )

    def check(self, facts):
        for st in facts.walk(ast.Expr):
            c = st.value
            if not (isinstance(c, ast.Compare) and len(c.ops) == 1 and isinstance(c.ops[0], (ast.Eq, ast.Is))):
                continue
            left, right = c.left, c.comparators[0]
            if isinstance(right, ast.Attribute) and right.attr == "requires_grad":
                left, right = right, left
            if not (isinstance(left, ast.Attribute) and left.attr == "requires_grad"):
                continue
            if not (isinstance(right, ast.Constant) and isinstance(right.value, bool)):
                continue
            recv = facts.text(left.value)
            val = "True" if right.value else "False"

            def build(s: ast.Expr = st, r: str = recv, v: str = val) -> Optional[Fix]:
                return fix("Assign instead of comparing", replace_node(facts, s, f"{r}.requires_grad = {v}"))

            yield self.finding(
                facts,
                c,
                f"comparison result is discarded: did you mean `{recv}.requires_grad = {val}`?",
                fixes=[build],
                explanation="A comparison as a statement has no effect, so `requires_grad` keeps its value and the parameters keep training.",
            )
