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
                f = self._fix(facts, node, name)
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

    def _fix(self, facts, st: ast.Assign, name: str):
        val = st.value
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


def _loops_of(facts, node, fn):
    out = []
    cur = facts.parent(node)
    while cur is not None and cur is not fn:
        if isinstance(cur, (ast.For, ast.While, ast.AsyncFor)):
            out.append(cur)
        cur = facts.parent(cur)
    return out
