"""GG902 graph-state-carried-across-backward: a recurrent state fed into the next iteration of a loop that
calls ``backward()`` every iteration, still attached to the previous iteration's (freed) graph."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.flow import related
from gradguard.core.model import Applicability, Severity
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

PLAIN_STATE = {"torch.nn.RNN", "torch.nn.GRU", "torch.nn.RNNCell", "torch.nn.GRUCell"}
TUPLE_STATE = {"torch.nn.LSTM", "torch.nn.LSTMCell"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class GraphStateCarriedAcrossBackward(Rule):
    code = "GG902"
    name = "graph-state-carried-across-backward"
    summary = "A state produced from the previous iteration's graph (RNN hidden state, running state) is fed into the next iteration of a loop that calls `backward()` each iteration, without being detached."
    severity = Severity.ERROR
    needs = ("backward", "autograd")
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Finds loops that call `backward()` (without `retain_graph=True`) every iteration and that carry a state from
one iteration to the next through a call that also consumes it: `out, hidden = rnn(x, hidden)`,
`h = cell(x, h)`, `pred = model(x, pred)`. It flags the state when the loss depends on it and nothing in the
loop detaches or re-initializes it (`hidden = hidden.detach()`, `hidden = repackage_hidden(hidden)`,
`h = torch.zeros(...)`, `h.detach_()`). States computed under `no_grad` are not attached to any graph and
stay silent.

## Why is this bad?
`backward()` frees the buffers of the graph it traverses. The next iteration's state still points into that
graph, so the next `backward()` walks back into it and raises
`RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after
they have already been freed)`. Passing `retain_graph=True` hides the error but backpropagates through the
whole history every step (truncated BPTT turns into full BPTT, time and memory grow without bound).

## Example
```python
hidden = torch.zeros(1, batch, 32)
for x, y in batches:
    out, hidden = rnn(x, hidden)
    loss = criterion(head(out), y)
    loss.backward()
```

## Use instead
```python
    out, hidden = rnn(x, hidden.detach())
```

## Fix safety
Passing `hidden.detach()` into the call is safe when the state is a plain tensor (`nn.RNN`, `nn.GRU`,
`nn.RNNCell`, `nn.GRUCell`, or one element of a tuple such as `(h, c)`): the forward values are unchanged and
each backward stops at the start of its own chunk, which is what truncated BPTT means. When the state may be
a tuple (an `nn.LSTM`'s `(h, c)`) or the call is to an unknown module, `.detach()` might not exist on it: no
fix, or an unsafe one, is offered.
"""
    examples = (
        Example(
            name="gru-hidden-across-chunks",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    gru = nn.GRU(input_size=2, hidden_size=5, batch_first=True)
    proj = nn.Linear(5, 2)
    opt = torch.optim.SGD(list(gru.parameters()) + list(proj.parameters()), lr=0.05)
    seq = torch.randn(1, 24, 2)
    state = torch.zeros(1, 1, 5)
    for t0 in range(0, 18, 6):
        chunk = seq[:, t0:t0 + 6]
        out, state = gru(chunk, state)
        loss = (proj(out) - seq[:, t0 + 1:t0 + 7]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"gru": gru, "proj": proj}
""",
            lines=(14,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            name="cell-running-state",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 4)
    readout = nn.Linear(4, 1)
    opt = torch.optim.Adam(list(cell.parameters()) + list(readout.parameters()), lr=1e-2)
    h = torch.zeros(2, 4)
    for step in range(3):
        h = cell(torch.randn(2, 3), h)
        loss = readout(h).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"cell": cell, "readout": readout}
""",
            lines=(12,),
            expect={"error": "Trying to backward through the graph a second time"},
        ),
        Example(
            bad=False,
            name="repackaged-hidden",
            code="""import torch
import torch.nn as nn


def repackage(h):
    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage(v) for v in h)


def main():
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    head = nn.Linear(3, 1)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.1)
    hidden = (torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))
    for _ in range(3):
        hidden = repackage(hidden)
        out, hidden = lstm(torch.randn(4, 1, 2), hidden)
        loss = head(out).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"lstm": lstm, "head": head}
""",
            expect={"grad_ok": ["lstm.weight_ih_l0", "head.weight"]},
        ),
        Example(
            bad=False,
            name="state-reset-each-batch",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    cell = nn.GRUCell(2, 3)
    opt = torch.optim.SGD(cell.parameters(), lr=0.1)
    for batch in range(2):
        h = torch.zeros(4, 3)
        for t in range(5):
            h = cell(torch.randn(4, 2), h)
        loss = h.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"cell": cell}
""",
            expect={"grad_ok": ["cell.weight_ih"]},
        ),
    )

    def check(self, facts):
        seen: set = set()
        for fl in facts.backward_flows:
            if not fl.backward_sites or facts.flow.is_autograd_function_method(fl.node):
                continue
            for site in fl.backward_sites:
                if site.retain_graph or not site.loops or not site.loss.live:
                    continue
                for loop in reversed(site.loops):
                    for assign, name, arg in _carried_states(loop):
                        key = (id(assign), name)
                        if key in seen:
                            continue
                        v = None
                        for t in _target_names(assign):
                            if t.id == name:
                                v = fl.assigned.get(id(t))
                        if v is None or not v.live:
                            continue
                        if not any(related(r, l) for r in v.live for l in site.loss.live if r != "?"):
                            continue
                        if _reset_in_loop(loop, assign, name):
                            continue
                        seen.add(key)
                        fixes = []
                        safety = _fix_safety(facts, fl, assign, name, arg)
                        if safety is not None:
                            fixes.append(lambda arg=arg, unsafe=(safety == "unsafe"): fix(
                                f"Pass `{arg.id}.detach()` (truncate backpropagation at the chunk boundary)",
                                replace_node(facts, arg, f"{arg.id}.detach()"),
                                unsafe=unsafe,
                            ))
                        yield self.finding(
                            facts,
                            arg,
                            f"`{name}` carries the previous iteration's graph into this call, but `backward()` at line {site.node.lineno} frees "
                            f"that graph each iteration: the next backward() raises",
                            related=[(site.node, "backward() frees the graph every iteration here")],
                            fixes=fixes,
                            explanation="The state produced in iteration i is attached to iteration i's graph; iteration i+1 builds on it, so "
                            "its backward() walks into the already-freed graph and raises `RuntimeError: Trying to backward through the graph "
                            "a second time`. Detach the state at the chunk boundary (`hidden.detach()`, the `repackage_hidden` idiom).",
                        )


def _walk_body(stmts):
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, SCOPES):
                stack.append(child)


def _target_names(assign: ast.Assign):
    out = []
    for t in assign.targets:
        for n in ast.walk(t):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.append(n)
    return out


def _state_args(call: ast.Call):
    """Name nodes passed directly (or inside a tuple/list literal) to ``call``."""
    out = []
    for a in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(a, ast.Name):
            out.append(a)
        elif isinstance(a, (ast.Tuple, ast.List)):
            out.extend(e for e in a.elts if isinstance(e, ast.Name))
    return out


def _carried_states(loop):
    for node in _walk_body(loop.body):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        targets = {t.id for t in _target_names(node)}
        for arg in _state_args(node.value):
            if arg.id in targets:
                yield node, arg.id, arg


def _reset_in_loop(loop, assign, name) -> bool:
    for node in _walk_body(loop.body):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            if not any(node is t for t in _target_names(assign)):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("detach_", "zero_", "fill_"):
            base = node.func.value
            if isinstance(base, ast.Name) and base.id == name:
                return True
    # the loop's own target (``for x, h in ...``)
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(loop.target)):
            return True
    return False


def _ctor_of(facts, fl, callee: ast.AST) -> Optional[str]:
    """Qualified constructor of the module called, when it is visible in this file."""
    if isinstance(callee, ast.Name):
        scopes = [fl.node, facts.tree]
        for scope in scopes:
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    for t in node.targets:
                        if isinstance(t, ast.Name) and t.id == callee.id:
                            return facts.imports.qualname(node.value.func)
        return None
    if isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name) and callee.value.id == "self" and fl.owner:
        info = facts.modules.classes.get(fl.owner)
        if info is None:
            return None
        for node in ast.walk(info.node):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr == callee.attr and isinstance(t.value, ast.Name) and t.value.id == "self":
                        return facts.imports.qualname(node.value.func)
    return None


def _fix_safety(facts, fl, assign, name, arg) -> Optional[str]:
    """'safe' / 'unsafe' / None (no fix): ``.detach()`` needs a tensor, never None or a tuple."""
    for node in ast.walk(fl.node):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is None:
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return None
    for a in fl.node.args.args if hasattr(fl.node, "args") else []:
        if a.arg == name:
            return "unsafe"
    parent = None
    for a in [*assign.value.args, *(k.value for k in assign.value.keywords)]:
        if isinstance(a, (ast.Tuple, ast.List)) and any(e is arg for e in a.elts):
            parent = a
    if parent is not None:
        return "safe"  # one element of a (h, c) tuple: a tensor
    q = _ctor_of(facts, fl, assign.value.func) or ""
    if q in PLAIN_STATE:
        return "safe"
    if q in TUPLE_STATE:
        return None
    return "unsafe"
