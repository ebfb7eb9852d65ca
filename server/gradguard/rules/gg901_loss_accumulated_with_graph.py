"""GG901 loss-accumulated-with-graph: ``total_loss += loss`` keeps every iteration's autograd graph alive."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.model import Applicability, Severity
from gradguard.core.torchapi import LOSS_SINK_WORDS
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

SIMPLE = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)


class LossAccumulatedWithGraph(Rule):
    code = "GG901"
    name = "loss-accumulated-with-graph"
    summary = "A loss tensor is summed into a running total across training iterations, keeping every iteration's autograd graph alive."
    severity = Severity.WARNING
    needs = LOSS_SINK_WORDS
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `total += loss` inside a loop that calls `backward()` every iteration, when `total` is defined before
the loop, `loss` still carries autograd history, and `total` itself is never backpropagated (nor returned).
The same for running losses kept elsewhere across iterations: `self.epoch_loss += loss`,
`history.append(loss)`, `self.history["train"].append(loss)`, `self.losses[step] = loss`, also when the loop
backpropagates inside a training-step method it calls (`loss = self.training_step(batch)`), and when a method
that backpropagates, called in a loop (`trainer.step(x)`), keeps its loss on the object.
`total += loss.item()`, `total += loss.detach()`, and accumulating losses into a total that *is*
backpropagated after the loop (gradient accumulation) stay silent.

## Why is this bad?
`total + loss` is itself a recorded op: `total` becomes a tensor whose `grad_fn` chain references every
iteration's loss and graph. Nothing is freed until the loop ends, so memory grows with every step (the
classic out-of-memory from the PyTorch FAQ), and `total` has a `grad_fn` even though it is only logged.

## Example
```python
total_loss = 0
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    total_loss += loss
```

## Use instead
```python
    total_loss += loss.item()
```

## Fix safety
Safe: `loss.item()` (for the scalar loss that is backpropagated) or `loss.detach()` (otherwise, or when the
total is later used as a tensor) adds the same number without the history.
"""
    examples = (
        Example(
            name="trainer-step-keeps-losses-on-the-object",
            code="""import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)
        self.losses = {}

    def step(self, i, x):
        loss = self.model(x).pow(2).mean()
        self.losses[i] = loss
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    trainer = Trainer(model)
    for i in range(3):
        trainer.step(i, torch.randn(8, 4))
    return {"model": model}, {"history_keeps_graphs": all(v.grad_fn is not None for v in trainer.losses.values())}
""",
            lines=(13,),
            expect={"facts": {"history_keeps_graphs": True}},
            fixed_expect={"facts": {"history_keeps_graphs": False}},
        ),
        Example(
            bad=False,
            name="trainer-step-keeps-numbers-and-resets-per-call",
            code="""import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)
        self.losses = {}
        self.window = []

    def step(self, i, x):
        self.window = []
        loss = self.model(x).pow(2).mean()
        self.losses[i] = loss.item()
        self.window.append(loss)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    trainer = Trainer(model)
    for i in range(3):
        trainer.step(i, torch.randn(8, 4))
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="trainer-keeps-loss-history",
            code="""import torch
import torch.nn as nn


class Trainer:
    def __init__(self):
        self.model = nn.Linear(4, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.history = []

    def step(self, x):
        self.opt.zero_grad()
        loss = self.model(x).pow(2).mean()
        loss.backward()
        self.opt.step()
        return loss

    def fit(self, batches):
        for x in batches:
            loss = self.step(x)
            self.history.append(loss)


def main():
    torch.manual_seed(0)
    t = Trainer()
    t.fit([torch.randn(8, 4) for _ in range(3)])
    return {"model": t.model}, {"history_keeps_graphs": any(h.grad_fn is not None for h in t.history)}
""",
            lines=(21,),
            expect={"facts": {"history_keeps_graphs": True}},
            fixed_expect={"facts": {"history_keeps_graphs": False}},
        ),
        Example(
            bad=False,
            name="history-of-numbers",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = []
    for _ in range(3):
        opt.zero_grad()
        loss = model(torch.randn(8, 4)).pow(2).mean()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return {"model": model}
""",
            expect={"grad_ok": ["model.weight"]},
        ),
        Example(
            name="epoch-total",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    reg = nn.Linear(3, 1)
    opt = torch.optim.SGD(reg.parameters(), lr=0.05)
    epoch_loss = 0.0
    for step in range(4):
        x, y = torch.randn(6, 3), torch.randn(6, 1)
        opt.zero_grad()
        loss = nn.functional.mse_loss(reg(x), y)
        loss.backward()
        opt.step()
        epoch_loss += loss
    keeps = torch.is_tensor(epoch_loss) and epoch_loss.grad_fn is not None
    return {"reg": reg}, {"total_keeps_graph": keeps}
""",
            lines=(16,),
            expect={"grad_ok": ["reg.weight"], "facts": {"total_keeps_graph": True}},
        ),
        Example(
            name="weighted-total-used-as-tensor",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    running = torch.zeros(())
    for _ in range(3):
        x = torch.randn(5, 4)
        loss = net(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        running += loss * x.shape[0]
    mean = running.item() / 15
    return {"net": net}, {"total_keeps_graph": running.grad_fn is not None}
""",
            lines=(16,),
            expect={"grad_ok": ["net.weight"], "facts": {"total_keeps_graph": True}},
        ),
        Example(
            bad=False,
            name="gradient-accumulation",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in range(2):
        total = 0
        for _ in range(3):
            total += net(torch.randn(2, 4)).pow(2).mean()
        opt.zero_grad()
        total.backward()
        opt.step()
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="item-total",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    total, seen = 0.0, 0
    for _ in range(3):
        loss = net(torch.randn(2, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
        seen += 1
    return {"net": net}
""",
            expect={"grad_ok": ["net.weight"]},
        ),
        Example(
            bad=False,
            name="stats-list-started-afresh-every-step",
            code="""import torch
import torch.nn as nn


class Recipe:
    def __init__(self):
        self.model = nn.Linear(4, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.means = []

    def policy_step(self, x):
        loss = self.model(x).pow(2).mean()
        loss.backward()
        return loss

    def train(self, steps=3, epochs=2):
        for _ in range(steps):
            x = torch.randn(8, 4)
            stats: list = []
            for _ in range(epochs):
                self.opt.zero_grad()
                step_stats = self.policy_step(x)
                stats.append(step_stats)
                self.opt.step()
            self.means.append(torch.stack(stats).mean().item())


def main():
    torch.manual_seed(0)
    recipe = Recipe()
    recipe.train()
    return {"model": recipe.model}
""",
            expect={'grad_ok': ['model.weight']},
        ),
        Example(
            bad=False,
            name="jacobian-trace-summed-and-returned",
            code="""import torch
import torch.nn as nn


def trace_jacobian(f, z):
    total = 0.0
    for i in range(z.shape[1]):
        total += torch.autograd.grad(f[:, i].sum(), z, create_graph=True)[0][:, i]
    return total.contiguous()


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(2):
        z = torch.randn(16, 2, requires_grad=True)
        dz = net(z)
        loss = trace_jacobian(dz, z).pow(2).mean() + dz.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"net": net}
""",
            expect={'grad_ok': ['net.0.weight']},
        ),
        Example(
            bad=False,
            name="chunked-loss-detached-after-its-backward",
            code="""import torch
import torch.nn as nn


class ChunkedLoss(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def compute(self, x, y, with_backward=False, chunk=2):
        parts = []
        for i in range(0, x.size(0), chunk):
            part = (self.net(x[i:i + chunk]) - y[i:i + chunk]).pow(2).mean()
            if with_backward:
                part.backward()
                part = part.detach()
            parts.append(part)
        return sum(parts)


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    crit = ChunkedLoss(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    for _ in range(3):
        opt.zero_grad()
        total = crit.compute(x, y, with_backward=True)
        opt.step()
    return {"net": net}, {"total_keeps_graph": total.grad_fn is not None}
""",
            expect={'grad_ok': ['net.weight'], 'facts': {'total_keeps_graph': False}},
        ),
        Example(
            name="chunked-loss-backpropagated-and-kept",
            code="""import torch
import torch.nn as nn


class ChunkedLoss(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def compute(self, x, y, with_backward=False, chunk=2):
        parts = []
        for i in range(0, x.size(0), chunk):
            part = (self.net(x[i:i + chunk]) - y[i:i + chunk]).pow(2).mean()
            if with_backward:
                part.backward()
            parts.append(part)
        return sum(parts)


def main():
    torch.manual_seed(0)
    net = nn.Linear(4, 1)
    crit = ChunkedLoss(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    for _ in range(3):
        opt.zero_grad()
        total = crit.compute(x, y, with_backward=True)
        opt.step()
    return {"net": net}, {"total_keeps_graph": total.grad_fn is not None}
""",
            lines=(16,),
            expect={'facts': {'total_keeps_graph': True}},
            fixed_expect={'facts': {'total_keeps_graph': False}},
        ),
    )

    def _stores_across_iterations(self, facts):
        return _stores_across_iterations_impl(self, facts)

    def check(self, facts):
        yield from self._stores_across_iterations(facts)
        for fl in facts.backward_flows:
            if not fl.backward_sites or facts.flow.is_autograd_function_method(fl.node):
                continue
            stores = None
            for ev in fl.events:
                if ev.what != "augassign" or ev.extra != "Add" or not ev.loops or not ev.name:
                    continue
                v = ev.value
                if v is None or not v.live or v.leaf or v.kind not in ("tensor", None) or not ev.mode.enabled:
                    continue
                st = ev.stmt
                if not isinstance(st, ast.AugAssign):
                    continue
                name = ev.name
                loop = ev.loops[-1]
                if stores is None:
                    stores = _name_uses(fl.node)
                assigns, loads = stores.get(name, ([], []))
                # defined before the loop, never reset inside it
                if not any(a.lineno < loop.lineno for a in assigns):
                    continue
                if any(_inside(a, loop) and not isinstance(facts.parent(a), ast.AugAssign) for a in assigns):
                    continue
                # the loop backpropagates every iteration, and never through the total
                # (not ``torch.autograd.grad(..., create_graph=True)``: a derivative built into the graph on purpose, a
                # Jacobian trace summed over the input dimensions, frees nothing)
                sites_in_loop = [s for s in fl.backward_sites if loop in s.loops and not (s.retain_graph and s.wrt is not None)]
                if not sites_in_loop:
                    continue
                if any(_mentions(s.loss_expr, name) or _mentions(s.node, name) for s in fl.backward_sites):
                    continue
                # what is added is (part of) the loss backpropagated in this loop, still attached
                backprop_names = {n.id for s in sites_in_loop for n in walk_nodes(s.loss_expr) if isinstance(n, ast.Name)} - {"self", "cls"}
                if not _attached_mention(facts, st.value, backprop_names):
                    continue
                if any(isinstance(facts.parent(lv), (ast.Return, ast.Yield)) or _returned(facts, lv) for lv in loads):
                    continue
                used_as_tensor = any(isinstance(facts.parent(lv), ast.Attribute) for lv in loads)
                value = st.value
                loss_names = {s.loss_expr.id for s in sites_in_loop if isinstance(s.loss_expr, ast.Name) and not s.node.args and not s.node.keywords}
                scalar = isinstance(value, ast.Name) and value.id in loss_names
                method = "item" if (scalar and not used_as_tensor) else "detach"
                text = facts.text(value)
                new = f"{text}.{method}()" if isinstance(value, SIMPLE) else f"({text}).{method}()"
                yield self.finding(
                    facts,
                    st,
                    f"`{name} += {_short(text)}` adds a tensor with autograd history: `{name}` keeps every iteration's graph alive",
                    related=[(sites_in_loop[0].node, "the loop backpropagates every iteration here")],
                    fixes=[partial(_accumulate_fix, facts, value, new, method)],
                    explanation=f"`{name}` becomes a tensor whose `grad_fn` chain references the loss (and graph) of every iteration; memory grows "
                    f"each step until the loop ends. Accumulate a number (`.item()`) or a detached tensor instead.",
                )


def _accumulate_fix(facts, value: ast.AST, new: str, method: str):
    return fix(f"Accumulate `.{method}()`", replace_node(facts, value, new))


def _backprop_loops(facts, fl) -> set:
    """Loops of ``fl`` that backpropagate every iteration: a backward site inside, or a call inside to a
    function or method of this file that calls ``backward()`` (a training step)."""
    out = {id(lp) for s in fl.backward_sites if s.mode.enabled for lp in s.loops}
    owner = facts.modules.classes.get(fl.owner or "")
    for node in walk_nodes(fl.node):
        if not isinstance(node, (ast.For, ast.While, ast.AsyncFor)) or id(node) in out:
            continue
        for sub in walk_nodes(node):
            if not isinstance(sub, ast.Call):
                continue
            f = sub.func
            target = None
            if isinstance(f, ast.Name):
                target = facts.flow.functions.get(f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and owner is not None:
                target = facts.modules.method(owner.name, f.attr)
            if target is not None and target is not fl.node and facts.flow.flow(target).backward_sites:
                out.add(id(node))
                break
    return out


def _short(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= 30 else text[:27] + "..."


def _name_uses(fn: ast.AST) -> dict:
    out: dict = {}
    for node in walk_nodes(fn):
        if isinstance(node, ast.Name):
            a, lv = out.setdefault(node.id, ([], []))
            (a if isinstance(node.ctx, ast.Store) else lv).append(node)
    return out


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    start = getattr(outer, "lineno", 0)
    end = getattr(outer, "end_lineno", start)
    return start <= getattr(node, "lineno", -1) <= end


def _mentions(expr: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in walk_nodes(expr))


def _attached_mention(facts, value: ast.AST, names: set) -> bool:
    """A Name of ``names`` in ``value`` that is not under ``.item()`` / ``.detach()`` / ``float()``..."""
    for n in walk_nodes(value):
        if not (isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load)):
            continue
        cur, ok = n, True
        while cur is not value:
            parent = facts.parent(cur)
            if isinstance(parent, ast.Attribute) and parent.attr in ("item", "detach", "tolist", "numpy", "data", "numel", "size", "shape"):
                ok = False
                break
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in ("float", "int", "len"):
                ok = False
                break
            cur = parent
        if ok:
            return True
    return False


def _returned(facts, node: ast.AST) -> bool:
    """Is ``node`` returned (or yielded), alone, in a container, or through a method of it (``total.contiguous()``,
    ``total.mean()``)?"""
    cur = facts.parent(node)
    prev = node
    while isinstance(cur, (ast.Tuple, ast.List, ast.Dict, ast.Starred)) or (isinstance(cur, ast.Attribute) and cur.value is prev) or (
            isinstance(cur, ast.Call) and cur.func is prev):
        prev, cur = cur, facts.parent(cur)
    return isinstance(cur, (ast.Return, ast.Yield, ast.YieldFrom))


def _stores_across_iterations_impl(rule, facts):
    seen: set = set()
    # the training steps of this file (functions and methods that call backward()), by name: a store can
    # only outlive a backpropagating loop in a scope that backpropagates or calls one of them
    steps = {f.name for f in facts.walk((ast.FunctionDef, ast.AsyncFunctionDef)) if facts.flow.syntax_of(f)[0]}
    lines = facts.source.lines
    for scope in facts.scopes_matching(_STORE_SYNTAX):
        body = facts.source.text if isinstance(scope, ast.Module) else "".join(lines[scope.lineno - 1 : scope.end_lineno])
        if "backward(" not in body and not any(f"{n}(" in body for n in steps):
            continue
        fl = facts.flow.flow(scope)
        if facts.flow.is_autograd_function_method(fl.node):
            continue
        loops = None
        repeated: Optional[ast.AST] = None  # the loop that calls this method, when it backpropagates and runs again and again
        if fl.backward_sites and isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and fl.owner:
            repeated = _calling_loop(facts, fl.node)
        for ev in fl.events:
            if not ev.mode.enabled or id(ev.node) in seen:
                continue
            if not ev.loops and repeated is None:
                continue
            node: Optional[ast.AST] = None
            value: Optional[ast.expr] = None
            if ev.what == "augassign" and ev.extra == "Add" and isinstance(ev.node, ast.AugAssign) and isinstance(ev.node.target, ast.Attribute):
                node, value = ev.node, ev.node.value  # ``self.epoch_loss += loss``
            elif ev.what == "container_store" and isinstance(ev.node, ast.Call):
                node, value = ev.node, (ev.node.args[0] if ev.node.args else None)  # ``history.append(loss)``
            elif ev.what == "inplace" and ev.extra == "setitem" and isinstance(ev.node, ast.Subscript) and isinstance(ev.node.value, ast.Attribute) and isinstance(ev.stmt, ast.Assign):
                node, value = ev.stmt, ev.stmt.value  # ``self.losses[step] = loss``
            if node is None or value is None or ev.value is None:
                continue
            if not ev.loops:
                # the method itself runs once per iteration of its caller's loop: only what it keeps on the
                # object (``self.history``) outlives the call
                holder = ev.node.value if isinstance(ev.node, ast.Subscript) else (ev.node.target if isinstance(ev.node, ast.AugAssign) else getattr(ev.node.func, "value", None) if isinstance(ev.node, ast.Call) else None)
                root = holder
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if not (isinstance(holder, ast.Attribute) and isinstance(root, ast.Name) and root.id == "self"):
                    continue
            v = ev.value
            if v.leaf or v.kind not in ("tensor", None) or not any(r != "?" and not r.startswith("arg:") for r in v.live):
                continue
            if loops is None:
                loops = _backprop_loops(facts, fl)
            loop = next((lp for lp in reversed(ev.loops) if id(lp) in loops), None) if ev.loops else repeated
            if loop is None or not _is_loss(facts, fl, value) or _detached_after_backward(facts, fl, loop, value):
                continue
            if isinstance(ev.node, ast.AugAssign):
                target: ast.AST = ev.node.target
            elif isinstance(ev.node, ast.Call) and isinstance(ev.node.func, ast.Attribute):
                target = ev.node.func.value
            elif isinstance(ev.node, ast.Subscript):
                target = ev.node.value
            else:
                continue
            if _reset_inside(facts, ev.loops[0] if ev.loops else fl.node, target) or _backpropagated(fl, target, facts):
                continue
            if not ev.loops and _reset_inside(facts, loop, target):
                continue
            seen.add(id(node))
            text = facts.text(value)
            new = f"{text}.detach()" if isinstance(value, SIMPLE) else f"({text}).detach()"
            where = facts.text(target)
            yield rule.finding(
                facts,
                node,
                f"`{where}` keeps `{_short(text)}` with its autograd history across iterations: every iteration's graph stays alive",
                related=[(loop, "this loop backpropagates every iteration")],
                fixes=[partial(_detach_fix, facts, value, new)],
                explanation="A loss tensor still references the graph that produced it; stored across iterations (a running total, "
                "a history list) it keeps every iteration's activations in memory. Store `.item()` or `.detach()` instead.",
            )


def _is_loss(facts, fl, value: ast.AST) -> bool:
    """Does ``value`` name a loss: a name that a backward() of this function backpropagates, or one assigned
    from a call to a training step of this file (a function or method that calls backward() itself)?"""
    names = {n.id for n in walk_nodes(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - {"self"}
    # a name met only as ``loss.detach().item()`` / ``float(loss)`` stores a number, not the loss
    names = {n for n in names if _attached_mention(facts, value, {n})}
    if not names:
        return False
    loss_names = {n.id for s in fl.backward_sites for n in walk_nodes(s.loss_expr) if isinstance(n, ast.Name)}
    if names & loss_names:
        return True
    owner = facts.modules.classes.get(fl.owner or "")
    for name in names:
        for b in facts.semantic.bindings(fl.node, name):
            call = b.value if b.kind in ("assign", "annassign") else None
            if not isinstance(call, ast.Call):
                continue
            f = call.func
            target = None
            if isinstance(f, ast.Name):
                target = facts.flow.functions.get(f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and owner is not None:
                target = facts.modules.method(owner.name, f.attr)
            if target is not None and facts.flow.flow(target).backward_sites:
                return True
    return False


def _detached_after_backward(facts, fl, loop: ast.AST, value: ast.AST) -> bool:
    """Is the stored loss ``X`` rebound to ``X.detach()`` (``.item()``, ``float(X)``) by the statement right after every
    backward of the loop (``if with_backward: X.backward(); X = X.detach()``)? Then an iteration that backpropagates
    stores no graph, and what an iteration that does not backpropagate stores is a graph kept on purpose for one later
    backward (a chunked loss summed by its caller): nothing is kept alive across backpropagating steps."""
    if not isinstance(value, ast.Name):
        return False
    sites = [s for s in fl.backward_sites if any(lp is loop for lp in s.loops)]
    if not sites:
        return False
    for s in sites:
        if not (isinstance(s.loss_expr, ast.Name) and s.loss_expr.id == value.id) or s.stmt is None:
            return False
        nxt = _next_statement(loop, s.stmt)
        if not (isinstance(nxt, ast.Assign) and len(nxt.targets) == 1 and isinstance(nxt.targets[0], ast.Name) and nxt.targets[0].id == value.id):
            return False
        v = nxt.value
        detached = (
            isinstance(v, ast.Call) and not v.args and isinstance(v.func, ast.Attribute) and v.func.attr in ("detach", "item")
            and isinstance(v.func.value, ast.Name) and v.func.value.id == value.id
        ) or (
            isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "float" and len(v.args) == 1
            and isinstance(v.args[0], ast.Name) and v.args[0].id == value.id
        )
        if not detached:
            return False
    return True


def _next_statement(outer: ast.AST, stmt: ast.stmt) -> Optional[ast.stmt]:
    """The statement after ``stmt`` in the block of ``outer`` that holds it (None: the block's last)."""
    for node in walk_nodes(outer):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                for i, st in enumerate(block):
                    if st is stmt:
                        return block[i + 1] if i + 1 < len(block) else None
    return None


def _detach_fix(facts, value: ast.AST, new: str):
    return fix("Store `.detach()`", replace_node(facts, value, new))


def _calling_loop(facts, fn: ast.AST) -> Optional[ast.AST]:
    """A loop of this file that calls method ``fn`` (``trainer.step(x)`` in ``for x in loader``), or None."""
    name = getattr(fn, "name", None)
    if not name or name.startswith("__"):
        return None
    for node in facts.walk((ast.For, ast.While, ast.AsyncFor)):
        for sub in walk_nodes(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == name and not _inside(fn, node):
                return node
    return None


def _reset_inside(facts, loop: ast.AST, target: ast.AST) -> bool:
    """Is the container / total re-created inside the loop (a per-iteration buffer)?"""
    text = facts.text(target)
    for node in walk_nodes(loop):
        if isinstance(node, ast.Assign) and any(facts.text(t) == text for t in node.targets):
            return True
        if isinstance(node, ast.AnnAssign) and node.value is not None and facts.text(node.target) == text:
            return True  # (``stats: list[Stats] = []``)
    return False


def _backpropagated(fl, target: ast.AST, facts) -> bool:
    text = facts.text(target)
    return any(text in facts.text(s.loss_expr) for s in fl.backward_sites)


_STORE_SYNTAX = re.compile(r"\.(?:append|extend|insert)\(|\.\w+\s*\+=|self\.\w+\[[^\]]*\]\s*=[^=]")
