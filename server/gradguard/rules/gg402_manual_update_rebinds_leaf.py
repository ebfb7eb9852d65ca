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

The same holds for a container of leaves rebuilt from their gradients in a loop that backpropagates,
`fast = {n: w - lr * w.grad for n, w in fast.items()}` or `params = [p - lr * p.grad for p in params]` (MAML's inner
loop written with `backward()` and `.grad`): from the second pass on, every element is a non-leaf and its `.grad` is
None. No fix is offered there: to differentiate through the updates, take the gradients with
`torch.autograd.grad(loss, list(fast.values()), create_graph=True)`; otherwise update in place under `torch.no_grad()`.

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
            name="maml-fast-weights-dict-rebuilt-from-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def adapt(model, x, y, lr=0.1, steps=2):
    fast = dict(model.named_parameters())
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, fast, (x,)), y)
        loss.backward(create_graph=True)
        fast = {name: w - lr * w.grad for name, w in fast.items()}
    return fast


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    fast = adapt(model, x, y)
    F.mse_loss(functional_call(model, fast, (x,)), y).backward()
    opt.step()
    return {"model": model}
""",
            lines=(12,),
            expect={"error": "unsupported operand type(s) for *: 'float' and 'NoneType'"},
            fixable=False,
        ),
        Example(
            name="parameter-list-rebuilt-from-grad",
            code="""import torch


def main():
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16)
    params = [torch.zeros(3, requires_grad=True), torch.zeros(1, requires_grad=True)]
    for step in range(3):
        loss = ((x @ params[0] + params[1] - y) ** 2).mean()
        loss.backward()
        params = [p - 0.1 * p.grad for p in params]
    return {"w": params[0], "b": params[1]}
""",
            lines=(11,),
            expect={"error": "unsupported operand type(s) for *: 'float' and 'NoneType'"},
            fixable=False,
        ),
        Example(
            bad=False,
            name="maml-fast-weights-from-autograd-grad",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call


def adapt(model, x, y, lr=0.1, steps=2):
    fast = dict(model.named_parameters())
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, fast, (x,)), y)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
        fast = {name: w - lr * g for (name, w), g in zip(fast.items(), grads)}
    return fast


def main():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    fast = adapt(model, x, y)
    F.mse_loss(functional_call(model, fast, (x,)), y).backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight", "model.bias"]},
        ),
        Example(
            bad=False,
            name="parameter-list-rebuilt-as-new-leaves",
            code="""import torch


def main():
    torch.manual_seed(0)
    x, y = torch.randn(16, 3), torch.randn(16)
    params = [torch.zeros(3, requires_grad=True), torch.zeros(1, requires_grad=True)]
    for step in range(3):
        loss = ((x @ params[0] + params[1] - y) ** 2).mean()
        loss.backward()
        params = [(p - 0.1 * p.grad).detach().requires_grad_() for p in params]
    loss = ((x @ params[0] + params[1] - y) ** 2).mean()
    loss.backward()
    return {"w": params[0], "b": params[1]}
""",
            expect={"grad_ok": ["w", "b"]},
        ),
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
            done: set = set()
            for node in facts.own_nodes(fl.node):
                if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                    continue
                name = node.targets[0].id
                if id(node) not in done and isinstance(node.value, (ast.DictComp, ast.ListComp)):
                    found = self._container_rebinds(facts, fl, node, done)
                    if found is not None:
                        yield found
                    continue
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

    def _container_rebinds(self, facts, fl, node: ast.Assign, done: set):
        """``fast = {n: w - lr * w.grad for n, w in fast.items()}`` (or a list comprehension over ``fast``) in a loop
        that backpropagates: every element becomes a non-leaf result, so the next backward() leaves their ``.grad``
        None (MAML's inner loop written with ``backward()`` and ``.grad`` instead of ``torch.autograd.grad``)."""
        if not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, (ast.DictComp, ast.ListComp))):
            return None
        comp, name = node.value, node.targets[0].id
        if len(comp.generators) != 1 or comp.generators[0].ifs or comp.generators[0].is_async:
            return None
        gen = comp.generators[0]
        it, target = gen.iter, gen.target
        if isinstance(it, ast.Call) and not it.args and not it.keywords and isinstance(it.func, ast.Attribute) and it.func.attr in ("items", "values"):
            kind, it = it.func.attr, it.func.value
        else:
            kind = "elements"
        if not (isinstance(it, ast.Name) and it.id == name):
            return None
        if kind == "items":
            if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name)):
                return None
            elem = target.elts[1].id
        elif isinstance(target, ast.Name):
            elem = target.id
        else:
            return None
        body = comp.value if isinstance(comp, ast.DictComp) else comp.elt
        # the element's new value is computed from the element and its gradient (``w - lr * w.grad``)
        if not (_reads_grad_of(body, elem) and any(isinstance(n, ast.Name) and n.id == elem and not (isinstance(facts.parent(n), ast.Attribute) and facts.parent(n).attr == "grad") for n in walk_nodes(body))):
            return None
        v = fl.assigned.get(id(node.targets[0]))
        if v is None or v.leaf or v.kind == "params" or v.ident is not None or not known_roots(v) or _new_leaf(body):
            return None  # under no_grad, detached (``.detach().requires_grad_()``), or not differentiable: still leaves
        loops = [s for s in fl.backward_sites if any(lv is lp for lv in s.loops for lp in _loops_of(facts, node, fl.node))]
        if not loops:
            return None
        shared = next(lp for lp in _loops_of(facts, node, fl.node) if any(lv is lp for s in loops for lv in s.loops))
        if any(n is not node and isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and any(isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
               for n in walk_nodes(shared)):
            return None  # (bound again in the loop, to leaves perhaps: not the container the next pass reads)
        done.add(id(node))
        return self.finding(
            facts,
            node,
            f"every element of `{name}` is rebound to a non-leaf result (`{elem}` updated from `{elem}.grad`): the next backward() leaves their `.grad` None",
            related=[(loops[0].node, "backward() in the same loop")],
            explanation="The update is recorded by autograd, so the new elements are intermediate tensors; backward() fills `.grad` only "
                        "for leaves, so on the next pass `.grad` is None and the update fails. To differentiate through the updates (MAML), "
                        "take the gradients with `torch.autograd.grad(loss, list(...), create_graph=True)`; otherwise update in place under "
                        "`torch.no_grad()`.",
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


def _new_leaf(expr: ast.AST) -> bool:
    """``(w - lr * g).detach().requires_grad_()`` / ``.detach()`` / ``.data``: the element is a new leaf (or no graph)."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("requires_grad_", "clone", "to", "float"):
        expr = expr.func.value
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("detach", "detach_")) or (isinstance(expr, ast.Attribute) and expr.attr == "data")


def _loops_of(facts, node, fn):
    out = []
    cur = facts.parent(node)
    while cur is not None and cur is not fn:
        if isinstance(cur, (ast.For, ast.While, ast.AsyncFor)):
            out.append(cur)
        cur = facts.parent(cur)
    return out
