"""GG402 manual-update-rebinds-leaf: ``w = w - lr * w.grad`` turns the leaf into a non-leaf."""
from __future__ import annotations

import ast

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import alias_for, fix, line_indent, replace_node
from gradguard.rules._leafs import known_roots
from gradguard.rules.base import Example, Rule


def _reads_grad_of(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.value, ast.Name) and n.value.id == name
        for n in walk_nodes(node)
    )


class ManualUpdateRebindsLeaf(Rule):
    code = "GG402"
    name = "manual-update-rebinds-leaf"
    summary = "`w = w - lr * w.grad` rebinds the leaf `w` to a non-leaf result: the next backward() leaves `w.grad` None."
    severity = Severity.ERROR
    needs = (".grad",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags a hand-written gradient step that *rebinds* a `requires_grad=True` leaf, `w = w - lr * w.grad`, in a
loop that calls `backward()`, with gradient recording on (not under `torch.no_grad()`, no `.detach()`).

## Why is this bad?
The right-hand side is recorded by autograd, so `w` becomes an intermediate (non-leaf) tensor. On the
next iteration `backward()` does not populate `w.grad` (PyTorch warns that a non-leaf `.grad` is being
accessed), and `lr * w.grad` fails with
`TypeError: unsupported operand type(s) for *: 'float' and 'NoneType'`. The graph also keeps growing
through every step.

## Example
```python
for step in range(steps):
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    w = w - lr * w.grad
```

## Use instead
```python
for step in range(steps):
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
    w.grad.zero_()
```

## Fix safety
Updating in place under `torch.no_grad()` and zeroing the gradient keeps `w` the same leaf, which is what
a gradient step needs; the values computed are those of the original update.
"""
    examples = (
        Example(
            name="pgd-step-then-projection-both-recorded",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


def attack(model, x, y, eps=0.1, alpha=0.03, steps=3):
    x_adv = x.clone().requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(x_adv), y)
        model.zero_grad()
        loss.backward()
        x_adv = x_adv + alpha * x_adv.grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)
    return x_adv.detach()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    attack(model, torch.randn(5, 4), torch.randint(0, 3, (5,)))
    return {"model": model}
""",
            lines=(12,),
            expect={"error": "'NoneType' object has no attribute 'sign'"},
            fixable=False,
        ),
        Example(
            name="linear-regression-by-hand",
            code="""import torch


def main():
    torch.manual_seed(0)
    x = torch.randn(16, 2)
    y = x @ torch.tensor([1.5, -0.5]) + 0.3
    w = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for epoch in range(4):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        w = w - 0.05 * w.grad
        b = b - 0.05 * b.grad
    return {"w": w, "b": b}
""",
            lines=(13, 14),
            expect={"error": "unsupported operand type(s) for *: 'float' and 'NoneType'"},
        ),
        Example(
            bad=False,
            name="update-under-no-grad-or-detached",
            code="""import torch


def main():
    torch.manual_seed(0)
    x = torch.randn(16, 2)
    y = x.sum(dim=1)
    w = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for epoch in range(3):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.05 * w.grad
        w.grad.zero_()
        b = (b - 0.05 * b.grad).detach().requires_grad_()
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    return {"w": w, "b": b}
""",
            expect={"grad_ok": ["w", "b"]},
        ),
    )

    def check(self, facts):
        for fl in facts.backward_flows:  # both need a backward() in the same function
            if not fl.backward_sites:
                continue
            reads: dict[int, set[str]] = {}
            for ev in fl.events:
                if ev.what == "grad_read" and ev.name and ev.target is not None and ev.target.leaf:
                    reads.setdefault(id(ev.stmt), set()).add(ev.name)
            done = set()
            for node in facts.own_nodes(fl.node):
                if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                    continue
                name = node.targets[0].id
                if id(node) in done or name not in reads.get(id(node), ()):
                    continue
                if not (_reads_grad_of(node.value, name) and any(isinstance(n, ast.Name) and n.id == name and n is not node.targets[0] for n in walk_nodes(node.value) if not (isinstance(facts.parent(n), ast.Attribute) and facts.parent(n).attr == "grad"))):
                    continue
                v = fl.assigned.get(id(node.targets[0]))
                if v is None or v.leaf or v.ident is not None or name not in known_roots(v):
                    continue  # under no_grad, detached, or not differentiable: not a non-leaf
                loops = [s for s in fl.backward_sites if any(lv is lp for lv in s.loops for lp in _loops_of(facts, node, fl.node))]
                if not loops:
                    continue
                done.add(id(node))
                fixes = []
                f = self._fix(facts, node, name, fl.node)
                if f is not None:
                    fixes.append(f)
                yield self.finding(
                    facts,
                    node,
                    f"`{name}` is rebound to a non-leaf result: the next backward() leaves `{name}.grad` None",
                    related=[(loops[0].node, "backward() in the same loop")],
                    fixes=fixes,
                    explanation="The update is recorded by autograd, so the new `w` is an intermediate tensor; backward() no longer fills its `.grad`, and the next update fails on None.",
                )

    def _fix(self, facts, st: ast.Assign, name: str, fn=None):
        val = st.value
        loops = _loops_of(facts, st, fn)
        if loops and _rebound_again(facts, loops[0], st, name):
            return None  # another recorded rebinding (a projection ``x = torch.min(...)``) keeps it non-leaf
        if not (isinstance(val, ast.BinOp) and isinstance(val.op, (ast.Sub, ast.Add)) and isinstance(val.left, ast.Name) and val.left.id == name):
            return None
        if (val.right.end_lineno or 0) != val.right.lineno or st.lineno != st.end_lineno:
            return None
        line = facts.source.line(st.lineno)
        if len(line) - len(line.lstrip()) != facts.start(st).col or line[facts.end(st).col:].strip() not in ("",) and not line[facts.end(st).col:].strip().startswith("#"):
            return None
        torch = alias_for(facts, "torch")
        if torch is None:
            return None
        indent = line_indent(facts, st.lineno)
        op = "-=" if isinstance(val.op, ast.Sub) else "+="
        nl = "\r\n" if facts.source.lines[0].endswith("\r\n") else "\n"
        text = f"with {torch}.no_grad():{nl}{indent}    {name} {op} {facts.text(val.right)}{nl}{indent}{name}.grad.zero_()"
        return lambda: fix("Update in place under torch.no_grad() and zero the gradient", replace_node(facts, st, text))


def _rebound_again(facts, loop, st: ast.Assign, name: str) -> bool:
    """Is ``name`` bound again in ``loop`` (besides ``st``) to a value computed from itself, outside
    ``torch.no_grad()``? Then making ``st`` an in-place update alone leaves the tensor a non-leaf."""
    for node in walk_nodes(loop):
        if node is st or not (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)):
            continue
        if not any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(node.value)):
            continue
        cur = facts.parent(node)
        guarded = False
        while cur is not None and cur is not loop:
            if isinstance(cur, ast.With) and any("no_grad" in facts.text(i.context_expr) or "inference_mode" in facts.text(i.context_expr) for i in cur.items):
                guarded = True
                break
            cur = facts.parent(cur)
        if not guarded:
            return True
    return False


def _loops_of(facts, node, fn):
    out = []
    cur = facts.parent(node)
    while cur is not None and cur is not fn:
        if isinstance(cur, (ast.For, ast.While, ast.AsyncFor)):
            out.append(cur)
        cur = facts.parent(cur)
    return out
