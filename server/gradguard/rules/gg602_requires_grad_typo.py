"""GG602 requires-grad-typo: assigning ``.require_grad`` / ``.requires_grads`` ... instead of ``.requires_grad``."""
from __future__ import annotations

import ast
import re
from typing import Optional

from gradguard.core.model import Applicability, Fix, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules._leafs import known_roots
from gradguard.rules.base import Example, Rule

TARGET = "requires_grad"


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


_CANDIDATE = re.compile(r"\.\s*re\w*grad\w*\s*=[^=]", re.IGNORECASE)


def is_typo(attr: str) -> bool:
    if attr == TARGET or attr in ("requires_grad_",):
        return False
    low = attr.lower()
    if low == TARGET:
        return True  # Requires_Grad
    if "grad" not in low or not low.startswith("re"):
        return False
    return _distance(low, TARGET) <= 2


class RequiresGradTypo(Rule):
    code = "GG602"
    name = "requires-grad-typo"
    summary = "A misspelled `requires_grad` attribute is assigned: it sets a new attribute and changes nothing."
    severity = Severity.WARNING
    needs = ("req", "rq")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags an assignment to an attribute spelled almost like `requires_grad` (`require_grad`,
`requires_grads`, `requieres_grad`, ...) on a tensor, parameter or module, when nothing in the file ever
reads that misspelled attribute back (a consistently named attribute of your own class is not a typo).

## Why is this bad?
Tensors and modules accept arbitrary new attributes, so the typo raises nothing: the parameters keep
their old `requires_grad` and the layer meant to be frozen keeps training (or the tensor meant to get a
gradient never does).

## Example
```python
for p in model.encoder.parameters():
    p.require_grad = False
```

## Use instead
```python
for p in model.encoder.parameters():
    p.requires_grad = False
```

## Fix safety
Correcting the spelling is safe: the misspelled attribute is never read anywhere in the file.
"""
    examples = (
        Example(
            name="freeze-loop-typo",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    encoder, head = nn.Linear(3, 5), nn.Linear(5, 1)
    for p in encoder.parameters():
        p.require_grad = False
    loss = head(encoder(torch.randn(4, 3))).pow(2).mean()
    loss.backward()
    return {"head": head}, {"encoder_frozen": encoder.weight.grad is None}
""",
            lines=(9,),
            expect={"grad_ok": ["head.weight"], "facts": {"encoder_frozen": False}},
        ),
        Example(
            bad=False,
            name="own-attribute-read-back",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    layer.require_grad = True
    w = torch.randn(3, requires_grad=True)
    w.requires_grad = True
    out = layer(torch.randn(2, 3) * w)
    if layer.require_grad:
        out.sum().backward()
    return {"layer": layer, "w": w}
""",
            expect={"grad_ok": ["layer.weight", "w"]},
        ),
    )

    def check(self, facts):
        if not _CANDIDATE.search(facts.source.text):
            return  # no `x.re...grad... = ` assignment at all: skip the flow analysis
        loaded = None
        for fl in facts.flows:
            for ev in fl.events:
                if ev.what != "attr_assign" or not is_typo(ev.name or ""):
                    continue
                node = ev.node
                if not isinstance(node, ast.Attribute) or (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    continue
                base = ev.target
                if base is None or not (known_roots(base) or base.leaf) or base.kind not in ("tensor", "module", "params"):
                    continue
                if loaded is None:
                    loaded = {n.attr for n in facts.walk(ast.Attribute) if isinstance(n.ctx, ast.Load)}
                    loaded |= {n.value for n in facts.walk(ast.Constant) if isinstance(n.value, str)}
                if ev.name in loaded:
                    continue
                recv = facts.text(node.value)

                def build(n: ast.Attribute = node, r: str = recv) -> Optional[Fix]:
                    return fix("Spell it `requires_grad`", replace_node(facts, n, f"{r}.requires_grad"))

                yield self.finding(
                    facts,
                    node,
                    f"`.{ev.name}` is a misspelling of `.requires_grad`: this sets a new attribute and changes nothing",
                    fixes=[build],
                    explanation="Tensors and modules accept arbitrary attributes, so the misspelled flag is silently stored and `requires_grad` keeps its old value.",
                )
